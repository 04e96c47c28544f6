{#- Abandoned Interactions report: one row per abandoned interaction, by the rule of ag2_id's
    `abandoned` (AGGREGATES.md): an ended inbound interaction where no agent party of a
    non-consultation call was established. Where it was abandoned: ringing at an agent (an agent
    row ended AbandonedWhileRinging), in queue (its last mediation segment ended Abandoned),
    after queue (the last segment was diverted, e.g. to a routing point) or before any queue.
    wait_ms: the customer's whole time, START_TS -> END_TS; queue_wait_ms: the last segment's
    MEDIATION_DURATION. Every lookup is per abandoned interaction (by index), so a report's date
    range on start_ts reaches interaction_fact's index. -#}

with

interactions as (
    select * from {{ ref('interaction_fact') }}
),

-- read twice (per abandoned interaction, by index): not materialized, or PostgreSQL would
-- copy the whole fact first
party_rows as not materialized (
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

abandoned as (
    select interactions.*
    from interactions
    where
        interactions.end_ts is not null
        and interactions.interaction_type_key = 1
        and not exists (
            select 1
            from party_rows
            where
                party_rows.interaction_id = interactions.interaction_id
                and party_rows.talk_count = 1
                and {{ non_consult_agent_row('party_rows') }}
        )
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
left join lateral (
    select
        segments.interaction_id,
        segments.resource_key,
        segments.queue_name,
        segments.technical_result,
        segments.mediation_duration_ms
    from segments
    where segments.interaction_id = abandoned.interaction_id
    order by segments.start_ts desc, segments.mediation_segment_id desc
    limit 1
) as last_segments on true
left join lateral (
    select
        party_rows.interaction_id,
        party_rows.resource_key
    from party_rows
    where
        party_rows.interaction_id = abandoned.interaction_id
        and party_rows.result_reason = 'AbandonedWhileRinging'
        and {{ non_consult_agent_row('party_rows') }}
    order by party_rows.end_ts desc
    limit 1
) as ringing on true
left join agents on ringing.resource_key = agents.resource_key
left join media_types on abandoned.media_type_key = media_types.media_type_key
