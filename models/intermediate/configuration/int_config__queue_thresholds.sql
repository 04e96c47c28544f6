{{
    config(
        materialized='table',
        indexes=[{'columns': ['resource_key', 'valid_from']}],
    )
}}

{#- The service-level and short-abandon thresholds of each queue over configuration time, from
    the Queue objects' attributes `service_level_threshold` and `short_abandon_threshold`
    (seconds) in int_config__history: a version is in force from its valid_from to the next
    version's. A version without the attribute, a deleted queue, and any instant before the
    queue's first version use the settings (var service_level_seconds, short_abandon_seconds).
    RESOURCE_KEY is the queue's key in configuration (the one MSF carries). MSF's
    SHORT_ABANDONED_FLAG and the ag2_queue rows use it. -#}

with

history as (
    select
        object_type,
        dbid,
        valid_from,
        valid_to,
        is_deleted,
        attributes,
        landed_at
    from {{ ref('int_config__history') }}
    where object_type = 'Queue'
),

queue_keys as (
    select
        dbid,
        max(object_key) as resource_key
    from {{ ref('int_config__names') }}
    where object_type = 'Queue'
    group by dbid
),

final as (
    select
        queue_keys.resource_key,
        history.dbid as queue_cfg_dbid,
        history.valid_from,
        history.valid_to,
        case
            when not history.is_deleted and jsonb_typeof(history.attributes -> 'service_level_threshold') = 'number'
                then cast(history.attributes ->> 'service_level_threshold' as numeric)
            else {{ var('service_level_seconds') }}
        end as service_level_threshold,
        case
            when not history.is_deleted and jsonb_typeof(history.attributes -> 'short_abandon_threshold') = 'number'
                then cast(history.attributes ->> 'short_abandon_threshold' as numeric)
            else {{ var('short_abandon_seconds') }}
        end as short_abandon_threshold,
        history.landed_at
    from history
    inner join queue_keys on history.dbid = queue_keys.dbid
)

select * from final
