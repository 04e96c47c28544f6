{{ config(materialized='view') }}

{#- The current version of every configuration object (deleted ones included, marked), the
    relation the audit snapshot snp_config__objects records. -#}

with

history as (
    select * from {{ ref('int_config__history') }}
),

current_versions as (
    select
        object_type,
        dbid,
        config_version,
        valid_from,
        is_deleted,
        object_name,
        attributes
    from history
    where is_current
)

select * from current_versions
