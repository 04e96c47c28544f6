{{
    config(
        unique_key=['object_type', 'dbid'],
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(config_objects_landed_since_watermark()) }}",
        indexes=[
            {'columns': ['history_key'], 'unique': true},
            {'columns': ['object_type', 'dbid', 'valid_from']},
            {'columns': ['landed_at']},
        ],
    )
}}

{#- Configuration history in configuration time: one row per object per config_version, valid
    from the change's event time to the next version's. Incremental: the objects touched by
    newly landed gca-cfg events (macro config_objects_landed_since_watermark) get their whole
    history recomputed from every version in staging, so late or out-of-order events end in
    the same rows as a full rebuild.
    Versions are ordered by config_version. A version never takes effect before the versions
    below it: valid_from is the latest change time up to it (its own event time, unless a lower
    version has a later one: that contradiction is listed in dq_config_version_anomalies), so no
    range ends before it starts. -#}

with

object_events as (
    select
        events.object_type,
        events.dbid,
        events.config_version,
        events.event_ts,
        events.is_deleted,
        events.attributes,
        events.event_id,
        events.source,
        events.seq,
        events.landed_at
    from {{ ref('stg_events__gca_cfg') }} as events
    {% if is_incremental() %}
        where (events.object_type, events.dbid) in (
            select
                touched.object_type,
                touched.dbid
            from {{ touched_keys() }} as touched
        )
    {% endif %}
),

numbered_copies as (
    select
        object_type,
        dbid,
        config_version,
        event_ts,
        is_deleted,
        attributes,
        event_id,
        landed_at,
        row_number() over (
            partition by object_type, dbid, config_version
            order by event_id asc, source asc, seq asc
        ) as copy_number
    from object_events
),

versions as (
    select
        object_type,
        dbid,
        config_version,
        event_ts,
        is_deleted,
        attributes,
        event_id,
        landed_at,
        -- a delete keeps the attributes of the last upsert before it: count upserts so far
        sum(case when is_deleted then 0 else 1 end) over (
            partition by object_type, dbid
            order by config_version asc
            rows between unbounded preceding and current row
        ) as attributes_group,
        -- in force from the latest change time so far (a version dated before a lower one's
        -- time takes effect at that time)
        max(event_ts) over (
            partition by object_type, dbid
            order by config_version asc
            rows between unbounded preceding and current row
        ) as effective_from
    from numbered_copies
    where copy_number = 1
),

history as (
    select
        {{ infomart_key(['object_type', 'dbid', 'config_version']) }} as history_key,
        object_type,
        dbid,
        config_version,
        effective_from as valid_from,
        lead(effective_from) over (
            partition by object_type, dbid
            order by config_version asc
        ) as valid_to,
        is_deleted,
        first_value(attributes) over (
            partition by object_type, dbid, attributes_group
            order by config_version asc
        ) as attributes,
        event_id,
        landed_at
    from versions
),

final as (
    select
        history_key,
        object_type,
        dbid,
        config_version,
        valid_from,
        valid_to,
        valid_to is null as is_current,
        is_deleted,
        coalesce(
            {{ json_text('attributes', 'name') }},
            {{ json_text('attributes', 'user_name') }},
            {{ json_text('attributes', 'number') }}
        ) as object_name,
        attributes,
        event_id,
        landed_at
    from history
)

select * from final
