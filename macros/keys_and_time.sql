{#- Deterministic keys and event-time arithmetic shared by the marts. -#}

{#- A 64-bit surrogate key from natural key parts: the same inputs give the same key on any
    database (first 16 hex digits of md5 over the parts joined with '|', nulls as ''). -#}
{% macro infomart_key(parts) -%}
    ('x' || substr(md5(concat_ws('|'
    {%- for part in parts %}, coalesce(cast({{ part }} as text), ''){% endfor -%}
    )), 1, 16))::bit(64)::bigint
{%- endmacro %}

{#- Milliseconds from one timestamptz to another (event time). From the exact difference of
    the two instants: not dbt.datediff, which works in the session's local time and so is an
    hour off across a daylight-saving change when the session is not in UTC. -#}
{% macro ms_between(start_ts, end_ts) -%}
    cast(round(extract(epoch from ({{ end_ts }} - {{ start_ts }})) * 1000) as bigint)
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
        {{ landed_since(watermark_column, high_water_mark(this_column)) }}
    {% else %}
        true
    {% endif %}
{%- endmacro %}

{#- The incremental model's high-water mark (max of `this_column` in {{ this }}), read when the
    model is compiled and written into its SQL as a literal. As a scalar subquery the planner
    cannot see its value, guesses that a third of the history is new, and hash-joins whole
    tables; with the literal it reads the landed_at histogram and uses the indexes, so a cycle
    costs what its new rows cost. The model's pre-hooks render the same value. -#}
{#- The look-back condition of an incremental model: `column` (a landing time) after its
    high-water mark `mark` (`strict`) or at it. Rows land with their transaction's start as
    landed_at, so a row committed after the model's last build can carry a landed_at below the
    mark. The transform records, with each model it built, a floor measured before the build
    (ctl.ctl_model_build.landed_floor: the start of the oldest transaction then open that had
    written, else the clock): every row that build could not see landed at or after it, and is
    taken too. A model without a recorded floor (dbt run on its own, or a transform role that may
    not see other roles' transactions) looks back `lookback_minutes` from its mark instead. -#}
{% macro landed_since(column, mark, strict=false) -%}
    {%- set floor = landed_floor() -%}
    {%- set after = '>' if strict else '>=' -%}
    {%- if floor is not none -%}
        ({{ column }} {{ after }} {{ mark }} or {{ column }} >= {{ floor }})
    {%- else -%}
        {{ column }} {{ after }} {{ mark }} - interval '{{ var("lookback_minutes") }} minutes'
    {%- endif -%}
{%- endmacro %}

{#- The landed_floor recorded with this model's last build, as a literal; none when there is none. -#}
{% macro landed_floor() -%}
    {%- if execute and is_incremental() -%}
        {%- set query -%}
            select landed_floor::text from {{ model_builds_relation() }}
            where model_name = '{{ this.identifier }}' and landed_floor is not null
        {%- endset -%}
        {%- set values = run_query(query).columns[0].values() -%}
        {{ return("'" ~ values[0] ~ "'::timestamptz" if values else none) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{% macro high_water_mark(this_column='last_landed_at') -%}
    {%- if execute -%}
        {%- set query -%}
            select coalesce(max({{ this_column }}), '-infinity'::timestamptz)::text from {{ this }}
        {%- endset -%}
        {%- set mark = run_query(query).columns[0].values()[0] -%}
        '{{ mark }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
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
