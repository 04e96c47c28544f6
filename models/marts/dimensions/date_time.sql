{{
    config(
        materialized='incremental',
        incremental_strategy='touched_keys',
        unique_key='date_time_key',
        on_schema_change='fail',
        indexes=[{'columns': ['date_time_key'], 'unique': true}],
        pre_hook="{{ save_touched_keys(date_time_new_slots()) }}",
    )
}}

{# DATE_TIME (GIM): one row per 15 minutes, keyed by the UTC epoch seconds of its start
    (macro date_time_key), from var('date_time_start') or the first event if earlier, filled
    var('date_time_days_ahead') days ahead of today like GIM's maintenance job. Calendar
    columns in UTC and in var('reporting_time_zone'). The range is bounded (macro
    date_time_slots): no event time can make it overflow the integer key or grow without end.
    Incremental: the touched keys are the slots of the range not in the table yet (a day
    ahead, or the days of an event earlier than the first slot); rows never change. #}

-- depends_on: {{ ref('stg_events__voice_callthread') }}

with

slots as (
    {% if is_incremental() %}
        select slot_start from {{ touched_keys() }}
    {% else %}
        {{ date_time_slots() }}
    {% endif %}
),

local_slots as (
    select
        slot_start,
        slot_start at time zone '{{ var("reporting_time_zone") }}' as local_start
    from slots
)

select
    {{ date_time_key('slot_start') }} as date_time_key,
    slot_start as cal_date_time,
    slot_start + interval '15 minutes' as cal_date_time_end,
    cast(slot_start at time zone 'UTC' as date) as cal_date,
    cast(extract(year from slot_start at time zone 'UTC') as integer) as cal_year,
    cast(extract(quarter from slot_start at time zone 'UTC') as integer) as cal_quarter,
    cast(extract(month from slot_start at time zone 'UTC') as integer) as cal_month,
    cast(extract(week from slot_start at time zone 'UTC') as integer) as cal_week,
    cast(extract(isodow from slot_start at time zone 'UTC') as integer) as cal_day_of_week,
    cast(extract(day from slot_start at time zone 'UTC') as integer) as cal_day_of_month,
    cast(extract(hour from slot_start at time zone 'UTC') as integer) as cal_hour_24,
    cast(extract(minute from slot_start at time zone 'UTC') as integer) as cal_minute,
    to_char(slot_start at time zone 'UTC', 'YYYY-MM-DD') as label_yyyy_mm_dd,
    to_char(slot_start at time zone 'UTC', 'HH24:MI') as label_hh24_mi,
    '{{ var("reporting_time_zone") }}' as local_time_zone,
    local_start as local_cal_date_time,
    cast(local_start as date) as local_cal_date,
    cast(extract(year from local_start) as integer) as local_cal_year,
    cast(extract(month from local_start) as integer) as local_cal_month,
    cast(extract(isodow from local_start) as integer) as local_cal_day_of_week,
    cast(extract(hour from local_start) as integer) as local_cal_hour_24,
    to_char(local_start, 'YYYY-MM-DD') as local_label_yyyy_mm_dd,
    cast(extract(epoch from (local_start - cast(slot_start at time zone 'UTC' as timestamp))) / 60 as integer)
        as local_utc_offset_minutes
from local_slots
