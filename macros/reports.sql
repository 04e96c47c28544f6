{#- The report views (models/reports) read the aggregates at the five report levels. -#}

{#- One select of every row of `ag2_<family>_<level>` at the report levels (subhr, hour, day,
    week, month), each with its `report_level`. A report query filters on report_level;
    PostgreSQL then reads only that level's relation (the other branches of the union are
    constant-false and skipped). -#}
{% macro report_level_rows(family) -%}
    {% for level in ['subhr', 'hour', 'day', 'week', 'month'] %}
    {% if not loop.first %}union all{% endif %}
    select
        '{{ level }}' as report_level,
        level_rows.*
    from {{ ref('ag2_' ~ family ~ '_' ~ level) }} as level_rows
    {% endfor %}
{%- endmacro %}

{#- An IRF row of an agent party of a non-consultation call. -#}
{% macro non_consult_agent_row(rows) -%}
    {{ rows }}.agent_id is not null and {{ rows }}.resource_role not in ('ReceivedConsult', 'InitiatedConsult')
{%- endmacro %}

{#- One select: the rows of an agent family (`subject_kind` 'agent', keyed by resource_key) and
    of its group family ('agent_group', keyed by group_key) at the report levels, each with its
    `subject_kind` and `subject_key`. -#}
{% macro report_subject_rows(agent_family) -%}
    select
        'agent' as subject_kind,
        agent_rows.resource_key as subject_key,
        agent_rows.*
    from ({{ report_level_rows(agent_family) }}) as agent_rows
    union all
    select
        'agent_group' as subject_kind,
        group_rows.group_key as subject_key,
        group_rows.*
    from ({{ report_level_rows(agent_family ~ '_grp') }}) as group_rows
{%- endmacro %}
