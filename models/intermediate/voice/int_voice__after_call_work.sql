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


{# every event that can end an ACW interval, with the interval starts among them #}
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
),

sequenced as (
    select
        agent_id,
        event_ts,
        kind,
        lag(kind) over agent_order as previous_kind,
        lead(event_ts) over agent_order as next_ts,
        lead(kind) over agent_order as next_kind
    from agent_timeline
    window agent_order as (partition by agent_id order by event_ts, tie_break)
),


{# an interval starts at an ACW event that does not continue an ACW interval #}
interval_starts as (
    select
        agent_id,
        event_ts as start_ts,
        row_number() over (partition by agent_id order by event_ts) as interval_number
    from sequenced
    where kind = 'acw' and coalesce(previous_kind, 'state') <> 'acw'
),

interval_ends as (
    select
        acw_starts.agent_id,
        acw_starts.start_ts,
        min(enders.event_ts) as end_ts
    from interval_starts as acw_starts
    left join sequenced as enders
        on
            acw_starts.agent_id = enders.agent_id
            and acw_starts.start_ts < enders.event_ts
            and enders.kind <> 'acw'
    group by acw_starts.agent_id, acw_starts.start_ts
),


{# the last party the agent released at or before the start, with no ring or dial between #}
last_release as (
    select
        intervals.agent_id,
        intervals.start_ts,
        releases.call_id,
        releases.party_id,
        releases.released_ts,
        row_number() over (
            partition by intervals.agent_id, intervals.start_ts
            order by releases.released_ts desc, releases.call_id desc, releases.party_id desc
        ) as release_rank
    from interval_ends as intervals
    inner join party_releases as releases
        on intervals.agent_id = releases.agent_id and intervals.start_ts >= releases.released_ts
),

attributed as (
    select
        intervals.agent_id,
        intervals.start_ts,
        intervals.end_ts,
        last_release.call_id,
        last_release.party_id
    from interval_ends as intervals
    inner join last_release
        on
            intervals.agent_id = last_release.agent_id
            and intervals.start_ts = last_release.start_ts
            and last_release.release_rank = 1
    where not exists (
        select 1
        from party_starts
        where
            party_starts.agent_id = intervals.agent_id
            and party_starts.event_ts > last_release.released_ts
            and party_starts.event_ts <= intervals.start_ts
    )
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
)

select * from after_call_work
