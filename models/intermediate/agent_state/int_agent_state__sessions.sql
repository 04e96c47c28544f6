{{ agent_state_config(per_run=false) }}

{#- One row per login session of an agent on a media: login -> the first logout after it.
    A session with no logout ends at the agent's next login on the same media, unless the
    agent was inactive for var('session_timeout_hours') before that login (or before "now",
    when no login follows): then it is closed at its last activity (ended_by 'timeout').
    Activity = the session's state events and the starts and ends of its busy intervals.
    "Now" is the latest event_ts in staging over the agent-activity topics (deterministic,
    never the wall clock). A session neither logged out, followed by a login nor timed out
    is open (end_ts null, active_flag 1).
    Incremental, from a recompute instant per (agent, media) (macros/agent_state.sql): a new
    state event or busy interval (landed since the high-water mark) can only change the
    session it falls in and the later ones, so each touched pair is recomputed from the start
    of the latest session that starts before its earliest new item (from its open session
    too once a later "now" may time it out: inactive for the timeout), reading only the inputs
    from that instant on. The touched keys are the pair's old sessions from that instant on. -#}

{%- set recompute_floor = agent_state_recompute_floor(
    this, 'media', 'start_ts'
) %}

with

horizon as (
    {{ agent_activity_horizon() }}
),

state_events as (
    select
        events.agent_id,
        events.media,
        events.event_id,
        events.event_ts,
        events.seq,
        events.state_event,
        events.capacity,
        events.landed_at
    from {{ ref('int_agent_state__events') }} as events
    {% if is_incremental() %}
        {{ join_recompute_window('events', 'event_ts', recompute_floor) }}
    {% endif %}
),

busy_intervals as (
    select
        busy.agent_id,
        busy.media,
        busy.busy_start_ts,
        busy.busy_end_ts,
        busy.last_landed_at
    from {{ ref('int_agent_state__busy_intervals') }} as busy
    {% if is_incremental() %}
        {{ join_recompute_window('busy', 'busy_start_ts', recompute_floor) }}
        {#- one that starts before the recompute instant and ends after it is activity there #}
        union all
        select
            busy.agent_id,
            busy.media,
            busy.busy_start_ts,
            busy.busy_end_ts,
            busy.last_landed_at
        from {{ ref('int_agent_state__busy_intervals') }} as busy
        {{ join_recompute_window('busy', 'busy_end_ts', recompute_floor) }}
        where busy.busy_start_ts < recompute_window.recompute_from_ts
    {% endif %}
),

logins_and_logouts as (
    select
        agent_id,
        media,
        event_ts,
        state_event,
        capacity,
        lead(event_ts) over pair_order as next_event_ts,
        lead(state_event) over pair_order as next_state_event
    from state_events
    where state_event in ('login', 'logout')
    window pair_order as (partition by agent_id, media order by event_ts, seq, event_id)
),

{# bound: the logout or login that follows a login; a second login at the very same instant
    replaces the first #}
logins as (
    select
        agent_id,
        media,
        event_ts as start_ts,
        next_event_ts as bound_ts,
        next_state_event as bound_event,
        capacity
    from logins_and_logouts
    where
        state_event = 'login'
        and (next_state_event is distinct from 'login' or next_event_ts > event_ts)
),

{# the session's items: its state events (a logout is no activity) and the starts and ends of
    its busy intervals, each with its landing; the logins mark where sessions start and carry
    their bounds #}
items as (
    select
        agent_id,
        media,
        event_ts as item_ts,
        state_event <> 'logout' as is_activity,
        landed_at,
        cast(null as timestamptz) as login_ts,
        cast(null as timestamptz) as bound_ts,
        cast(null as text) as bound_event,
        cast(null as integer) as capacity
    from state_events
    union all
    select
        agent_id,
        media,
        busy_start_ts as item_ts,
        true as is_activity,
        last_landed_at as landed_at,
        cast(null as timestamptz) as login_ts,
        cast(null as timestamptz) as bound_ts,
        cast(null as text) as bound_event,
        cast(null as integer) as capacity
    from busy_intervals
    union all
    select
        agent_id,
        media,
        busy_end_ts as item_ts,
        true as is_activity,
        last_landed_at as landed_at,
        cast(null as timestamptz) as login_ts,
        cast(null as timestamptz) as bound_ts,
        cast(null as text) as bound_event,
        cast(null as integer) as capacity
    from busy_intervals
    where busy_end_ts is not null
    union all
    select
        agent_id,
        media,
        start_ts as item_ts,
        true as is_activity,
        cast(null as timestamptz) as landed_at,
        start_ts as login_ts,
        coalesce(bound_ts, cast('infinity' as timestamptz)) as bound_ts,
        bound_event,
        capacity
    from logins
),

{# each item belongs to the latest login at or before it; the bounds grow with the logins, so
    the latest login's bound is the largest so far #}
items_in_sessions as (
    select
        agent_id,
        media,
        item_ts,
        is_activity,
        landed_at,
        bound_event,
        capacity,
        max(login_ts) over pair_order as session_start_ts,
        max(bound_ts) over pair_order as session_bound_ts
    from items
    window pair_order as (partition by agent_id, media order by item_ts)
),

{# last activity: before the bound; last landing: of the items up to the bound (incl. a logout) #}
session_items as (
    select
        agent_id,
        media,
        session_start_ts as start_ts,
        max(session_bound_ts) as bound_ts,
        max(bound_event) as bound_event,
        max(capacity) as capacity,
        max(item_ts) filter (where is_activity and item_ts < session_bound_ts) as last_activity_ts,
        max(landed_at) filter (where item_ts <= session_bound_ts) as last_landed_at
    from items_in_sessions
    where session_start_ts is not null
    group by agent_id, media, session_start_ts
),

bounded as (
    select
        session_items.agent_id,
        session_items.media,
        session_items.start_ts,
        nullif(session_items.bound_ts, cast('infinity' as timestamptz)) as bound_ts,
        session_items.bound_event,
        session_items.capacity,
        coalesce(session_items.last_activity_ts, session_items.start_ts) as last_activity_ts,
        coalesce(nullif(session_items.bound_ts, cast('infinity' as timestamptz)), horizon.now_ts)
        >= coalesce(session_items.last_activity_ts, session_items.start_ts)
        + interval '{{ var("session_timeout_hours") }} hours' as is_timed_out,
        session_items.last_landed_at
    from session_items
    cross join horizon
),

sessions as (
    select
        bounded.agent_id,
        bounded.media,
        bounded.start_ts,
        case
            when bounded.bound_event = 'logout' then bounded.bound_ts
            when bounded.is_timed_out then bounded.last_activity_ts
            else bounded.bound_ts
        end as end_ts,
        case
            when bounded.bound_event = 'logout' then 'logout'
            when bounded.is_timed_out then 'timeout'
            when bounded.bound_event = 'login' then 'next_login'
            else 'open'
        end as ended_by,
        bounded.capacity,
        bounded.last_activity_ts,
        bounded.last_landed_at
    from bounded
),

final as (
    select
        agent_id,
        media,
        start_ts,
        end_ts,
        cast({{ ms_between("start_ts", "end_ts") }} as bigint) as duration_ms,
        ended_by,
        {#- MEASURES.md: the MediaLogin capacity, 1 for voice (and a login without one) #}
        coalesce(capacity, 1) as capacity,
        case when end_ts is null then 1 else 0 end as active_flag,
        last_activity_ts,
        last_landed_at
    from sessions
)

select * from final
