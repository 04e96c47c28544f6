{#- Deterministic keys and event-time arithmetic shared by the marts. -#}

{#- A 64-bit surrogate key from natural key parts: the same inputs give the same key on any
    database (first 16 hex digits of md5 over the parts joined with '|', nulls as ''). -#}
{% macro infomart_key(parts) -%}
    ('x' || substr(md5(concat_ws('|'
    {%- for part in parts %}, coalesce(cast({{ part }} as text), ''){% endfor -%}
    )), 1, 16))::bit(64)::bigint
{%- endmacro %}

{#- Milliseconds from one timestamp to another (event time). -#}
{% macro ms_between(start_ts, end_ts) -%}
    cast({{ dbt.datediff(start_ts, end_ts, 'millisecond') }} as bigint)
{%- endmacro %}

{#- MEASURES.md: durations are exact milliseconds, summed first, rounded half up to seconds once. -#}
{% macro ms_to_seconds(ms) -%}
    cast(floor(({{ ms }} + 500) / 1000.0) as integer)
{%- endmacro %}

{#- DATE_TIME_KEY of the 15-minute slot a timestamp falls in: UTC epoch seconds of its start. -#}
{% macro date_time_key(ts) -%}
    cast(floor(extract(epoch from {{ ts }}) / 900) * 900 as integer)
{%- endmacro %}

{#- Rows of `relation` whose `watermark_column` is within the look-back window of this
    incremental model's own high-water mark (everything on a full build). -#}
{% macro since_watermark(watermark_column, this_column='last_landed_at') -%}
    {% if is_incremental() %}
        {{ watermark_column }} >= (
            select coalesce(max({{ this_column }}), '-infinity'::timestamptz) from {{ this }}
        ) - interval '{{ var("lookback_minutes") }} minutes'
    {% else %}
        true
    {% endif %}
{%- endmacro %}

{#- RESOURCE_KEY of an agent, DN or queue: deterministic from its type and name (MEASURES.md:
    RESOURCE_NAME is the agent_id, the DN number, or the queue name). -#}
{% macro resource_key(resource_type, resource_name) -%}
    {{ infomart_key(["'" ~ resource_type ~ "'", resource_name]) }}
{%- endmacro %}

{#- The key of the unknown member of a dimension (a reference that resolves to nothing). -#}
{% macro unknown_key() -%}
    cast(-1 as bigint)
{%- endmacro %}
