{{
    config(
        unique_key=['call_id', 'party_id'],
        incremental_strategy='delete+insert',
        post_hook=[
            "create unique index if not exists {{ this.identifier }}__call_party on {{ this }} (call_id, party_id)",
            "create index if not exists {{ this.identifier }}__agent on {{ this }} (agent_id, released_ts)",
            "create index if not exists {{ this.identifier }}__last_landed_at on {{ this }} (last_landed_at)",
            "{{ analyze_if_stale() }}",
        ]
    )
}}

{# After-call work attributed to parties (MEASURES.md): an AgentNotReady with
    workmode=AfterCallWork that starts at or after a party's Released and before the agent's
    next Ringing or Dialing belongs to the agent's last released party. It lasts until the
    agent's next state event (AgentReady, AgentNotReady with another workmode, AgentLogout,
    AgentLogin) or next Ringing or Dialing, whichever is first. Consecutive AfterCallWork
    NotReady events (a new reason code, say) continue one interval. An interval with no end
    yet has a null end and counts no duration until it ends.

    One row per released agent party, with the count and duration of the intervals attributed
    to it (zero when none), so a party that loses its after-call work to a late event gets a
    fresh row too, and interaction_resource_fact sees it.

    Incremental, per agent from a recompute instant: the agent's last Ringing or Dialing
    before its earliest new item (a new agent-state event, or the earliest instant of a new or
    changed party of the agent), -infinity when none. A Ringing or Dialing ends every stretch
    and no interval starting after it can be attributed to a party released before it, so
    the intervals starting before that instant cannot change, and every party released from
    it on is recomputed from the agent's events from it on (delete+insert by party). #}

with

{% if is_incremental() %}

    new_items as (
        select
            agent_id,
            event_ts as item_ts
        from {{ ref('stg_events__voice_agentstate') }}
        where {{ since_watermark('landed_at') }}
        union all
        select
            agent_id,
            least(ringing_ts, dialing_ts, released_ts) as item_ts
        from {{ ref('int_voice__parties') }}
        where agent_id is not null and {{ since_watermark('last_landed_at') }}
    ),

    earliest_new_items as (
        select
            agent_id,
            min(item_ts) as item_ts
        from new_items
        where item_ts is not null
        group by agent_id
    ),

    recompute_from as (
        select
            earliest_new_items.agent_id,
            coalesce(last_start.start_ts, '-infinity'::timestamptz) as recompute_from_ts
        from earliest_new_items
        left join lateral (
            select least(parties.ringing_ts, parties.dialing_ts) as start_ts
            from {{ ref('int_voice__parties') }} as parties
            where
                parties.agent_id = earliest_new_items.agent_id
                and least(parties.ringing_ts, parties.dialing_ts) < earliest_new_items.item_ts
            order by least(parties.ringing_ts, parties.dialing_ts) desc
            limit 1
        ) as last_start on true
    ),

{% else %}

    recompute_from as (
        select
            agent_id,
            '-infinity'::timestamptz as recompute_from_ts
        from {{ ref('int_voice__parties') }}
        where agent_id is not null
        group by agent_id
    ),

{% endif %}

state_events as (
    select
        events.agent_id,
        events.event_ts,
        events.seq,
        events.event_type = 'AgentNotReady' and events.workmode = 'AfterCallWork' as is_acw,
        events.landed_at
    from {{ ref('stg_events__voice_agentstate') }} as events
    {% if is_incremental() %}
        inner join recompute_from
            on
                events.agent_id = recompute_from.agent_id
                and events.event_ts >= recompute_from.recompute_from_ts
    {% endif %}
),

party_starts as (
    select
        parties.agent_id,
        least(parties.ringing_ts, parties.dialing_ts) as event_ts,
        parties.last_landed_at
    from {{ ref('int_voice__parties') }} as parties
    inner join recompute_from
        on
            parties.agent_id = recompute_from.agent_id
            and least(parties.ringing_ts, parties.dialing_ts) >= recompute_from.recompute_from_ts
),

party_releases as (
    select
        parties.agent_id,
        parties.call_id,
        parties.party_id,
        parties.released_ts,
        parties.last_landed_at
    from {{ ref('int_voice__parties') }} as parties
    inner join recompute_from
        on
            parties.agent_id = recompute_from.agent_id
            and parties.released_ts >= recompute_from.recompute_from_ts
),

{# one ordered timeline per agent: releases first at equal times (an ACW may start at the
   Released), then rings and dials, then state events in their order #}
