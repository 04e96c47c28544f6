{{
    config(
        materialized='incremental',
        incremental_strategy='replace_all',
        indexes=[
            {'columns': ['resource_key'], 'unique': true},
            {'columns': ['resource_type', 'resource_name']},
            {'columns': ['resource_cfg_type', 'resource_cfg_dbid']},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- RESOURCE_ (GIM): one row per agent, DN and queue, from configuration and from events,
    plus the unknown member (-1). A configured object is keyed resource_key(type, its first
    name) (resource_name_history), the key facts compute from the names in events, so facts
    need no lookup; a renamed object keeps that key and its current name is RESOURCE_NAME.
    A name seen in events gets its own row, resource_key(type, name), unless every use of it
    resolves to a configured object's later name (macro renamed_resources); until its
    configuration lands that row has no configuration columns (configured_flag 0), and when
    it lands the same row (same key) gets them. One row per resource, recomputed whole from
    the incremental int_config__seen_resources and int_config__names and replaced in place
    (strategy replace_all: the views that read it stay). -#}

with

names as (
    select * from {{ ref('resource_name_history') }}
),

objects as (
    select
        resource_key,
        resource_type,
        resource_cfg_type,
        resource_cfg_dbid,
        (array_agg(resource_name order by valid_from desc))[1] as resource_name,
        min(valid_from) as config_valid_from,
        max(landed_at) as config_landed_at
    from names
    group by resource_key, resource_type, resource_cfg_type, resource_cfg_dbid
),

configured as (
    select
        objects.resource_key,
        objects.resource_type,
        case objects.resource_type
            when 'Agent' then 'Agent'
            when 'Queue' then 'VirtualQueue'
            else {{ json_text('current_versions.attributes', 'type') }}
        end as resource_subtype,
        objects.resource_name,
        objects.resource_cfg_type,
        objects.resource_cfg_dbid,
        case
            when objects.resource_type = 'Agent'
                then {{ json_text('current_versions.attributes', 'user_name') }}
        end as user_name,
        case
            when objects.resource_type = 'Agent'
                then {{ json_text('current_versions.attributes', 'employee_id') }}
        end as employee_id,
        case
            when objects.resource_type = 'Agent'
                then {{ json_text('current_versions.attributes', 'first_name') }}
        end as agent_first_name,
        case
            when objects.resource_type = 'Agent'
                then {{ json_text('current_versions.attributes', 'last_name') }}
        end as agent_last_name,
        current_versions.is_deleted,
        case when current_versions.is_deleted then current_versions.valid_from end as deleted_ts,
        objects.config_valid_from,
        current_versions.config_version,
        objects.config_landed_at
    from objects
    inner join {{ ref('int_config__current') }} as current_versions
        on
            objects.resource_cfg_type = current_versions.object_type
            and objects.resource_cfg_dbid = current_versions.dbid
),

seen as (
    select * from {{ ref('int_config__seen_resources') }}
),

renamed as (
    {{ renamed_resources() }}
),

seen_with_own_key as (
    -- a seen name needs a row of its own unless all its voice-party uses (first to last)
    -- resolve through one renamed-name row and no fact that does not resolve names used it
    select
        case
            when seen.resource_type = 'Agent' then {{ resource_key('Agent', 'seen.resource_name') }}
            when seen.resource_type = 'Queue' then {{ resource_key('Queue', 'seen.resource_name') }}
            else {{ resource_key('DN', 'seen.resource_name') }}
        end as resource_key,
        seen.resource_type,
        seen.resource_subtype,
        seen.resource_name,
        seen.last_landed_at as seen_landed_at
    from seen
    where
        seen.unresolved_use
        or not exists (
            select 1
            from renamed
            where
                renamed.resource_type = seen.resource_type
                and renamed.resource_name = seen.resource_name
                and seen.first_used_ts >= renamed.valid_from
                and (seen.last_used_ts < renamed.valid_to or renamed.valid_to is null)
        )
),

resources as (
    select
        coalesce(configured.resource_key, seen_with_own_key.resource_key) as resource_key,
        coalesce(configured.resource_type, seen_with_own_key.resource_type) as resource_type,
        coalesce(configured.resource_subtype, seen_with_own_key.resource_subtype) as resource_subtype,
        coalesce(configured.resource_name, seen_with_own_key.resource_name) as resource_name,
        case when configured.resource_key is not null then 1 else 0 end as configured_flag,
        configured.resource_cfg_type,
        configured.resource_cfg_dbid,
        configured.user_name,
        configured.employee_id,
        configured.agent_first_name,
        configured.agent_last_name,
        coalesce(configured.is_deleted, false) as is_deleted,
        configured.deleted_ts,
        configured.config_valid_from,
        configured.config_version,
        seen_with_own_key.seen_landed_at,
        configured.config_landed_at
    from configured
    full outer join seen_with_own_key on configured.resource_key = seen_with_own_key.resource_key
    union all
    select
        {{ unknown_key() }} as resource_key,
        'Unknown' as resource_type,
        'Unknown' as resource_subtype,
        'Unknown' as resource_name,
        0 as configured_flag,
        null as resource_cfg_type,
        null as resource_cfg_dbid,
        null as user_name,
        null as employee_id,
        null as agent_first_name,
        null as agent_last_name,
        false as is_deleted,
        null as deleted_ts,
        null as config_valid_from,
        null as config_version,
        null as seen_landed_at,
        null as config_landed_at
)

select * from resources
