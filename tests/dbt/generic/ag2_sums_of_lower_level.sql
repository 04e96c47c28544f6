{#- AGGREGATES.md: the counts (and exact milliseconds) of a level equal the sums of the level
    below over the same intervals. Compares the totals per interval of `model` (level `level`)
    with `lower` rolled up; returns the intervals that differ. -#}
{% test ag2_sums_of_lower_level(model, lower, level, columns) %}
    with

    lower_totals as (
        select
            {{ ag2_interval_start(level, 'interval_start_ts') }} as interval_start_ts,
            {% for column in columns %}
                sum({{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
            {% endfor %}
        from {{ lower }}
        group by {{ ag2_interval_start(level, 'interval_start_ts') }}
    ),

    level_totals as (
        select
            interval_start_ts,
            {% for column in columns %}
                sum({{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
            {% endfor %}
        from {{ model }}
        group by interval_start_ts
    )

    select
        coalesce(level_totals.interval_start_ts, lower_totals.interval_start_ts) as interval_start_ts
    from level_totals
    full outer join lower_totals on level_totals.interval_start_ts = lower_totals.interval_start_ts
    where
        {% for column in columns %}
            {% if not loop.first %}or {% endif %}level_totals.{{ column }} is distinct from lower_totals.{{ column }}
        {% endfor %}
{% endtest %}
