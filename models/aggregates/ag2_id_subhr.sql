{{ ag2_table_config('subhr', 'interaction') }}

{#- ag2_id per 15 minutes (AGGREGATES.md): ended interactions in the interval of their START_TS,
    with their agent parties of non-consultation calls (IRF). answer_time: START_TS -> the first
    agent party's Established, read as its START_TS + RING_DURATION (IRF keeps no Established
    instant). No business-attribute keys yet: the user-data marts do not exist. -#}

with

interactions as (
    select interactions.*
    from {{ ref('interaction_fact') }} as interactions
    {{ ag2_join_touched_intervals('interactions.start_ts') }}
    where interactions.end_ts is not null
),

calls as (
    select
        call_id,
        call_type
    from {{ ref('int_voice__calls') }}
),

agent_rows as (
    select
        handled.interaction_id,
        handled.talk_count,
        handled.start_ts + handled.ring_ms * interval '1 millisecond' as established_ts,
        handled.talk_ms + handled.hold_ms + handled.after_call_work_ms as handle_ms,
        handled.technical_result,
        handled.last_landed_at
    from {{ ref('interaction_resource_fact') }} as handled
    left join calls on handled.media_server_ixn_id = calls.call_id
    where
        handled.agent_id is not null
        and coalesce(calls.call_type, '') <> 'Consult'
        and handled.interaction_id in (select interactions.interaction_id from interactions)
),

threads as (
    select
        interaction_id,
        max(talk_count) as answered,
        min(established_ts) filter (where talk_count = 1) as first_established_ts,
        sum(handle_ms) as handle_ms,
        max(case when technical_result = 'Transferred' then 1 else 0 end) as transferred,
        max(last_landed_at) as last_landed_at
    from agent_rows
    group by interaction_id
),

measured as (
    select
        interactions.start_ts,
        interactions.media_type_key,
        interactions.interaction_type_key,
        coalesce(threads.answered, 0) as answered,
        case when interactions.interaction_type_key = 1 and coalesce(threads.answered, 0) = 0 then 1 else 0 end
            as abandoned,
        case
            when threads.answered = 1 then {{ ms_between('interactions.start_ts', 'threads.first_established_ts') }}
        end as answer_ms,
        coalesce(threads.handle_ms, 0) as handle_ms,
        coalesce(threads.transferred, 0) as transferred,
        greatest(interactions.last_landed_at, threads.last_landed_at) as last_landed_at
    from interactions
    left join threads on interactions.interaction_id = threads.interaction_id
),

summed as (
    select
        {{ ag2_slot('start_ts') }} as interval_start_ts,
        media_type_key,
        interaction_type_key,
        count(*) as entered,
        sum(answered) as answered,
        sum(abandoned) as abandoned,
        sum(transferred) as transferred,
        coalesce(sum(answer_ms), 0) as answer_time_ms,
        sum(handle_ms) as handle_time_ms,
        max(answer_ms) as answer_time_max_ms,
        max(last_landed_at) as last_landed_at
    from measured
    group by {{ ag2_slot('start_ts') }}, media_type_key, interaction_type_key
)

{{ ag2_final_columns('id') }}
