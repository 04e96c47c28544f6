{{
    config(
        unique_key='itx_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(digital_interactions_since_watermark()) }}",
        indexes=[
            {'columns': ['itx_id', 'queued_ts', 'queue'], 'unique': true},
            {'columns': ['itx_id']},
            {'columns': ['last_landed_at']},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- One row per stay of a digital interaction in an interaction queue (MEASURES.md "Digital
    interactions", the MSF row's inputs): a `Queued`, to the first `Accepted` after it (Diverted;
    the target is the offer that was accepted; offers rejected or timed out stay inside the
    segment), or to the interaction's `Completed` (reason Abandoned: Abandoned; Expired,
    Cancelled or any other: Cleared). Open while neither has come. Events are ordered by
    (event_ts, seq, event_id). Recomputed per interaction, like int_digital__offers. -#}

with

{{ digital_interaction_ctes() }},

queued as (
    select
        itx_id,
        event_id as queued_event_id,
        queue,
        event_ts as queued_ts,
        event_rank as queued_rank
    from ordered_events
    where event_type = 'Queued'
),

stay_ends as (
    select
        queued.queued_event_id,
        ordered_events.event_type as end_event,
        ordered_events.event_ts as end_ts,
        ordered_events.event_rank as end_rank,
        ordered_events.agent_id as end_agent_id,
        ordered_events.completion_reason,
        row_number() over (
            partition by queued.queued_event_id order by ordered_events.event_rank
        ) as end_order
    from queued
    inner join ordered_events
        on
            queued.itx_id = ordered_events.itx_id
            and ordered_events.event_type in ('Accepted', 'Completed')
            and queued.queued_rank < ordered_events.event_rank
),

{# the accepted offer: the latest Offered to the accepting agent before the Accepted #}
target_offers as (
    select
        stay_ends.queued_event_id,
        ordered_events.agent_id as offer_agent_id,
        ordered_events.event_ts as offer_offered_ts,
        row_number() over (
            partition by stay_ends.queued_event_id order by ordered_events.event_rank desc
        ) as offer_order
    from stay_ends
    inner join queued on stay_ends.queued_event_id = queued.queued_event_id
    inner join ordered_events
        on
            queued.itx_id = ordered_events.itx_id
            and ordered_events.event_type = 'Offered'
            and stay_ends.end_agent_id = ordered_events.agent_id
            and stay_ends.end_rank > ordered_events.event_rank
    where stay_ends.end_order = 1 and stay_ends.end_event = 'Accepted'
),

final as (
    select
        queued.itx_id,
        queued.queued_event_id,
        queued.queue,
        interactions.media,
        queued.queued_ts,
        stay_ends.end_ts,
        case
            when stay_ends.end_event = 'Accepted' then 'Diverted'
            when stay_ends.end_event = 'Completed' and stay_ends.completion_reason = 'Abandoned' then 'Abandoned'
            when stay_ends.end_event = 'Completed' then 'Cleared'
        end as technical_result,
        target_offers.offer_agent_id as target_agent_id,
        target_offers.offer_offered_ts as target_offered_ts,
        interactions.last_landed_at
    from queued
    inner join interactions on queued.itx_id = interactions.itx_id
    left join stay_ends on queued.queued_event_id = stay_ends.queued_event_id and stay_ends.end_order = 1
    left join target_offers on queued.queued_event_id = target_offers.queued_event_id and target_offers.offer_order = 1
    where interactions.media is not null
)

select * from final
