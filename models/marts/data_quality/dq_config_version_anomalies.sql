{{ config(materialized='view') }}

{#- Configuration versions whose change time contradicts their config_version: a higher version
    changed earlier than a lower one of the same object. int_config__history orders the versions
    by config_version and lets such a version take effect at the lower version's later time, so
    no range ends before it starts and the build goes on; this view says which versions they
    are, so they can be chased upstream (a writer that set a wrong change time, clocks). -#}

with

history as (
    select
        object_type,
        dbid,
        config_version,
        valid_from,
        object_name,
        event_id,
        landed_at
    from {{ ref('int_config__history') }}
),

change_times as (
    select
        event_id,
        event_ts as changed_at
    from {{ ref('stg_events__gca_cfg') }}
),

versions as (
    select
        history.object_type,
        history.dbid,
        history.config_version,
        history.valid_from,
        history.object_name,
        history.event_id,
        history.landed_at,
        change_times.changed_at
    from history
    inner join change_times on history.event_id = change_times.event_id
),

contradictions as (
    select
        object_type,
        dbid,
        config_version,
        valid_from,
        object_name,
        event_id,
        landed_at,
        changed_at
    from versions
    where changed_at < valid_from
),

later_dated as (
    -- the highest lower version changed at the time the contradicting one takes effect
    select
        contradictions.object_type,
        contradictions.dbid,
        contradictions.config_version,
        max(lower_versions.config_version) as lower_config_version
    from contradictions
    inner join versions as lower_versions
        on
            contradictions.object_type = lower_versions.object_type
            and contradictions.dbid = lower_versions.dbid
            and contradictions.config_version > lower_versions.config_version
            and contradictions.valid_from = lower_versions.changed_at
    group by contradictions.object_type, contradictions.dbid, contradictions.config_version
),

final as (
    select
        contradictions.object_type,
        contradictions.dbid,
        contradictions.object_name,
        contradictions.config_version,
        contradictions.changed_at,
        later_dated.lower_config_version,
        contradictions.valid_from as lower_changed_at,
        'changed before lower config_version ' || later_dated.lower_config_version
        || ': in force from that version''s change time' as anomaly,
        contradictions.event_id,
        contradictions.landed_at
    from contradictions
    inner join later_dated
        on
            contradictions.object_type = later_dated.object_type
            and contradictions.dbid = later_dated.dbid
            and contradictions.config_version = later_dated.config_version
)

select * from final
