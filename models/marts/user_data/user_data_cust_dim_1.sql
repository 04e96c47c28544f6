{{ config(
    materialized='table',
    indexes=[{'columns': ['user_data_cust_dim_1_key'], 'unique': True}],
) }}

{# USER_DATA_CUST_DIM_1 (MEASURES.md "User data"): one row per distinct combination of the dim
    columns of the mapping (var user_data_mapping) over all IRF rows, cut to their lengths,
    keyed by user_data_dim_key (deterministic: the same values give the same key on any
    database); the combination of all nulls is always there (the "no user data" member, for
    interactions without an IRF row in ag2_id). A table rebuilt each run from
    int_user_data__irf_values: low-cardinality values make it small, and a combination no row
    uses any more leaves, as in a full build. #}

{%- set dims = user_data_mapping('dim') %}
{%- set dim_columns = dims | map(attribute='column') | list %}


-- the linter renders the mapping empty (no columns), which leaves loops it cannot lay out
-- noqa: disable=LT02,LT09

with

irf_values as (
    select
        {% for column in dim_columns %}
            {{ column }},
        {% endfor %}
        1 as from_rows
    from {{ ref('int_user_data__irf_values') }}
),

{# the values as stored (cut), and the all-null member #}
stored as (
    select
        {% if dims %}
            {{ user_data_stored_columns('dim', 'irf_values') }},
        {% endif %}
        irf_values.from_rows
    from irf_values
    union all
    select
        {% for entry in dims %}
            null::varchar({{ entry['max_length'] }}) as {{ entry['column'] }},
        {% endfor %}
        0 as from_rows
),

combinations as (
    select
        {% for column in dim_columns %}
            {{ column }},
        {% endfor %}
        max(from_rows) as used_by_irf_rows
    from stored
    {% if dims %}
        group by {{ dim_columns | join(', ') }}
    {% endif %}
)

select
    {{ user_data_dim_key('combinations') }} as user_data_cust_dim_1_key,
    {% for column in dim_columns %}
        {{ column }},
    {% endfor %}
    used_by_irf_rows = 1 as used_by_irf_rows
from combinations
