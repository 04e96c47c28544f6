{#- The roll-up of one aggregate level into the next (AGGREGATES.md). -#}

{#- One query: the rows of `lower` (a finer level of the same family) summed into the
    intervals of `level`; on an incremental cycle only the touched intervals. Milliseconds are
    summed, never rounded seconds; maxima are maxima; ratios are recomputed from the sums. -#}
{% macro ag2_rollup(family, lower, level, incremental=true) -%}
    {%- set grain = ag2_family_columns(family, 'grain').split() -%}
    with

    lower_rows as (
        select lower_rows.*
        from {{ lower }} as lower_rows
        {% if incremental and is_incremental() %}
            inner join {{ touched_keys() }} as touched
                on
                    lower_rows.interval_start_ts >= touched.interval_start_ts
                    and lower_rows.interval_start_ts < touched.interval_end_ts
        {% endif %}
    ),

    summed as (
        select
            {{ ag2_interval_start(level, 'lower_rows.interval_start_ts') }} as interval_start_ts,
            {% for column in grain %}
                lower_rows.{{ column }},
            {% endfor %}
            {% for column in ag2_family_columns(family, 'counts').split() %}
                sum(lower_rows.{{ column }}) as {{ column }},
            {% endfor %}
            {% for column in ag2_family_columns(family, 'ms').split() %}
                sum(lower_rows.{{ column }}_ms) as {{ column }}_ms,
            {% endfor %}
            {% for column in ag2_family_columns(family, 'max_ms').split() %}
                max(lower_rows.{{ column }}_ms) as {{ column }}_ms,
            {% endfor %}
            max(lower_rows.last_landed_at) as last_landed_at
        from lower_rows
        group by
            {{ ag2_interval_start(level, 'lower_rows.interval_start_ts') }}
            {%- for column in grain %}, lower_rows.{{ column }}{% endfor %}
    )

    {{ ag2_final_columns(family) }}
{%- endmacro %}
