{#- No negative count or duration in any of `columns` (AGGREGATES.md). -#}
{% test ag2_no_negative(model, columns) %}
    select *
    from {{ model }}
    where {% for column in columns %}{% if not loop.first %} or {% endif %}{{ column }} < 0{% endfor %}
{% endtest %}
