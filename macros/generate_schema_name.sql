{#- Custom schemas are used as they are (staging, intermediate, infomart, ...), not prefixed
    with the target schema: one database per tenant, fixed schema names for reports. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
