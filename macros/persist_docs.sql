{#- dbt writes the YAML descriptions as comments on every relation and column after each build
    of a model: two catalog queries and one comment per column, about 0.2 s of a 0.35 s node
    in a cycle. A cycle of `infomart run` that builds only what changed runs on an unchanged
    project (same fingerprint, pipeline/freshness.py), so the comments of the last build still
    hold; pipeline/transform.py then sets DBT_INFOMART_DOCS_UNCHANGED=1 and they are not written
    again. Every other build (the first, a changed project, a full refresh, a plain `dbt build`)
    writes them (DECISIONLOG.md). -#}
{% macro postgres__persist_docs(relation, model, for_relation, for_columns) -%}
    {% if env_var('DBT_INFOMART_DOCS_UNCHANGED', '0') != '1' %}
        {% do default__persist_docs(relation, model, for_relation, for_columns) %}
    {% endif %}
{%- endmacro %}
