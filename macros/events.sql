{#- Shared building blocks of the staging models over the raw event tables. -#}

{#- Field of a jsonb event as text. Kept in one place so a port to another engine changes one macro. -#}
{% macro json_text(column, key) -%}
    {{ column }} ->> '{{ key }}'
{%- endmacro %}

{#- Field of a jsonb event as jsonb (objects and arrays). -#}
{% macro json_value(column, key) -%}
    {{ column }} -> '{{ key }}'
{%- endmacro %}

{#- Raw rows to (re)process: everything on a full build; on an incremental run, the rows
    landed since the model's high-water mark minus the look-back window. -#}
{% macro landed_since_watermark(relation) -%}
    select
        payload,
        landed_at
    from {{ relation }}
    {% if is_incremental() %}
        where landed_at >= {{ high_water_mark('landed_at') }} - interval '{{ var("lookback_minutes") }} minutes'
    {% endif %}
{%- endmacro %}

{#- The envelope columns of EVENTS.md, typed. -#}
{% macro envelope_columns(column='payload') -%}
    {{ json_text(column, 'id') }} as event_id,
    {{ json_text(column, 'tenant') }} as tenant,
    {{ json_text(column, 'source') }} as source,
    ({{ json_text(column, 'seq') }})::bigint as seq,
    ({{ json_text(column, 'ts') }})::timestamptz as event_ts,
    {{ json_text(column, 'type') }} as event_type,
    ({{ json_text(column, 'v') }})::integer as contract_version
{%- endmacro %}

{#- One row per logical event (event_id), whichever source, replay or archive it came
    from. The copy kept is chosen by (source, seq) so that every database fed the same
    events keeps the same copy, whatever the arrival order; on incremental runs the
    copies already kept compete with the new ones. -#}
{% macro keep_one_copy(typed_cte) -%}
    {{ return(adapter.dispatch('keep_one_copy', 'infomart')(typed_cte)) }}
{%- endmacro %}

{% macro postgres__keep_one_copy(typed_cte) -%}
    with

    candidates as (
        select * from {{ typed_cte }}
    {% if is_incremental() %}
        union all
        select kept.* from {{ this }} as kept
        where kept.event_id in (select new_copy.event_id from {{ typed_cte }} as new_copy)
    {% endif %}
    )

    select distinct on (event_id) *
    from candidates
    order by event_id asc, source asc, seq asc
{%- endmacro %}

{% macro default__keep_one_copy(typed_cte) -%}
    {{ exceptions.raise_compiler_error(
        "keep_one_copy has no implementation for adapter '" ~ adapter.type() ~ "': add one in macros/events.sql"
    ) }}
{%- endmacro %}
