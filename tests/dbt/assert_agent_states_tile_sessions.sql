{#- SM_RES_STATE_FACT tiles every session exactly (MEASURES.md): the first interval starts at
    the login, each next one starts where the previous one ended (no gap, no overlap), the
    last one ends at the session's end (open - null - only for an open session), and for a
    closed session the intervals' milliseconds add up to the session's. Returns the
    offending sessions and intervals. -#}

with

sessions as (
    select
        sm_res_session_fact_key,
        start_ts,
        end_ts,
        total_duration_ms
    from {{ ref('sm_res_session_fact') }}
),

states as (
    select
        sm_res_session_fact_key,
        start_ts,
        end_ts,
        total_duration_ms,
        lag(end_ts) over session_order as previous_end_ts,
        row_number() over session_order as position_in_session,
        count(*) over (partition by sm_res_session_fact_key) as intervals_in_session
    from {{ ref('sm_res_state_fact') }}
    window session_order as (partition by sm_res_session_fact_key order by start_ts)
),

session_totals as (
    select
        sm_res_session_fact_key,
        sum(total_duration_ms) as state_duration_ms
    from states
    group by sm_res_session_fact_key
),

problems as (
    select
        states.sm_res_session_fact_key,
        states.start_ts,
        'gap or overlap with the previous interval' as problem
    from states
    where states.position_in_session > 1 and states.start_ts is distinct from states.previous_end_ts
    union all
    select
        states.sm_res_session_fact_key,
        states.start_ts,
        'first interval does not start at the login' as problem
    from states
    inner join sessions on states.sm_res_session_fact_key = sessions.sm_res_session_fact_key
    where states.position_in_session = 1 and states.start_ts <> sessions.start_ts
    union all
    select
        states.sm_res_session_fact_key,
        states.start_ts,
        'last interval does not end with the session' as problem
    from states
    inner join sessions on states.sm_res_session_fact_key = sessions.sm_res_session_fact_key
    where
        states.position_in_session = states.intervals_in_session
        and states.end_ts is distinct from sessions.end_ts
    union all
    select
        sessions.sm_res_session_fact_key,
        sessions.start_ts,
        'session without state intervals' as problem
    from sessions
    left join session_totals on sessions.sm_res_session_fact_key = session_totals.sm_res_session_fact_key
    where session_totals.sm_res_session_fact_key is null
    union all
    select
        sessions.sm_res_session_fact_key,
        sessions.start_ts,
        'closed session and its intervals differ in length' as problem
    from sessions
    inner join session_totals on sessions.sm_res_session_fact_key = session_totals.sm_res_session_fact_key
    where
        sessions.end_ts is not null
        and session_totals.state_duration_ms is distinct from sessions.total_duration_ms
)

select * from problems
