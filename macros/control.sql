{#- The one control table dbt reads (the others are the jobs', pipeline/sql/control.sql): the
    audit key each model was last built at, written by the transform after a build
    (pipeline/control.py record_model_builds) and read by the aggregates' touched-interval
    queries (last_built_audit_key). Made by the on-run-start hook, so that it exists before the
    first model reads it, dbt run on its own too. -#}
{% macro model_builds_relation() -%}
    ctl.ctl_model_build
{%- endmacro %}

{% macro create_model_builds_table() -%}
    {#- not `create schema if not exists`: that needs CREATE on the database even when the schema
        exists, which the transform role (infomart roles init) does not have -#}
    do $ctl$ begin
        if to_regnamespace('ctl') is null then
            create schema ctl;
        end if;
    end $ctl$;
    create table if not exists {{ model_builds_relation() }} (
        model_name text primary key,
        audit_key bigint not null,
        built_at timestamptz not null default clock_timestamp(),
        landed_floor timestamptz
    );
    do $floor$ begin  -- a table made before the column (no lock taken when it is there)
        if not exists (
            select from pg_attribute
            where attrelid = '{{ model_builds_relation() }}'::regclass and attname = 'landed_floor'
        ) then
            alter table {{ model_builds_relation() }} add column landed_floor timestamptz;
        end if;
    end $floor$
{%- endmacro %}
