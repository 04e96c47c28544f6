{{ config(materialized='view') }}

{#- The agents' state events of both agent-state topics as one timeline per agent and media:
    voice (AgentLogin / AgentReady / AgentNotReady / AgentLogout, media 'voice') and digital
    (MediaLogin / MediaReady / MediaNotReady / MediaLogout, media = the event's media_type).
    A view: it only renames and classifies staging rows, and the incremental models below
    filter it by agent. -#}

with

voice as (
    select
        event_id,
        agent_id,
        'voice' as media,
        event_ts,
        seq,
        event_type,
        case event_type
            when 'AgentLogin' then 'login'
            when 'AgentReady' then 'ready'
            when 'AgentNotReady' then 'not_ready'
            when 'AgentLogout' then 'logout'
        end as state_event,
        case when event_type = 'AgentNotReady' then coalesce(workmode, 'AuxWork') end as workmode,
        case when event_type = 'AgentNotReady' then reason_code end as reason_code,
        cast(null as integer) as capacity,
        landed_at
    from {{ ref('stg_events__voice_agentstate') }}
),

digital as (
    select
        event_id,
        agent_id,
        media_type as media,
        event_ts,
        seq,
        event_type,
        case event_type
            when 'MediaLogin' then 'login'
            when 'MediaReady' then 'ready'
            when 'MediaNotReady' then 'not_ready'
            when 'MediaLogout' then 'logout'
        end as state_event,
        {#- CONVENTIONS.md: a digital MediaNotReady counts as workmode AuxWork -#}
        case when event_type = 'MediaNotReady' then 'AuxWork' end as workmode,
        case when event_type = 'MediaNotReady' then reason_code end as reason_code,
        capacity,
        landed_at
    from {{ ref('stg_events__digital_agentstate') }}
),

unioned as (
    select * from voice
    union all
    select * from digital
),

state_events as (
    select * from unioned
    where state_event is not null and agent_id is not null and media is not null
)

select * from state_events
