{#- Agent Not Ready Reasons report: ag2_i_state_rsn at the report levels with the agent's
    name and the reason (RESOURCE_STATE_REASON: state, reason code and name, workmode).
    state_reason_time_ms is split exactly across intervals; state_reason_count counts the spans
    that start in the interval. -#}

with

reason_rows as (
    {{ report_level_rows('i_state_rsn') }}
),

agents as (
    select * from {{ ref('resource_') }}
),

reasons as (
    select * from {{ ref('resource_state_reason') }}
),

media_types as (
    select * from {{ ref('media_type') }}
)

select
    reason_rows.report_level,
    reason_rows.date_time_key,
    reason_rows.interval_start_ts,
    reason_rows.resource_key as agent_key,
    coalesce(agents.resource_name, 'unknown') as agent_name,
    reason_rows.media_type_key,
    media_types.media_name,
    reason_rows.resource_state_reason_key,
    reasons.state_name,
    reasons.workmode,
    reasons.reason_code,
    coalesce(reasons.reason_name, reasons.reason_code, 'no reason') as reason_name,
    reason_rows.state_reason_count,
    reason_rows.state_reason_time_ms
from reason_rows
left join agents on reason_rows.resource_key = agents.resource_key
left join reasons on reason_rows.resource_state_reason_key = reasons.resource_state_reason_key
left join media_types on reason_rows.media_type_key = media_types.media_type_key
