{#- Fails for every row of the model where `expression` (SQL over its columns) is not true. -#}
{% test expression_holds(model, expression) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}
