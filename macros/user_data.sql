{#- User data (MEASURES.md "User data"): the declarative mapping of dbt_project.yml
    (var `user_data_mapping`) read, checked and completed in one place. Every user-data model
    takes its columns from here, so adding a key to the mapping needs no code.
    (The noqa below: sqlfluff's jinja tracer lints two of these macro bodies as if they were
    rendered and asks them to be unindented; the models that call them are linted rendered.) -#}
-- noqa: disable=LT02

{#- The mapped keys, as a SQL list of literals (never empty: a mapping without keys reads none). -#}
{% macro user_data_key_list() -%}
    {%- set keys = [] -%}
    {%- for entry in user_data_mapping() if entry['key'] not in keys -%}
        {%- do keys.append(entry['key']) -%}
    {%- endfor -%}
    {%- if keys -%}
        ({% for key in keys %}'{{ key | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %})
    {%- else -%}
        (null::text)
    {%- endif -%}
{%- endmacro %}

{#- The `kind` columns as they are stored: the value cut to the column's length. -#}
{% macro user_data_stored_columns(kind, alias) -%}
    {%- for entry in user_data_mapping(kind) %}
        cast(left({{ alias }}.{{ entry['column'] }}, {{ entry['max_length'] }}) as varchar({{ entry['max_length'] }}))
            as {{ entry['column'] }}{{ "," if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- USER_DATA_CUST_DIM_1_KEY of a combination of dim values (already cut): deterministic over the
    dim columns in mapping order; `alias` none gives the key of the all-null combination (the
    "no user data" member). -#}
{% macro user_data_dim_key(alias) -%}
    {%- set parts = ["'user_data_cust_dim_1'"] -%}
    {%- for entry in user_data_mapping('dim') -%}
        {%- if alias is none -%}
            {%- do parts.append("'null'") -%}
        {%- else -%}
            {%- do parts.append("coalesce('v:' || " ~ alias ~ "." ~ entry['column'] ~ ", 'null')") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ infomart_key(parts) }}
{%- endmacro %}

{#- The body of an IRF user-data mart (IRF_USER_DATA_GEN_1, IRF_USER_DATA_CUST_1 or
    IRF_USER_DATA_KEYS): one row per IRF row of int_user_data__irf_values, the touched threads on
    an incremental cycle; `kind` gen or cust: the mapped columns of that kind, cut to their
    length; `keys`: USER_DATA_CUST_DIM_1_KEY of the row's (cut) dim values. -#}
{% macro user_data_mart(kind) -%}
    with

    irf_values as (
        select irf_values.*
        from {{ ref('int_user_data__irf_values') }} as irf_values
        {% if is_incremental() %}
            where
                irf_values.media_server_root_ixn_id in (
                    select touched.media_server_root_ixn_id from {{ touched_keys() }} as touched
                )
        {% endif %}
    ),

    stored as (
        select
            {{ user_data_row_columns() }},
            {{ date_time_key('start_ts') }} as start_date_time_key,
            {%- if user_data_mapping('dim' if kind == 'keys' else kind) %}
                {{ user_data_stored_columns('dim' if kind == 'keys' else kind, 'irf_values') }},
            {%- endif %}
            last_landed_at
        from irf_values
    )

    select
        {{ user_data_row_columns() }},
        start_date_time_key,
        {%- if kind == 'keys' %}
            {{ user_data_dim_key('stored') }} as user_data_cust_dim_1_key,
        {%- else %}
            {%- for entry in user_data_mapping(kind) %}
                {{ entry['column'] }},
            {%- endfor %}
        {%- endif %}
        last_landed_at,
        {{ audit_key_columns() }}
    from stored
{%- endmacro %}

{#- The IRF row's identity columns every user-data mart starts with. -#}
{% macro user_data_row_columns() -%}
    interaction_resource_id, interaction_id, media_server_ixn_id, media_server_root_ixn_id, start_ts
{%- endmacro %}

{#- The config of an IRF user-data mart: recomputed per call thread from the rows of
    int_user_data__irf_values landed since its high-water mark. -#}
{% macro user_data_mart_config() -%}
    {{ config(
        unique_key='media_server_root_ixn_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(user_data_threads_landed(ref('int_user_data__irf_values'))) }}",
        indexes=[
            {'columns': ['interaction_resource_id'], 'unique': True},
            {'columns': ['media_server_root_ixn_id']},
            {'columns': ['start_ts']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=["{{ analyze_if_stale() }}"],
    ) }}
{%- endmacro %}
