{{
    config(
        unique_key='itx_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(digital_interactions_since_watermark()) }}",
        indexes=[
            {'columns': ['itx_id', 'agent_id', 'offered_ts'], 'unique': true},
            {'columns': ['itx_id']},
            {'columns': ['last_landed_at']},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- One row per offer of a digital interaction to an agent (MEASURES.md "Digital interactions"),
    the IRF row's inputs: an `Offered`, its outcome (the first `Accepted` / `Rejected` /
    `OfferTimedOut` of the same interaction and agent before the pair's next `Offered`), and,
    once accepted, the end of the agent's part (the first of its `AgentReleased`, a
    `Transferred` from it, or the interaction's `Completed`). An offer with no outcome when the
    interaction completes ends there (AbandonedWhileRinging when the customer abandoned, else
    Cleared). Role ReceivedTransfer when a `Transferred` came before it in the interaction. The
    queue it was offered from: the interaction's latest `Queued` before it; the segment that
    delivered it: that stay, when it ended at this offer's `Accepted`. Events are ordered by
    (event_ts, seq, event_id). Recomputed per interaction (the touched keys: interactions with
    events landed since the high-water mark). -#}

with

{{ digital_interaction_ctes() }},

offered as (
    select
        itx_id,
        agent_id,
        event_id as offer_event_id,
        event_ts as offered_ts,
        event_rank as offered_rank,
        lead(event_rank) over (partition by itx_id, agent_id order by event_rank) as next_offer_rank
    from ordered_events
    where event_type = 'Offered' and agent_id is not null
),

{# the offer's outcome, its first transfer before it, its queue, and the completion after it #}
outcomes as (
    select
        offered.offer_event_id,
        ordered_events.event_type as outcome,
        ordered_events.event_ts as outcome_ts,
        ordered_events.event_rank as outcome_rank,
        row_number() over (
            partition by offered.offer_event_id order by ordered_events.event_rank
        ) as outcome_order
    from offered
    inner join ordered_events
        on
            offered.itx_id = ordered_events.itx_id
            and offered.agent_id = ordered_events.agent_id
            and ordered_events.event_type in ('Accepted', 'Rejected', 'OfferTimedOut')
            and offered.offered_rank < ordered_events.event_rank
            and (offered.next_offer_rank is null or offered.next_offer_rank > ordered_events.event_rank)
),

first_outcomes as (
    select
        offer_event_id,
        outcome,
        outcome_ts,
        outcome_rank
    from outcomes
    where outcome_order = 1
),

completions as (
    select
        itx_id,
        min(event_rank) as completed_rank
    from ordered_events
    where event_type = 'Completed'
    group by itx_id
),

first_transfers as (
    select
        itx_id,
        min(event_rank) as transfer_rank
    from ordered_events
    where event_type = 'Transferred'
    group by itx_id
),

offer_queues as (
    select
        offered.offer_event_id,
        ordered_events.queue,
        ordered_events.event_ts as queued_ts,
        ordered_events.event_rank as queued_rank,
        row_number() over (
            partition by offered.offer_event_id order by ordered_events.event_rank desc
        ) as queue_order
    from offered
    inner join ordered_events
        on
            offered.itx_id = ordered_events.itx_id
            and ordered_events.event_type = 'Queued'
            and offered.offered_rank > ordered_events.event_rank
),

offers as (
    select
        offered.*,
        interactions.media,
        interactions.last_landed_at,
        case
            when first_outcomes.outcome_rank < coalesce(completions.completed_rank, first_outcomes.outcome_rank + 1)
                then first_outcomes.outcome
        end as outcome,
        case
            when first_outcomes.outcome_rank < coalesce(completions.completed_rank, first_outcomes.outcome_rank + 1)
                then first_outcomes.outcome_ts
        end as outcome_ts,
        case
            when first_outcomes.outcome_rank < coalesce(completions.completed_rank, first_outcomes.outcome_rank + 1)
                then first_outcomes.outcome_rank
        end as outcome_rank,
        completions.completed_rank,
        coalesce(first_transfers.transfer_rank < offered.offered_rank, false) as follows_transfer,
        offer_queues.queue as offered_from_queue,
        offer_queues.queued_ts,
        offer_queues.queued_rank
    from offered
    inner join interactions on offered.itx_id = interactions.itx_id
    left join first_outcomes on offered.offer_event_id = first_outcomes.offer_event_id
    left join completions on offered.itx_id = completions.itx_id
    left join first_transfers on offered.itx_id = first_transfers.itx_id
    left join offer_queues on offered.offer_event_id = offer_queues.offer_event_id and offer_queues.queue_order = 1
    where interactions.media is not null
),

{# the end of an accepted offer's part: its AgentReleased, a Transferred from it, or Completed #}
part_ends as (
    select
        offers.offer_event_id,
        ordered_events.event_type as end_event,
        ordered_events.event_ts as end_ts,
        row_number() over (
            partition by offers.offer_event_id order by ordered_events.event_rank
        ) as end_order
    from offers
    inner join ordered_events
        on
            offers.itx_id = ordered_events.itx_id
            and offers.outcome_rank < ordered_events.event_rank
            and (
                ordered_events.event_type = 'Completed'
                or (
                    ordered_events.event_type in ('AgentReleased', 'Transferred')
                    and offers.agent_id = ordered_events.agent_id
                )
            )
    where offers.outcome = 'Accepted'
),

{# an offer without outcome ends at the interaction's Completed #}
ringing_ends as (
    select
        offers.offer_event_id,
        ordered_events.event_ts as end_ts,
        ordered_events.completion_reason
    from offers
    inner join ordered_events
        on
            offers.itx_id = ordered_events.itx_id
            and offers.completed_rank = ordered_events.event_rank
    where offers.outcome is null and offers.completed_rank > offers.offered_rank
),

{# the stay the offer was offered from ended at this offer's Accepted: no Accepted between #}
delivering_stays as (
    select offers.offer_event_id
    from offers
    where
        offers.outcome = 'Accepted'
        and offers.queued_rank is not null
        and not exists (
            select 1
            from ordered_events
            where
                ordered_events.itx_id = offers.itx_id
                and ordered_events.event_type = 'Accepted'
                and ordered_events.event_rank > offers.queued_rank
                and ordered_events.event_rank < offers.outcome_rank
        )
),

final as (
    select
        offers.itx_id,
        offers.offer_event_id,
        offers.agent_id,
        offers.media,
        offers.offered_ts,
        offers.outcome,
        offers.outcome_ts,
        case when offers.outcome = 'Accepted' then offers.outcome_ts end as accepted_ts,
        case
            when offers.outcome = 'Accepted' then part_ends.end_ts
            when offers.outcome is not null then offers.outcome_ts
            else ringing_ends.end_ts
        end as end_ts,
        case
            when offers.outcome = 'Accepted' then part_ends.end_event
            when offers.outcome is not null then offers.outcome
            when ringing_ends.end_ts is not null then 'Completed'
        end as end_event,
        coalesce(offers.outcome_ts, ringing_ends.end_ts) as ring_end_ts,
        case when offers.follows_transfer then 'ReceivedTransfer' else 'Received' end as resource_role,
        case
            when offers.outcome = 'Accepted' and part_ends.end_event = 'Transferred' then 'Transferred'
            when offers.outcome = 'Accepted' and part_ends.end_event is not null then 'Completed'
            when offers.outcome = 'Rejected' then 'Rejected'
            when offers.outcome = 'OfferTimedOut' then 'Redirected'
            when ringing_ends.completion_reason = 'Abandoned' then 'Abandoned'
            when ringing_ends.end_ts is not null then 'Cleared'
            else 'Unknown'
        end as technical_result,
        case
            when offers.outcome = 'OfferTimedOut' then 'NoAnswer'
            when offers.outcome is null and ringing_ends.completion_reason = 'Abandoned' then 'AbandonedWhileRinging'
            else 'Unspecified'
        end as result_reason,
        offers.offered_from_queue,
        offers.queued_ts as offered_from_queued_ts,
        case when delivering_stays.offer_event_id is not null then offers.queued_ts end as delivering_queued_ts,
        offers.last_landed_at
    from offers
    left join part_ends on offers.offer_event_id = part_ends.offer_event_id and part_ends.end_order = 1
    left join ringing_ends on offers.offer_event_id = ringing_ends.offer_event_id
    left join delivering_stays on offers.offer_event_id = delivering_stays.offer_event_id
)

select * from final
