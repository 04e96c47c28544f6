{#- Abandoned Interactions report: one row per abandoned interaction, by the rule of ag2_id's
    `abandoned` (AGGREGATES.md): an ended inbound interaction where no agent party of a
    non-consultation call was established. Where it was abandoned: ringing at an agent (an agent
    row ended AbandonedWhileRinging), in queue (its last mediation segment ended Abandoned),
    after queue (the last segment was diverted, e.g. to a routing point) or before any queue.
    wait_ms: the customer's whole time, START_TS -> END_TS; queue_wait_ms: the last segment's
    MEDIATION_DURATION. -#}

with

interactions as (
    select * from {{ ref('interaction_fact') }}
),

party_rows as (
    select * from {{ ref('interaction_resource_fact') }}
),

segments as (
    select * from {{ ref('mediation_segment_fact') }}
),

agents as (
    select * from {{ ref('resource_') }}
),

media_types as (
    select * from {{ ref('media_type') }}
),

agent_rows as (
    select
        party_rows.interaction_id,
        party_rows.resource_key,
        party_rows.talk_count,
        party_rows.result_reason,
        party_rows.end_ts
    from party_rows
    where
        party_rows.agent_id is not null
        and party_rows.resource_role not in ('ReceivedConsult', 'InitiatedConsult')
),

abandoned as (
    select interactions.*
    from interactions
    where
        interactions.end_ts is not null
        and interactions.interaction_type_key = 1
        and not exists (
            select 1
            from agent_rows
            where agent_rows.interaction_id = interactions.interaction_id and agent_rows.talk_count = 1
        )
),

last_segments as (
    select distinct on (segments.interaction_id)
        segments.interaction_id,
        segments.resource_key,
        segments.queue_name,
        segments.technical_result,
        segments.mediation_duration_ms
    from segments
    where segments.interaction_id in (select abandoned.interaction_id from abandoned)
    order by segments.interaction_id asc, segments.start_ts desc, segments.mediation_segment_id desc
),

ringing as (
    select distinct on (agent_rows.interaction_id)
        agent_rows.interaction_id,
        agent_rows.resource_key
    from agent_rows
    where agent_rows.result_reason = 'AbandonedWhileRinging'
    order by agent_rows.interaction_id asc, agent_rows.end_ts desc
)

select
    abandoned.interaction_id,
    abandoned.media_server_ixn_id,
    abandoned.start_ts,
    abandoned.end_ts,
    abandoned.start_date_time_key,
    abandoned.media_type_key,
    media_types.media_name,
    abandoned.source_address,
    abandoned.target_address,
    last_segments.resource_key as queue_key,
    last_segments.queue_name,
    case
        when ringing.interaction_id is not null then 'ringing at agent'
        when last_segments.technical_result = 'Abandoned' then 'in queue'
        when last_segments.interaction_id is not null then 'after queue'
        else 'before queue'
    end as abandoned_where,
    agents.resource_name as ringing_agent_name,
    {{ ms_between('abandoned.start_ts', 'abandoned.end_ts') }} as wait_ms,
    last_segments.mediation_duration_ms as queue_wait_ms
from abandoned
left join last_segments on abandoned.interaction_id = last_segments.interaction_id
left join ringing on abandoned.interaction_id = ringing.interaction_id
left join agents on ringing.resource_key = agents.resource_key
left join media_types on abandoned.media_type_key = media_types.media_type_key
