{#- Interval arithmetic of the aggregates (AGGREGATES.md) in the reporting time zone: the
    interval of each level holding an instant, its end, and its DATE_TIME_KEY. -#}

{#- The reporting time zone as a SQL literal. -#}
{% macro ag2_zone() -%}
    '{{ var("reporting_time_zone") }}'
{%- endmacro %}

{#- Start (timestamptz) of the 15-minute interval holding `ts`. Local quarter hours are UTC
    quarter hours in every zone whose offset is a whole number of quarter hours. -#}
{% macro ag2_slot(ts) -%}
    to_timestamp(floor(extract(epoch from {{ ts }}) / 900) * 900)
{%- endmacro %}

{#- Start (timestamptz) of the interval of `level` holding the instant `ts`, in the reporting
    zone. An hour starts at the local hh:00 (a repeated hour in autumn gives two hours); a day at
    the local midnight; a week on Sunday or, with var week_start 'iso', on Monday. -#}
{% macro ag2_interval_start(level, ts) -%}
    {%- set zone = ag2_zone() -%}
    {%- if level == 'subhr' -%}
        {{ ag2_slot(ts) }}
    {%- elif level == 'hour' -%}
        ({{ ag2_slot(ts) }} - make_interval(mins => cast(extract(minute from {{ ag2_slot(ts) }} at time zone {{ zone }}) as integer)))
    {%- elif level == 'week' and var('week_start', 'sunday') == 'sunday' -%}
        ((date_trunc('week', ({{ ts }} at time zone {{ zone }}) + interval '1 day') - interval '1 day') at time zone {{ zone }})
    {%- elif level in ('day', 'week', 'month', 'quarter', 'year') -%}
        (date_trunc('{{ level }}', {{ ts }} at time zone {{ zone }}) at time zone {{ zone }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown aggregate level '" ~ level ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- End (exclusive) of the interval of `level` that starts at `start_ts`. -#}
{% macro ag2_interval_end(level, start_ts) -%}
    {%- set zone = ag2_zone() -%}
    {%- set steps = {'subhr': '15 minutes', 'hour': '1 hour', 'day': '1 day', 'week': '7 days',
        'month': '1 month', 'quarter': '3 months', 'year': '1 year'} -%}
    {%- if level in ('subhr', 'hour') -%}
        ({{ start_ts }} + interval '{{ steps[level] }}')
    {%- else -%}
        ((({{ start_ts }}) at time zone {{ zone }} + interval '{{ steps[level] }}') at time zone {{ zone }})
    {%- endif -%}
{%- endmacro %}

{#- DATE_TIME_KEY of an interval start: the DATE_TIME row at that instant. -#}
{% macro ag2_date_time_key(start_ts) -%}
    cast(floor(extract(epoch from {{ start_ts }}) / 900) * 900 as integer)
{%- endmacro %}

{#- One select: the distinct intervals of `level` (date_time_key, interval_start_ts,
    interval_end_ts) holding the 15-minute slots `slot_start` of the relation `slots`. -#}
{% macro ag2_intervals_of_slots(level, slots) -%}
    {%- set start_ts = ag2_interval_start(level, slots ~ '.slot_start') -%}
    select distinct
        {{ ag2_date_time_key(start_ts) }} as date_time_key,
        {{ start_ts }} as interval_start_ts,
        {{ ag2_interval_end(level, start_ts) }} as interval_end_ts
    from {{ slots }}
{%- endmacro %}
