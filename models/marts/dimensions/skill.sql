{{
    config(
        materialized='table',
        indexes=[{'columns': ['skill_key'], 'unique': true}],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- SKILL (GIM): one row per skill of the configuration (Skill objects), keyed
    config_object_key('Skill', dbid), plus the unknown member (-1) for skill names that
    resolve to no configured skill.
    The name is the current one (a renamed object keeps its key; its names
    over time are in int_config__names). A table: a few hundred objects, rebuilt in one pass. -#}

with

names as (
    select * from {{ ref('int_config__names') }}
    where object_type = 'Skill'
),

objects as (
    select
        object_key,
        dbid,
        (array_agg(object_name order by valid_from desc))[1] as current_name,
        min(valid_from) as config_valid_from,
        max(landed_at) as config_landed_at
    from names
    group by object_key, dbid
),

final as (
    select
        objects.object_key as skill_key,
        objects.current_name as skill_name,
        objects.dbid as skill_cfg_dbid,
        current_versions.is_deleted,
        case when current_versions.is_deleted then current_versions.valid_from end as deleted_ts,
        objects.config_valid_from,
        current_versions.config_version,
        objects.config_landed_at
    from objects
    inner join {{ ref('int_config__current') }} as current_versions
        on current_versions.object_type = 'Skill' and objects.dbid = current_versions.dbid
    union all
    select
        {{ unknown_key() }} as skill_key,
        'Unknown' as skill_name,
        null as skill_cfg_dbid,
        false as is_deleted,
        null as deleted_ts,
        null as config_valid_from,
        null as config_version,
        null as config_landed_at
)

select * from final
