{{
    config(
        unique_key='agent_id',
        incremental_strategy='delete+insert',
        pre_hook=["{{ delete_touched('agent_id', touched_agents_for_after_call_work()) }}"],
        post_hook=[
            "create index if not exists {{ this.identifier }}__call_party on {{ this }} (call_id, party_id)",
            "create index if not exists {{ this.identifier }}__agent on {{ this }} (agent_id, start_ts)",
            "create index if not exists {{ this.identifier }}__last_landed_at on {{ this }} (last_landed_at)",
            "analyze {{ this }}",
        ]
    )
}}

{# After-call work attributed to parties (MEASURES.md): an AgentNotReady with
    workmode=AfterCallWork that starts at or after a party's Released and before the agent's
    next Ringing or Dialing belongs to the agent's last released party. It lasts until the
    agent's next state event (AgentReady, AgentNotReady with another workmode, AgentLogout,
    AgentLogin) or next Ringing or Dialing, whichever is first. Consecutive AfterCallWork
    NotReady events (a new reason code, say) continue one interval. An interval with no end
    yet has a null end_ts and counts no duration until it enders. Recomputed for every agent
    touched by newly landed agent-state events or call parties. #}

with

touched_agents as (
    {{ touched_agents_for_after_call_work() }}
),

state_events as (
    select
        events.agent_id,
        events.event_ts,
        events.seq,
        events.event_type = 'AgentNotReady' and events.workmode = 'AfterCallWork' as is_acw,
        events.landed_at
    from {{ ref('stg_events__voice_agentstate') }} as events
    inner join touched_agents on events.agent_id = touched_agents.agent_id
),

party_starts as (
    select
        parties.agent_id,
        coalesce(least(parties.ringing_ts, parties.dialing_ts), parties.ringing_ts, parties.dialing_ts)
            as event_ts,
        parties.last_landed_at
    from {{ ref('int_voice__parties') }} as parties
    inner join touched_agents on parties.agent_id = touched_agents.agent_id
    where parties.ringing_ts is not null or parties.dialing_ts is not null
),

party_releases as (
    select
        parties.agent_id,
        parties.call_id,
        parties.party_id,
        parties.released_ts
    from {{ ref('int_voice__parties') }} as parties
    inner join touched_agents on parties.agent_id = touched_agents.agent_id
    where parties.released_ts is not null
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

{# linear passes: a running count of the events that end ACW (state, ring or dial) numbers
   the stretches between them, and the last release and last ring or dial are carried forward #}
sequenced as (
    select
        agent_id,
        event_ts,
        tie_break,
        kind,
        lag(kind) over agent_order as previous_kind,
        sum(case when kind in ('state', 'ring_or_dial') then 1 else 0 end) over agent_order as stretch,
        max(case when kind = 'release' then event_ts end) over agent_order as last_release_ts,
        max(case when kind = 'ring_or_dial' then event_ts end) over agent_order as last_ring_or_dial_ts
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
        stretch,
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
        stretch,
        last_release_ts,
        last_ring_or_dial_ts
    from acw_events
    where kind = 'acw' and coalesce(previous_non_release_kind, 'state') <> 'acw'
),

{# the event that ends the stretch: the first state, ring or dial event after it #}
stretch_ends as (
    select
        agent_id,
        stretch - 1 as ended_stretch,
        event_ts as end_ts
    from sequenced
    where kind in ('state', 'ring_or_dial')
),

{# attributed to the agent's last released party at or before the start, unless a ring or
   dial came after that release #}
attributed as (
    select
        interval_starts.agent_id,
        interval_starts.start_ts,
        stretch_ends.end_ts,
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
    left join stretch_ends
        on
            interval_starts.agent_id = stretch_ends.agent_id
            and interval_starts.stretch = stretch_ends.ended_stretch
    where
        interval_starts.last_ring_or_dial_ts is null
        or interval_starts.last_ring_or_dial_ts <= interval_starts.last_release_ts
),

landing as (
    select
        agent_id,
        max(landed_at) as last_landed_at
    from state_events
    group by agent_id
),

after_call_work as (
    select
        attributed.agent_id,
        attributed.call_id,
        attributed.party_id,
        attributed.start_ts,
        attributed.end_ts,
        {{ ms_between('attributed.start_ts', 'attributed.end_ts') }} as acw_ms,
        landing.last_landed_at
    from attributed
    left join landing on attributed.agent_id = landing.agent_id
    where attributed.release_rank = 1
)

select * from after_call_work
