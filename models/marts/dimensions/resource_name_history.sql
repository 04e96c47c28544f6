{{
    config(
        materialized='table',
        indexes=[{'columns': ['resource_key', 'valid_from']}],
        post_hook=[
            "create index on {{ this }} (resource_type, resource_name, valid_from) where is_alias",
            "{{ analyze_if_stale() }}",
        ]
    )
}}

{#- Every name every configured agent (user name), DN (number) and queue ever had, with its
    validity in configuration time and the one RESOURCE_KEY it stands for. A table: one row
    per name run of a resource, rebuilt from int_config__names (which is incremental) in one
    pass; the facts resolve their names through its is_alias rows (macro renamed_resources).
    The partial index on the alias rows is a hook (dbt's indexes config has no predicate),
    unnamed: the table is new at every build, and a fixed name would still be taken by the
    previous table's index while dbt swaps the tables. -#}

with

names as (
    select * from {{ ref('int_config__names') }}
    where resource_type is not null
),

final as (
    select
        object_key as resource_key,
        resource_type,
        object_name as resource_name,
        dbid as resource_cfg_dbid,
        object_type as resource_cfg_type,
        original_name,
        valid_from,
        valid_to,
        is_current_name,
        is_alias,
        bool_or(is_alias) over (partition by object_type, dbid) as object_has_alias,
        object_is_deleted as is_deleted,
        landed_at,
        key_landed_at
    from names
)

select * from final
