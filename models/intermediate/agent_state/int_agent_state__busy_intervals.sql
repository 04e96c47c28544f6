{{
    config(
        unique_key=['busy_source', 'interaction_id'],
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(busy_items_since_watermark()) }}",
        indexes=[
            {'columns': ['interaction_id']},
            {'columns': ['agent_id', 'media', 'busy_start_ts']},
            {'columns': ['agent_id', 'media', 'busy_end_ts']},
            {'columns': ['last_landed_at']},
            {'columns': ['busy_start_ts']},
            {'columns': ['busy_end_ts']},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- When an agent is Busy on a media (MEASURES.md, CONVENTIONS.md "Agent states"):
    voice: an agent party from the first of its Ringing / Dialing / Established to its Released;
    digital: an offer to the agent from Offered to the next Rejected / OfferTimedOut /
    Transferred (agent_id = the transferring agent) / AgentReleased of the same interaction and
    agent (or to a later Offered of the same pair, should the end event be missing).
    busy_end_ts is null while the party or offer has not ended. Touched keys (macro
    busy_items_since_watermark): the calls of int_voice__parties rows (it recomputes whole
    calls) and the digital interactions landed since the high-water mark; each is recomputed
    from all its rows, so late events only cause a recomputation. -#}

with

voice_parties as (
    select
        call_id,
        party_id,
        agent_id,
        least(ringing_ts, dialing_ts, established_ts) as busy_start_ts,
        released_ts as busy_end_ts,
        last_landed_at
    from {{ ref('int_voice__parties') }}
    where
        agent_id is not null
        {% if is_incremental() %}
            and call_id in (
                select touched.interaction_id from {{ touched_keys() }} as touched
                where touched.busy_source = 'party'
            )
        {% endif %}
),

voice_busy as (
    select
        'party' as busy_source,
        call_id as interaction_id,
        party_id as busy_item_id,
        agent_id,
        'voice' as media,
        busy_start_ts,
        busy_end_ts,
        last_landed_at
    from voice_parties
    where busy_start_ts is not null
),

interaction_events as (
    select events.*
    from {{ ref('stg_events__digital_itx') }} as events
    {% if is_incremental() %}
        where events.itx_id in (
            select touched.interaction_id from {{ touched_keys() }} as touched
            where touched.busy_source = 'offer'
        )
    {% endif %}
),

interactions as (
    select
        itx_id,
        max(case when event_type = 'InteractionCreated' then media_type end) as media,
        max(landed_at) as last_landed_at
    from interaction_events
    group by itx_id
),

offer_events as (
    select
        itx_id,
        agent_id,
        event_id,
        event_type,
        event_ts,
        lead(event_ts) over agent_order as next_event_ts
    from interaction_events
    where
        agent_id is not null
        and event_type in ('Offered', 'Rejected', 'OfferTimedOut', 'Transferred', 'AgentReleased')
    window agent_order as (partition by itx_id, agent_id order by event_ts, seq, event_id)
),

digital_busy as (
    select
        'offer' as busy_source,
        offer_events.itx_id as interaction_id,
        offer_events.event_id as busy_item_id,
        offer_events.agent_id,
        interactions.media,
        offer_events.event_ts as busy_start_ts,
        offer_events.next_event_ts as busy_end_ts,
        interactions.last_landed_at
    from offer_events
    inner join interactions on offer_events.itx_id = interactions.itx_id
    where offer_events.event_type = 'Offered' and interactions.media is not null
),

busy_intervals as (
    select * from voice_busy
    union all
    select * from digital_busy
)

select * from busy_intervals
