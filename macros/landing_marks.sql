{#- High-water marks of sparse incremental models. The recipe (macros/incremental.sql) reads a
    model's high-water mark from its own rows (high_water_mark). A model where most touched keys
    end with no rows (int_voice__event_anomalies: most calls have no anomaly) would keep an old
    mark and re-read the whole history every cycle, so it records the latest landing it has
    read in `incremental_landing_marks` (one row per model, in the model's schema) with the
    post-hook record_landing_mark(), and reads it back with since_landing_mark(). -#}

{#- The model's recorded landing mark as a literal (like high_water_mark), read when the model
    is compiled; -infinity when none is recorded. -#}
{% macro landing_mark() -%}
    {%- if execute and is_incremental()
        and adapter.get_relation(this.database, this.schema, 'incremental_landing_marks') is not none -%}
        {%- set query -%}
            select coalesce(max(landed_through), '-infinity'::timestamptz)::text
            from {{ this.schema }}.incremental_landing_marks
            where model_name = '{{ this.identifier }}'
        {%- endset -%}
        '{{ run_query(query).columns[0].values()[0] }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

{#- Rows whose `landed_column` is within the look-back window of the recorded landing mark
    (everything on a full build). -#}
{% macro since_landing_mark(landed_column) -%}
    {% if is_incremental() %}
        {{ landed_since(landed_column, landing_mark()) }}
    {% else %}
        true
    {% endif %}
{%- endmacro %}

{#- Post-hook: record the latest landing this run has read (`landed_sql`: a scalar query). A full
    build replaces the mark; a cycle only moves it forward. -#}
{% macro record_landing_mark(landed_sql) -%}
    create table if not exists {{ this.schema }}.incremental_landing_marks (
        model_name text primary key,
        landed_through timestamptz not null
    );
    insert into {{ this.schema }}.incremental_landing_marks as marks (model_name, landed_through)
    select '{{ this.identifier }}', coalesce(({{ landed_sql }}), '-infinity'::timestamptz)
    on conflict (model_name) do update set landed_through =
    {%- if flags.FULL_REFRESH %} excluded.landed_through
    {%- else %} greatest(marks.landed_through, excluded.landed_through)
    {%- endif %}
{%- endmacro %}
