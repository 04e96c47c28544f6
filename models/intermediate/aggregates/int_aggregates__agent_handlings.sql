{{ config(materialized='ephemeral') }}

{#- The agent handlings of the agent aggregates (AGGREGATES.md ag2_agent, ag2_agent_grp; the
    ledger's agent_measures): every ended agent IRF row with what it adds. A consultation call's
    rows feed only consult_*; offered = roles Received, ReceivedTransfer, ReceivedConference. A
    ephemeral, one flat select (no CTEs): Postgres inlines it into the aggregate's query, so the
    touched-interval join on start_ts reaches the fact's start_ts index. -#}

select
    handled.start_ts,
    handled.resource_key,
    handled.media_type_key,
    coalesce(interactions.interaction_type_key, {{ unknown_key() }}) as interaction_type_key,
    coalesce(calls.call_type = 'Consult', false) as is_consult,
    handled.resource_role in ('Received', 'ReceivedTransfer', 'ReceivedConference') as is_offered,
    handled.resource_role,
    handled.technical_result,
    handled.result_reason,
    handled.talk_count,
    handled.ring_ms,
    handled.dial_ms,
    handled.talk_ms,
    handled.hold_count,
    handled.hold_ms,
    handled.after_call_work_count,
    handled.after_call_work_ms,
    handled.cons_init_count,
    handled.last_landed_at
from {{ ref('interaction_resource_fact') }} as handled
left join {{ ref('int_voice__calls') }} as calls on handled.media_server_ixn_id = calls.call_id
left join {{ ref('interaction_fact') }} as interactions on handled.interaction_id = interactions.interaction_id
where handled.agent_id is not null and handled.end_ts is not null