agent_timeline as (
    select
        agent_id,
        event_ts,
        seq as tie_break,
        case when is_acw then 'acw' else 'state' end as kind
    from state_events
    union all
    select
        agent_id,
        event_ts,
        -1 as tie_break,
        'ring_or_dial' as kind
    from party_starts
    union all
    select
        agent_id,
        released_ts as event_ts,
        -2 as tie_break,
        'release' as kind
    from party_releases
),

{# linear passes: the last release and last ring or dial are carried forward, and the first
   event that ends ACW (a state event, a ring or a dial) after each event is carried backward
   (a frame that grows from unbounded preceding, so each pass is linear) #}
sequenced as (
    select
        agent_id,
        event_ts,
        tie_break,
        kind,
        max(case when kind = 'release' then event_ts end) over agent_order as last_release_ts,
        max(case when kind = 'ring_or_dial' then event_ts end) over agent_order as last_ring_or_dial_ts,
        min(case when kind in ('state', 'ring_or_dial') then event_ts end) over (
            partition by agent_id
            order by event_ts desc, tie_break desc
            rows between unbounded preceding and 1 preceding
        ) as next_end_ts
    from agent_timeline
    window agent_order as (
        partition by agent_id order by event_ts, tie_break rows between unbounded preceding and current row
    )
),

{# an interval starts at an ACW event that does not continue an ACW interval (releases in
   between do not break it) #}
acw_events as (
    select
        agent_id,
        event_ts,
        kind,
        next_end_ts,
        last_release_ts,
        last_ring_or_dial_ts,
        lag(kind) over (partition by agent_id order by event_ts, tie_break) as previous_non_release_kind
    from sequenced
    where kind <> 'release'
),

interval_starts as (
    select
        agent_id,
        event_ts as start_ts,
        next_end_ts as end_ts,
        last_release_ts,
        last_ring_or_dial_ts
    from acw_events
    where kind = 'acw' and coalesce(previous_non_release_kind, 'state') <> 'acw'
),

{# attributed to the agent's last released party at or before the start, unless a ring or
   dial came after that release #}
attributed as (
    select
        interval_starts.agent_id,
        interval_starts.start_ts,
        interval_starts.end_ts,
        releases.call_id,
        releases.party_id,
        row_number() over (
            partition by interval_starts.agent_id, interval_starts.start_ts
            order by releases.call_id desc, releases.party_id desc
        ) as release_rank
    from interval_starts
    inner join party_releases as releases
        on
            interval_starts.agent_id = releases.agent_id
            and interval_starts.last_release_ts = releases.released_ts
    where
        interval_starts.last_ring_or_dial_ts is null
        or interval_starts.last_ring_or_dial_ts <= interval_starts.last_release_ts
),

party_intervals as (
    select
        call_id,
        party_id,
        count(*) as acw_count,
        sum({{ ms_between('start_ts', 'end_ts') }}) as acw_ms,
        min(start_ts) as first_start_ts,
        bool_or(end_ts is null) as has_open_interval
    from attributed
    where release_rank = 1
    group by call_id, party_id
),

{# on an incremental run every recomputed row is stamped with the latest landing in its
   agent's window, so the parties whose after-call work a new event may have moved all look new
   downstream; a full build stamps each party with its own landing (stamping the whole history
   with the latest landing made the next cycle of interaction_resource_fact recompute every
   call) #}
{% if is_incremental() %}

    window_landings as (
        select
            agent_id,
            landed_at
        from state_events
        union all
        select
            agent_id,
            last_landed_at as landed_at
        from party_starts
        union all
        select
            agent_id,
            last_landed_at as landed_at
        from party_releases
    ),

    landing as (
        select
            agent_id,
            max(landed_at) as last_landed_at
        from window_landings
        group by agent_id
    ),

{% endif %}

after_call_work as (
    select
        releases.agent_id,
        releases.call_id,
        releases.party_id,
        releases.released_ts,
        coalesce(party_intervals.acw_count, 0) as acw_count,
        coalesce(party_intervals.acw_ms, 0) as acw_ms,
        party_intervals.first_start_ts,
        coalesce(party_intervals.has_open_interval, false) as has_open_interval,
        {% if is_incremental() %}
            landing.last_landed_at
        {% else %}
            releases.last_landed_at
        {% endif %}
    from party_releases as releases
    left join party_intervals
        on releases.call_id = party_intervals.call_id and releases.party_id = party_intervals.party_id
    {% if is_incremental() %}
        left join landing on releases.agent_id = landing.agent_id
    {% endif %}
)

select * from after_call_work
