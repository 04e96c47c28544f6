{#- The report views (models/reports) read the aggregates at the five report levels. -#}

{#- The levels a report offers, in the order of the report's level filter. -#}
{% macro report_levels() -%}
    {{ return(['subhr', 'hour', 'day', 'week', 'month']) }}
{%- endmacro %}

{#- One select of every row of `ag2_<family>_<level>` over the report levels, each with its
    `report_level`. A report query filters on report_level; PostgreSQL then reads only that
    level's table (the other branches of the union are constant-false and skipped). -#}
{% macro report_level_rows(family) -%}
    {%- for level in report_levels() %}
    select
        '{{ level }}' as report_level,
        level_rows.*
    from {{ ref('ag2_' ~ family ~ '_' ~ level) }} as level_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
