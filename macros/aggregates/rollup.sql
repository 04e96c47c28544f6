{#- The roll-up of one aggregate level into the next (AGGREGATES.md). -#}

{#- One query: the rows of `lower` (a finer level of the same family) summed into the
    intervals of `level`; on an incremental cycle only the touched intervals. Milliseconds are
    summed, never rounded seconds; maxima are maxima; ratios are recomputed from the sums. -#}
{% macro ag2_rollup(family, lower, level, incremental=true) -%}
    {%- set grain = ag2_family_columns(family, 'grain').split() -%}
    {%- set summed_columns = ag2_family_columns(family, 'counts').split()
        + ag2_family_columns(family, 'ms_columns').split() -%}
    {%- set max_columns = ag2_family_columns(family, 'max_ms_columns').split() -%}
    with

    lower_rows as (
        select
            lower_rows.*,
            {{ ag2_interval_start(level, 'lower_rows.interval_start_ts') }} as rollup_start_ts
        from {{ lower }} as lower_rows
        {{ ag2_join_touched_intervals('lower_rows.interval_start_ts') if incremental }}
    ),

    summed as (
        select
            lower_rows.{{ grain | join(', lower_rows.') }},
            {% for column in summed_columns %}
                sum(lower_rows.{{ column }}) as {{ column }},
            {% endfor %}
            lower_rows.rollup_start_ts as interval_start_ts,
            {% for column in max_columns %}
                max(lower_rows.{{ column }}) as {{ column }},
            {% endfor %}
            max(lower_rows.last_landed_at) as last_landed_at
        from lower_rows
        group by lower_rows.rollup_start_ts, lower_rows.{{ grain | join(', lower_rows.') }}
    )

    {{ ag2_final_columns(family) }}
{%- endmacro %}
