{{
    config(
        materialized='table',
        indexes=[{'columns': ['date_time_key'], 'unique': true}],
    )
}}

{# DATE_TIME (GIM): one row per 15 minutes, keyed by the UTC epoch seconds of its start
    (macro date_time_key), from var('date_time_start') or the first event if earlier, filled
    var('date_time_days_ahead') days ahead of today like GIM's maintenance job. Calendar
    columns in UTC and in var('reporting_time_zone'). #}

with

event_range as (
    select
        min(event_ts) as first_event_ts,
        max(event_ts) as last_event_ts
    from {{ ref('stg_events__voice_callthread') }}
),

bounds as (
    select
        least(
            cast('{{ var("date_time_start") }}' as timestamp) at time zone 'UTC', event_range.first_event_ts
        ) as first_ts,
        greatest(
            now() + interval '{{ var("date_time_days_ahead") }} days',
            event_range.last_event_ts + interval '1 day'
        ) as last_ts
    from event_range
),

slots as (
    select
        generate_series(
            date_trunc('day', bounds.first_ts at time zone 'UTC') at time zone 'UTC',
            bounds.last_ts,
            interval '15 minutes'
        ) as slot_start
    from bounds
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
