{#- Agent State Details report: the state intervals of an agent (SM_RES_STATE_FACT), one lane
    per media, and the reason spans (SM_RES_STATE_REASON_FACT with a reason code) on a lane of their own, for a
    timeline of one agent and day. An open interval (end_ts null) is shown up to the data horizon
    of the facts. -#}

with

states as (
    select * from {{ ref('sm_res_state_fact') }}
),

state_reasons as (
    select * from {{ ref('sm_res_state_reason_fact') }}
),

resource_states as (
    select * from {{ ref('resource_state') }}
),

reasons as (
    select * from {{ ref('resource_state_reason') }}
),

agents as (
    select * from {{ ref('resource_') }}
),

spans as (
    select
        states.resource_key,
        states.media_name,
        'state' as lane_kind,
        resource_states.state_name as span_label,
        states.start_ts,
        states.end_ts,
        states.total_duration_ms
    from states
    left join resource_states on states.resource_state_key = resource_states.resource_state_key
    union all
    select
        state_reasons.resource_key,
        state_reasons.media_name,
        'reason' as lane_kind,
        coalesce(reasons.reason_name, state_reasons.reason_code) as span_label,
        state_reasons.start_ts,
        state_reasons.end_ts,
        state_reasons.total_duration_ms
    from state_reasons
    left join reasons on state_reasons.resource_state_reason_key = reasons.resource_state_reason_key
    -- the reason lane shows spans with a reason; the state lane shows every state
    where state_reasons.reason_code is not null
)

select
    spans.resource_key as agent_key,
    coalesce(agents.resource_name, 'unknown') as agent_name,
    spans.media_name,
    spans.lane_kind,
    spans.span_label,
    spans.start_ts,
    spans.end_ts,
    spans.total_duration_ms
from spans
left join agents on spans.resource_key = agents.resource_key
