{#- Shared building blocks of the staging models over the raw event tables. -#}

{#- Field of a jsonb event as text. Kept in one place so a port to another engine changes one macro. -#}
{% macro json_text(column, key) -%}
    {{ column }} ->> '{{ key }}'
{%- endmacro %}

{#- Field of a jsonb event as jsonb (objects and arrays). -#}
{% macro json_value(column, key) -%}
    {{ column }} -> '{{ key }}'
{%- endmacro %}

{#- The raw rows of a source landed since the model's high-water mark minus the look-back
    window (all of them on a full build). -#}
{% macro landed_window(source_name) -%}
    {{ source('events', source_name) }}
    {% if is_incremental() %}
        where {{ landed_since('landed_at', high_water_mark('landed_at')) }}
    {% endif %}
{%- endmacro %}

{#- Raw rows to (re)process (landed_window), each with its discard_reason (null: usable); the
    staging model keeps the usable ones, save_discards the others. -#}
{% macro landed_since_watermark(source_name) -%}
    select
        payload,
        landed_at,
        {{ discard_reason(source_name) }} as discard_reason
    from {{ landed_window(source_name) }}
{%- endmacro %}

{#- Where save_discards keeps the discarded raw events: staging.transform_discards. -#}
{% macro transform_discards_relation() -%}
    {{ generate_schema_name('staging', none) }}.transform_discards
{%- endmacro %}

{#- on-run-start: the discards table, made once before the staging models run in parallel. -#}
{% macro create_transform_discards() -%}
    {#- not `create schema if not exists`: that needs CREATE on the database even when the schema
        exists, which the transform role (infomart roles init) does not have -#}
    do $discards$ begin
        if to_regnamespace('{{ generate_schema_name('staging', none) }}') is null then
            create schema {{ generate_schema_name('staging', none) }};
        end if;
    end $discards$;
    create table if not exists {{ transform_discards_relation() }} (
        source_table text not null,
        event_id text,
        event_type text,
        discard_reason text not null,
        payload jsonb not null,
        landed_at timestamptz not null,
        archive_file text,
        archive_line bigint,
        kafka_partition integer,
        kafka_offset bigint
    );
    create index if not exists transform_discards_source_landed_at
        on {{ transform_discards_relation() }} (source_table, landed_at)
{%- endmacro %}

{#- Pre-hook of a staging model (same transaction): the raw rows of its window that it leaves
    out go to transform_discards_relation() with the reason, replacing what an earlier
    run of the same window saved there (a full build replaces all of the source's). Read
    through the dq_transform_discards view. -#}
{% macro save_discards(source_name) -%}
    {%- set discards = transform_discards_relation() -%}
    delete from {{ discards }}
    where
        source_table = '{{ source_name }}'
        {% if is_incremental() %}
            and {{ landed_since('landed_at', high_water_mark('landed_at')) }}  -- noqa: LT02
        {% endif %};
    insert into {{ discards }} (
        source_table, event_id, event_type, discard_reason, payload, landed_at,
        archive_file, archive_line, kafka_partition, kafka_offset
    )
    select
        '{{ source_name }}',
        {{ json_text('payload', 'id') }},
        {{ json_text('payload', 'type') }},
        discard_reason,
        payload,
        landed_at,
        archive_file,
        archive_line,
        kafka_partition,
        kafka_offset
    from (
        select
            *,
            {{ discard_reason(source_name) }} as discard_reason
        from {{ landed_window(source_name) }}
    ) as checked
    where discard_reason is not null
{%- endmacro %}

{#- Why a landed event of a raw table cannot be transformed, or null. The contract rejects all
    of these at ingest; rows that reach raw another way (landed under an older contract,
    written by hand) must not stop a cycle, so staging checks once more what its casts, indexes
    and DATE_TIME need, and save_discards keeps the rows it leaves out, with the reason.
    Per raw table: `keys`, the fields that must be present (the event's entity key, EVENTS.md);
    `integers`, field -> type of the fields staging casts (besides the envelope's seq and v).
    Times must fit DATE_TIME's [1970-01-01, 2038-01-18). Case branches are evaluated in order,
    so a cast runs only on text known to be valid. -#}
{% macro discard_reason(source_name, column='payload') -%}
    {%- set checks = {
        'voice_callthread': {'keys': ['call_id'], 'integers': {}},
        'voice_agentstate': {'keys': ['agent_id'], 'integers': {}},
        'digital_itx': {'keys': ['itx_id'], 'integers': {}},
        'digital_agentstate': {'keys': ['agent_id'], 'integers': {'capacity': 'integer'}},
        'voice_outbound': {'keys': ['campaign_id'], 'integers': {'attempt': 'integer'}},
        'gca_cfg': {
            'keys': ['object_type', 'dbid'],
            'integers': {'dbid': 'bigint', 'config_version': 'bigint'},
        },
    }[source_name] -%}
    {%- set keys = checks['keys'] -%}
    {%- set integers = dict({'seq': 'bigint', 'v': 'integer'}, **checks['integers']) -%}
    case
        when {{ json_text(column, 'id') }} is null then 'missing field id'
        when coalesce({{ json_text(column, 'tenant') }}, '') <> '{{ var("tenant") }}' then 'not this tenant'
    {%- for key in keys %}
            when {{ json_text(column, key) }} is null then 'missing field {{ key }}'
    {%- endfor %}
    {%- for key in ['id'] + keys %}
            when length({{ json_text(column, key) }}) > {{ var('field_max_chars') }}
                then 'field {{ key }} longer than {{ var("field_max_chars") }} characters'
    {%- endfor %}
        when {{ json_text(column, 'ts') }} is null then 'missing field ts'
        when not pg_input_is_valid({{ json_text(column, 'ts') }}, 'timestamptz') then 'ts is not a time'
        when
            ({{ json_text(column, 'ts') }})::timestamptz < timestamptz '1970-01-01 00:00:00+00'
            or ({{ json_text(column, 'ts') }})::timestamptz >= timestamptz '2038-01-18 00:00:00+00'
            then 'ts outside 1970-01-01 to 2038-01-18'
    {%- for key, type in integers.items() %}
            when not pg_input_is_valid({{ json_text(column, key) }}, '{{ type }}')
                then 'field {{ key }} does not fit {{ type }}'
    {%- endfor %}
    end
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
