{{ config(materialized='view') }}

{#- The agent handlings of the agent aggregates (AGGREGATES.md ag2_agent, ag2_agent_grp; the
    ledger's agent_measures): every ended agent IRF row with what it adds. A consultation call's
    rows feed only consult_*; offered = roles Received, ReceivedTransfer, ReceivedConference. A
    view: the aggregates read it for their touched intervals only (the filter on start_ts
    reaches the fact's start_ts index). -#}

with

handled as (
    select
        media_server_ixn_id,
        interaction_id,
        agent_id,
        resource_key,
        media_type_key,
        resource_role,
        start_ts,
        end_ts,
        technical_result,
        result_reason,
        talk_count,
        ring_ms,
        dial_ms,
        talk_ms,
        hold_count,
        hold_ms,
        after_call_work_count,
        after_call_work_ms,
        cons_init_count,
        last_landed_at
    from {{ ref('interaction_resource_fact') }}
),

calls as (
    select
        call_id,
        call_type
    from {{ ref('int_voice__calls') }}
),

interactions as (
    select
        interaction_id,
        interaction_type_key
    from {{ ref('interaction_fact') }}
),

final as (
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
    from handled
    left join calls on handled.media_server_ixn_id = calls.call_id
    left join interactions on handled.interaction_id = interactions.interaction_id
    where handled.agent_id is not null and handled.end_ts is not null
)

select * from final
