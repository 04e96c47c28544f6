{{
    config(
        unique_key=['call_id', 'party_id'],
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(parties_in_after_call_work_windows()) }}",
        indexes=[
            {'columns': ['call_id', 'party_id'], 'unique': True},
            {'columns': ['agent_id', 'released_ts']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=["{{ analyze_if_stale() }}"],
    )
}}

{# After-call work attributed to parties (MEASURES.md): an AgentNotReady with
    workmode=AfterCallWork that starts at or after a party's Released and before the agent's
    next Ringing or Dialing belongs to the agent's last released party. It lasts until the
    agent's next state event (AgentReady, AgentNotReady with another workmode, AgentLogout,
    AgentLogin) or next Ringing or Dialing, whichever is first. Consecutive AfterCallWork
    NotReady events (a new reason code, say) continue one interval. An interval with no end
    yet has a null end and counts no duration until it ends.

    One row per released agent party that has after-call work; a party without has no row.

    Incremental (macros/incremental.sql), per agent from a recompute instant
    (after_call_work_windows): the agent's last Ringing or Dialing before its earliest new item,
    -infinity when none. The touched keys are the agent's parties released from that instant
    on (parties_in_after_call_work_windows); they are recomputed from the agent's events from
    that instant on. A party that loses its after-call work simply loses its row;
    interaction_resource_fact finds it through the same windows. #}

with

{% if is_incremental() %}

    recompute_from as (
        {{ after_call_work_windows() }}
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
        parties.ring_or_dial_ts as event_ts,
        parties.last_landed_at
    from {{ ref('int_voice__parties') }} as parties
    inner join recompute_from
        on
            parties.agent_id = recompute_from.agent_id
            and parties.ring_or_dial_ts >= recompute_from.recompute_from_ts
),

party_releases as (
    select
        parties.agent_id,
        parties.call_id,
        parties.party_id,
        parties.released_ts,
        parties.last_landed_at
    from {{ ref('int_voice__parties') }} as parties
    {% if is_incremental() %}
        where (parties.call_id, parties.party_id) in (
            select
                touched.call_id,
                touched.party_id
            from {{ touched_keys() }} as touched
        )
    {% else %}
        where parties.agent_id is not null and parties.released_ts is not null
    {% endif %}
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
        max(end_ts) as last_end_ts,
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
        party_intervals.acw_count,
        coalesce(party_intervals.acw_ms, 0) as acw_ms,
        party_intervals.first_start_ts,
        party_intervals.last_end_ts,
        party_intervals.has_open_interval,
        {% if is_incremental() %}
            landing.last_landed_at
        {% else %}
            releases.last_landed_at
        {% endif %}
    from party_releases as releases
    inner join party_intervals
        on releases.call_id = party_intervals.call_id and releases.party_id = party_intervals.party_id
    {% if is_incremental() %}
        left join landing on releases.agent_id = landing.agent_id  -- noqa: ST11
    {% endif %}
)

select * from after_call_work
