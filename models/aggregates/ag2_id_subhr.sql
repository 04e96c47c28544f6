{{ ag2_table_config('subhr', 'interaction') }}

{#- ag2_id per 15 minutes (AGGREGATES.md): ended interactions in the interval of their START_TS,
    with their agent parties of non-consultation calls (IRF). answer_time: START_TS -> the first
    agent party's Established, read as its START_TS + RING_DURATION (IRF keeps no Established
    instant). Business attributes: USER_DATA_CUST_DIM_1_KEY, the dim combination
    (IRF_USER_DATA_KEYS) of the interaction's last-ending IRF row of a non-consultation call (an
    open row counts as the latest; ties: the larger id), so the values in force when the
    interaction ended; an interaction without IRF rows (a dial nobody answered) files under the
    all-null combination. -#}

with

interactions as (
    select interactions.*
    from {{ ref('interaction_fact') }} as interactions
    {{ ag2_join_touched_intervals('interactions.start_ts') }}
    where interactions.end_ts is not null
),

{# read twice, for the IRF rows of the touched interactions only: not materialized, or
   PostgreSQL would read every call of the history each cycle #}
calls as not materialized (
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

{# the interaction's latest IRF row of a non-consultation call and its dim combination #}
interaction_user_data as (
    select distinct on (irf.interaction_id)
        irf.interaction_id,
        user_data_keys.user_data_cust_dim_1_key,
        user_data_keys.last_landed_at
    from {{ ref('interaction_resource_fact') }} as irf
    inner join {{ ref('irf_user_data_keys') }} as user_data_keys
        on irf.interaction_resource_id = user_data_keys.interaction_resource_id
    left join calls on irf.media_server_ixn_id = calls.call_id
    where
        coalesce(calls.call_type, '') <> 'Consult'
        and irf.interaction_id in (select interactions.interaction_id from interactions)
    order by irf.interaction_id asc, irf.end_ts desc nulls first, irf.interaction_resource_id desc
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
        coalesce(interaction_user_data.user_data_cust_dim_1_key, {{ user_data_dim_key(none) }})
            as user_data_cust_dim_1_key,
        greatest(interactions.last_landed_at, threads.last_landed_at, interaction_user_data.last_landed_at)
            as last_landed_at
    from interactions
    left join threads on interactions.interaction_id = threads.interaction_id
    left join interaction_user_data on interactions.interaction_id = interaction_user_data.interaction_id
),

summed as (
    select
        {{ ag2_slot('start_ts') }} as interval_start_ts,
        media_type_key,
        interaction_type_key,
        user_data_cust_dim_1_key,
        count(*) as entered,
        sum(answered) as answered,
        sum(abandoned) as abandoned,
        sum(transferred) as transferred,
        coalesce(sum(answer_ms), 0) as answer_time_ms,
        sum(handle_ms) as handle_time_ms,
        max(answer_ms) as answer_time_max_ms,
        max(last_landed_at) as last_landed_at
    from measured
    group by {{ ag2_slot('start_ts') }}, media_type_key, interaction_type_key, user_data_cust_dim_1_key
)

{{ ag2_final_columns('id') }}
