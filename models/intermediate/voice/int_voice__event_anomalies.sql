{{
    config(
        unique_key='call_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(calls_with_events_since_landing_mark()) }}",
        indexes=[
            {'columns': ['call_id']},
        ],
        post_hook=[
            "{{ record_landing_mark('select max(landed_at) from ' ~ ref('stg_events__voice_callthread')) }}",
            "{{ analyze_if_stale() }}",
        ],
    )
}}

{# Voice events that contradict the call model, recomputed per touched call from all of its
    events; a call with no anomaly has no rows. Most calls have none, so the model keeps its
    high-water mark in incremental_landing_marks (macros/landing_marks.sql) rather than in its
    rows. dq_voice_event_anomalies shows the anomalies. #}

with

call_events as (
    select
        events.call_id,
        events.party_id,
        events.event_id,
        events.event_type,
        events.event_ts,
        events.seq,
        max(events.landed_at) over (partition by events.call_id) as last_landed_at
    from {{ ref('stg_events__voice_callthread') }} as events
    {% if is_incremental() %}
        where events.call_id in (select touched.call_id from {{ touched_keys() }} as touched)
    {% endif %}
),

party_sequence as (
    select
        *,
        count(case when event_type = 'PartyAdded' then 1 end) over (partition by call_id, party_id) as added_count,
        count(case when event_type = 'Released' then 1 end) over (
            partition by call_id, party_id order by event_ts, seq rows between unbounded preceding and 1 preceding
        ) as releases_before
    from call_events
    where party_id is not null
),

hold_sequence as (
    select
        call_id,
        party_id,
        event_id,
        event_type,
        lag(event_type) over (partition by call_id, party_id order by event_ts, seq) as previous_hold_event
    from call_events
    where event_type in ('Held', 'Retrieved')
),

call_level as (
    select
        call_id,
        count(case when event_type = 'CallCreated' then 1 end) as created_count
    from call_events
    group by call_id
),

anomalies as (
    select
        call_id,
        party_id,
        event_id,
        event_type,
        event_ts,
        'party never added: no PartyAdded for this party' as anomaly,
        last_landed_at
    from party_sequence
    where added_count = 0
    union all
    select
        call_id,
        party_id,
        event_id,
        event_type,
        event_ts,
        'event after the party was released' as anomaly,
        last_landed_at
    from party_sequence
    where releases_before > 0
    union all
    select
        hold_sequence.call_id,
        hold_sequence.party_id,
        hold_sequence.event_id,
        hold_sequence.event_type,
        call_events.event_ts,
        case
            when hold_sequence.event_type = 'Retrieved' then 'Retrieved without a Held before it'
            else 'Held while already held'
        end as anomaly,
        call_events.last_landed_at
    from hold_sequence
    inner join call_events on hold_sequence.event_id = call_events.event_id
    where
        (hold_sequence.event_type = 'Retrieved' and coalesce(hold_sequence.previous_hold_event, '') <> 'Held')
        or (hold_sequence.event_type = 'Held' and hold_sequence.previous_hold_event = 'Held')
    union all
    select
        call_events.call_id,
        null as party_id,
        min(call_events.event_id) as event_id,
        'CallCreated' as event_type,
        min(call_events.event_ts) as event_ts,
        'no CallCreated for this call (yet)' as anomaly,
        max(call_events.last_landed_at) as last_landed_at
    from call_events
    inner join call_level on call_events.call_id = call_level.call_id
    where call_level.created_count = 0
    group by call_events.call_id
)

select * from anomalies
