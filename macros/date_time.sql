{#- The slots of DATE_TIME (models/marts/dimensions/date_time.sql), one row per 15 minutes
    (`slot_start`): from var('date_time_start'), or the day of the first voice event if earlier,
    to var('date_time_days_ahead') days ahead of now, or a day past the last event if later.
    Bounded whatever the events say: never before 1970-01-01 (the contract rejects earlier
    events; the key is epoch seconds in an integer), never past the days ahead plus one day
    (the contract rejects events over an hour ahead), never past 2038-01-18 (the integer's end). -#}
{% macro date_time_slots() -%}
    with

    event_range as (
        select
            min(event_ts) as first_event_ts,
            max(event_ts) as last_event_ts
        from {{ ref('stg_events__voice_callthread') }}
    ),

    bounds as (
        select
            greatest(
                least(
                    cast('{{ var("date_time_start") }}' as timestamp) at time zone 'UTC',
                    event_range.first_event_ts
                ),
                timestamptz '1970-01-01 00:00:00+00'
            ) as first_ts,
            least(
                greatest(
                    now() + interval '{{ var("date_time_days_ahead") }} days',
                    event_range.last_event_ts + interval '1 day'
                ),
                now() + interval '{{ var("date_time_days_ahead") }} days' + interval '1 day',
                timestamptz '2038-01-18 00:00:00+00'
            ) as last_ts
        from event_range
    )

    select
        generate_series(
            date_trunc('day', bounds.first_ts at time zone 'UTC') at time zone 'UTC',
            bounds.last_ts,
            interval '15 minutes'
        ) as slot_start
    from bounds
{%- endmacro %}

{#- Pre-hook of DATE_TIME: the touched keys, i.e. the slots of the range not in the table yet, or
    with another reporting time zone (a changed var rebuilds the local columns). -#}
{% macro date_time_new_slots() -%}
    select
        {{ date_time_key('slots.slot_start') }} as date_time_key,
        slots.slot_start
    from ({{ date_time_slots() }}) as slots
    where not exists (
        select from {{ this }} as existing
        where
            existing.date_time_key = {{ date_time_key('slots.slot_start') }}
            and existing.local_time_zone = '{{ var("reporting_time_zone") }}'
    )
{%- endmacro %}
