{{ config(materialized='ephemeral') }}

{#- The agent-time spans of ag2_i_sess_state (AGGREGATES.md): login sessions (measure
    active_time) and the states that tile them (ready_time, not_ready_time, busy_time,
    wrap_time); an open span ends at the data horizon. Ephemeral: the aggregates read the spans of
    their touched intervals only (the filter on start_ts reaches the facts' start_ts indexes). -#}

with

sessions as (
    select
        resource_key,
        media_type_key,
        start_ts,
        end_ts,
        last_landed_at
    from {{ ref('sm_res_session_fact') }}
),

states as (
    select
        resource_key,
        media_type_key,
        resource_state_key,
        start_ts,
        end_ts,
        last_landed_at
    from {{ ref('sm_res_state_fact') }}
),

resource_states as (
    select
        resource_state_key,
        state_name
    from {{ ref('resource_state') }}
),

spans as (
    select
        sessions.resource_key,
        sessions.media_type_key,
        'active_time' as measure,
        sessions.start_ts,
        sessions.end_ts,
        sessions.last_landed_at
    from sessions
    union all
    select
        states.resource_key,
        states.media_type_key,
        case resource_states.state_name
            when 'Ready' then 'ready_time'
            when 'NotReady' then 'not_ready_time'
            when 'Busy' then 'busy_time'
            when 'AfterCallWork' then 'wrap_time'
        end as measure,
        states.start_ts,
        states.end_ts,
        states.last_landed_at
    from states
    left join resource_states on states.resource_state_key = resource_states.resource_state_key
),

final as (
    select
        resource_key,
        media_type_key,
        measure,
        start_ts,
        coalesce(end_ts, {{ ag2_data_horizon() }}) as end_ts,
        last_landed_at
    from spans
)

select * from final
