{{ config(materialized='view') }}

{# User-data values longer than their column (MEASURES.md "User data": cut, counted, reported):
    one row per column of the mapping (var user_data_mapping), with how many IRF rows carried a
    longer value, the longest length seen and one such row to chase upstream. Zero rows cut is a
    row too, so the report shows every mapped column. #}

{%- set mapping = user_data_mapping() %}

with

irf_values as (
    select *
    from {{ ref('int_user_data__irf_values') }}
),

{% if mapping %}

    measured as (
        {% for entry in mapping %}
            select
                '{{ entry["column"] }}' as column_name,
                '{{ entry["key"] | replace("'", "''") }}' as user_data_key,
                '{{ entry["kind"] }}' as user_data_kind,
                {{ entry['max_length'] }} as max_length,
                count(*) filter (where length({{ entry['column'] }}) > {{ entry['max_length'] }}) as values_cut,
                coalesce(max(length({{ entry['column'] }})), 0) as longest_value_length,
                min(interaction_resource_id) filter (where length({{ entry['column'] }}) > {{ entry['max_length'] }})
                    as example_interaction_resource_id
            from irf_values
            {{ "union all" if not loop.last }}
        {% endfor %}
    )

{% else %}

    measured as (
        select
            null::text as column_name,
            null::text as user_data_key,
            null::text as user_data_kind,
            null::integer as max_length,
            null::bigint as values_cut,
            null::integer as longest_value_length,
            null::bigint as example_interaction_resource_id
        from irf_values
        where false
    )

{% endif %}

select * from measured
