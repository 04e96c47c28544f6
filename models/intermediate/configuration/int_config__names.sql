{{
    config(
        unique_key=['object_type', 'dbid'],
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(touched_config_objects_for_names()) }}",
        indexes=[
            {'columns': ['object_type', 'dbid', 'valid_from'], 'unique': true},
            {'columns': ['object_type', 'object_name', 'valid_from']},
            {'columns': ['object_type', 'original_name']},
            {'columns': ['landed_at']},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- The names of every configuration object over configuration time: one row per run of
    consecutive versions with the same name, valid from the first version of the run to the
    next name (or to the object's deletion; null while current). With the object's key:
    a resource (Person -> Agent, Queue, DN) is keyed resource_key(type, its first name), the
    key facts compute from event names, unless an object of the same type had that first name
    earlier (a reused name): then by its dbid; other objects by object type + dbid.
    Incremental per object: the touched objects (macro touched_config_objects_for_names: those
    with newly landed versions and those sharing a first name with one of their names) are
    recomputed from their whole history. -#}

with

versions as (
    select
        history.object_type,
        history.dbid,
        history.config_version,
        history.valid_from,
        history.valid_to,
        history.is_deleted,
        history.object_name,
        history.landed_at,
        row_number() over (
            partition by history.object_type, history.dbid order by history.config_version
        ) as version_number,
        max(history.landed_at) over (partition by history.object_type, history.dbid) as object_landed_at,
        bool_or(history.is_deleted and history.is_current) over (
            partition by history.object_type, history.dbid
        ) as object_is_deleted
    from {{ ref('int_config__history') }} as history
    {% if is_incremental() %}
        where (history.object_type, history.dbid) in (
            select
                touched.object_type,
                touched.dbid
            from {{ touched_keys() }} as touched
        )
    {% endif %}
),

named_versions as (
    select
        *,
        version_number - row_number() over (
            partition by object_type, dbid, object_name order by config_version
        ) as run_group
    from versions
    where not is_deleted and object_name is not null
),

runs as (
    select
        object_type,
        dbid,
        object_name,
        min(valid_from) as valid_from,
        (array_agg(valid_to order by config_version desc))[1] as valid_to,
        min(config_version) as first_config_version,
        max(object_landed_at) as landed_at,
        bool_or(object_is_deleted) as object_is_deleted
    from named_versions
    group by object_type, dbid, object_name, run_group
),

objects as (
    select
        object_type,
        dbid,
        (array_agg(object_name order by valid_from, first_config_version))[1] as original_name,
        min(valid_from) as first_valid_from,
        max(landed_at) as landed_at
    from runs
    group by object_type, dbid
),

ranked_objects as (
    select
        *,
        {{ config_resource_type('object_type') }} as resource_type,
        row_number() over (
            partition by object_type, original_name order by first_valid_from, dbid
        ) as name_rank,
        max(landed_at) over (partition by object_type, original_name) as key_landed_at
    from objects
),

keyed_objects as (
    select
        object_type,
        dbid,
        original_name,
        resource_type,
        key_landed_at,
        case
            when resource_type is null then {{ infomart_key(['object_type', 'dbid']) }}
            when name_rank = 1 then {{ infomart_key(['resource_type', 'original_name']) }}
            else {{ resource_key_by_dbid('resource_type', 'dbid') }}
        end as object_key
    from ranked_objects
),

final as (
    select
        runs.object_type,
        runs.dbid,
        keyed_objects.resource_type,
        runs.object_name,
        runs.valid_from,
        runs.valid_to,
        runs.valid_to is null and not runs.object_is_deleted as is_current_name,
        keyed_objects.original_name,
        keyed_objects.object_key,
        coalesce(
            keyed_objects.resource_type is not null
            and keyed_objects.object_key <> {{ infomart_key(['keyed_objects.resource_type', 'runs.object_name']) }},
            false
        ) as is_alias,
        runs.object_is_deleted,
        runs.landed_at,
        keyed_objects.key_landed_at
    from runs
    inner join keyed_objects on runs.object_type = keyed_objects.object_type and runs.dbid = keyed_objects.dbid
)

select * from final
