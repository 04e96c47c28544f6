{{
    config(
        materialized='incremental',
        incremental_strategy='replace_all',
        indexes=[{'columns': ['group_key'], 'unique': true}],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- GROUP_ (GIM): one row per agent group of the configuration (AgentGroup objects), keyed
    config_object_key('AgentGroup', dbid), plus the unknown member (-1) for memberships whose
    group name resolves to no configured group.
    The name is the current one (a renamed object keeps its key; its names
    over time are in int_config__names). A table: a few hundred objects, rebuilt in one pass. -#}

with

names as (
    select * from {{ ref('int_config__names') }}
    where object_type = 'AgentGroup'
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
        objects.object_key as group_key,
        objects.current_name as group_name,
        'Agent' as group_type,
        objects.dbid as group_cfg_dbid,
        current_versions.is_deleted,
        case when current_versions.is_deleted then current_versions.valid_from end as deleted_ts,
        objects.config_valid_from,
        current_versions.config_version,
        objects.config_landed_at
    from objects
    inner join {{ ref('int_config__current') }} as current_versions
        on current_versions.object_type = 'AgentGroup' and objects.dbid = current_versions.dbid
    union all
    select
        {{ unknown_key() }} as group_key,
        'Unknown' as group_name,
        'Unknown' as group_type,
        null as group_cfg_dbid,
        false as is_deleted,
        null as deleted_ts,
        null as config_valid_from,
        null as config_version,
        null as config_landed_at
)

select * from final
