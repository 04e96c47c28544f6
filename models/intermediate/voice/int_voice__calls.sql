{{
    config(
        unique_key='call_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(calls_with_new_events()) }}",
        indexes=[
            {'columns': ['call_id'], 'unique': True},
            {'columns': ['root_id']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=["{{ analyze_if_stale() }}"],
    )
}}

with

call_events as (
    select events.*
    from {{ ref('stg_events__voice_callthread') }} as events
    {% if is_incremental() %}
        where events.call_id in (select touched.call_id from {{ touched_keys() }} as touched)
    {% endif %}
),

calls as (
    select
        call_id,
        max(case when event_type = 'CallCreated' then thread_id end) as thread_id,
        max(case when event_type = 'CallCreated' then call_type end) as call_type,
        max(case when event_type = 'CallCreated' then ani end) as ani,
        max(case when event_type = 'CallCreated' then dnis end) as dnis,
        min(case when event_type = 'CallCreated' then event_ts end) as created_ts,
        min(case when event_type = 'CallEnded' then event_ts end) as call_ended_ts,
        min(event_ts) as first_event_ts,
        max(event_ts) as last_event_ts,
        count(*) as event_count,
        max(landed_at) as last_landed_at
    from call_events
    group by call_id
),

{# the thread (root) of the call: its thread_id, or the call itself until its CallCreated is
    seen; every voice fact groups by it #}
rooted_calls as (
    select
        *,
        coalesce(thread_id, call_id) as root_id
    from calls
)

select * from rooted_calls
