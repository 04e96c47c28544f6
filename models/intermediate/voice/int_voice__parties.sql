{{
    config(
        unique_key='call_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(calls_with_new_events()) }}",
        indexes=[
            {'columns': ['call_id', 'party_id'], 'unique': True},
            {'columns': ['root_id']},
            {'columns': ['agent_id', 'released_ts']},
            {'columns': ['agent_id', 'ring_or_dial_ts']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=["{{ analyze_if_stale() }}"],
    )
}}

{# One row per party of a call: its whole life from the call's events. Recomputed for every
    call touched by newly landed events, from all of that call's events, so late and
    out-of-order events only ever cause a recomputation. Ordering inside a party is by
    (event_ts, seq). Also the delivered-to links of MEASURES.md (below). #}

with

call_events as (
    select events.*
    from {{ ref('stg_events__voice_callthread') }} as events
    {% if is_incremental() %}
        where events.call_id in (select touched.call_id from {{ touched_keys() }} as touched)
    {% endif %}
),

calls as (
    select
        call_id,
        max(case when event_type = 'CallCreated' then thread_id end) as thread_id,
        max(case when event_type = 'CallCreated' then call_type end) as call_type,
        max(landed_at) as last_landed_at
    from call_events
    group by call_id
),

party_lives as (
    select
        call_id,
        party_id,
        min(case when event_type = 'PartyAdded' then event_ts end) as added_ts,
        max(case when event_type = 'PartyAdded' then dn end) as dn,
        max(case when event_type = 'PartyAdded' then dn_type end) as dn_type,
        max(case when event_type = 'PartyAdded' then agent_id end) as agent_id,
        max(case when event_type = 'PartyAdded' then reason end) as added_reason,
        max(case when event_type = 'PartyAdded' then initiator_party_id end) as initiator_party_id,
        min(case when event_type = 'Queued' then event_ts end) as queued_ts,
        max(case when event_type = 'Queued' then queue end) as queue,
        min(case when event_type = 'Diverted' then event_ts end) as diverted_ts,
        max(case when event_type = 'Diverted' then target_party_id end) as target_party_id,
        min(case when event_type = 'Ringing' then event_ts end) as ringing_ts,
        min(case when event_type = 'Dialing' then event_ts end) as dialing_ts,
        min(case when event_type = 'Established' then event_ts end) as established_ts,
        min(case when event_type = 'Released' then event_ts end) as released_ts,
        count(case when event_type = 'Held' then 1 end) as hold_count
    from call_events
    where party_id is not null
    group by call_id, party_id
),

release_causes as (
    select
        call_id,
        party_id,
        cause,
        row_number() over (partition by call_id, party_id order by event_ts, seq) as release_rank
    from call_events
    where event_type = 'Released'
),

hold_sequence as (
    select
        call_id,
        party_id,
        event_type,
        event_ts,
        lead(event_type) over party_order as next_event_type,
        lead(event_ts) over party_order as next_event_ts
    from call_events
    where event_type in ('Held', 'Retrieved', 'Released')
    window party_order as (partition by call_id, party_id order by event_ts, seq)
),


{# a hold lasts until the party's next Retrieved or Released; a second Held first ends it too
    (a contradiction, reported by int_voice__event_anomalies) #}
holds as (
    select
        call_id,
        party_id,
        event_ts as held_ts,
        next_event_ts as hold_end_ts
    from hold_sequence
    where event_type = 'Held'
),


{# the customer: the External party of an inbound call (first one added) #}
customers as (
    select
        party_lives.call_id,
        party_lives.party_id,
        party_lives.released_ts,
        row_number() over (
            partition by party_lives.call_id order by party_lives.added_ts, party_lives.party_id
        ) as customer_rank
    from party_lives
    inner join calls on party_lives.call_id = calls.call_id
    where party_lives.dn_type = 'External' and calls.call_type = 'Inbound'
),

hold_totals as (
    select
        holds.call_id,
        holds.party_id,
        sum({{ ms_between('holds.held_ts', 'holds.hold_end_ts') }}) as hold_ms,
        max(case when holds.hold_end_ts is null then 1 else 0 end) as has_open_hold,
        max(
            case
                when
                    customers.released_ts >= holds.held_ts
                    and (holds.hold_end_ts is null or customers.released_ts <= holds.hold_end_ts)
                    then 1
                else 0
            end
        ) as customer_released_while_held
    from holds
    left join customers on holds.call_id = customers.call_id and customers.customer_rank = 1
    group by holds.call_id, holds.party_id
),

{# Delivered to (MEASURES.md): a Queue or RoutingPoint party delivered the call to the party
    its Diverted names; a mediation party with no such Diverted, to the party whose
    initiator_party_id names it. A party named by several Diverted events keeps the latest. #}
diverted_to as (
    select
        call_id,
        target_party_id as party_id,
        party_id as mediator_party_id,
        row_number() over (
            partition by call_id, target_party_id order by diverted_ts desc, party_id desc
        ) as diverted_rank
    from party_lives
    where dn_type in ('Queue', 'RoutingPoint') and target_party_id is not null
),

delivered_by as (
    select
        party_lives.call_id,
        party_lives.party_id,
        party_lives.added_ts,
        coalesce(diverted_to.mediator_party_id, initiator.party_id) as delivered_by_party_id
    from party_lives
    left join diverted_to
        on
            party_lives.call_id = diverted_to.call_id
            and party_lives.party_id = diverted_to.party_id
            and diverted_to.diverted_rank = 1
    left join party_lives as initiator
        on
            party_lives.call_id = initiator.call_id
            and party_lives.initiator_party_id = initiator.party_id
            and initiator.dn_type in ('Queue', 'RoutingPoint')
            and initiator.target_party_id is null
),

{# the party a mediation party delivered the call to: its Diverted target, else the first
    party (by added_ts, party_id) it delivered the call to through initiator_party_id #}
initiator_deliveries as (
    select
        call_id,
        delivered_by_party_id as party_id,
        party_id as delivered_to_party_id,
        row_number() over (
            partition by call_id, delivered_by_party_id order by added_ts, party_id
        ) as delivery_rank
    from delivered_by
    where delivered_by_party_id is not null
),

parties as (
    select
        party_lives.call_id,
        party_lives.party_id,
        {{ infomart_key(['party_lives.call_id', 'party_lives.party_id']) }} as party_key,
        coalesce(calls.thread_id, calls.call_id) as root_id,
        calls.thread_id,
        calls.call_type,
        party_lives.dn,
        party_lives.dn_type,
        party_lives.agent_id,
        party_lives.added_reason,
        party_lives.initiator_party_id,
        party_lives.added_ts,
        party_lives.queue,
        party_lives.queued_ts,
        party_lives.diverted_ts,
        party_lives.target_party_id,
        delivered_by.delivered_by_party_id,
        case
            when party_lives.dn_type in ('Queue', 'RoutingPoint')
                then coalesce(party_lives.target_party_id, initiator_deliveries.delivered_to_party_id)
        end as delivered_to_party_id,
        party_lives.ringing_ts,
        party_lives.dialing_ts,
        least(party_lives.ringing_ts, party_lives.dialing_ts) as ring_or_dial_ts,
        party_lives.established_ts,
        party_lives.released_ts,
        release_causes.cause as release_cause,
        party_lives.hold_count,
        coalesce(hold_totals.hold_ms, 0) as hold_ms,
        coalesce(hold_totals.has_open_hold, 0) = 1 as has_open_hold,
        customers.party_id is not null as is_customer,
        customer.released_ts as customer_released_ts,
        coalesce(
            customer.released_ts >= party_lives.ringing_ts
            and customer.released_ts <= coalesce(party_lives.established_ts, party_lives.released_ts)
            and customer.released_ts <= party_lives.released_ts,
            false
        ) as customer_released_while_ringing,
        coalesce(
            hold_totals.customer_released_while_held = 1
            and customer.released_ts <= party_lives.released_ts,
            false
        ) as customer_released_while_held,
        calls.last_landed_at
    from party_lives
    inner join calls on party_lives.call_id = calls.call_id
    left join release_causes
        on
            party_lives.call_id = release_causes.call_id
            and party_lives.party_id = release_causes.party_id
            and release_causes.release_rank = 1
    left join hold_totals
        on party_lives.call_id = hold_totals.call_id and party_lives.party_id = hold_totals.party_id
    left join customers
        on
            party_lives.call_id = customers.call_id
            and party_lives.party_id = customers.party_id
            and customers.customer_rank = 1
    left join customers as customer
        on party_lives.call_id = customer.call_id and customer.customer_rank = 1
    left join delivered_by
        on party_lives.call_id = delivered_by.call_id and party_lives.party_id = delivered_by.party_id
    left join initiator_deliveries
        on
            party_lives.call_id = initiator_deliveries.call_id
            and party_lives.party_id = initiator_deliveries.party_id
            and initiator_deliveries.delivery_rank = 1
)

select * from parties
