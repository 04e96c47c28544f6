{{
    config(
        unique_key=['agent_id', 'media'],
        incremental_strategy='delete+insert',
        post_hook=[
            "create unique index if not exists {{ this.identifier }}__session on {{ this }} (agent_id, media, start_ts)",
            "create index if not exists {{ this.identifier }}__start_ts on {{ this }} (start_ts)",
            "create index if not exists {{ this.identifier }}__last_landed_at on {{ this }} (last_landed_at)",
        ]
    )
}}

{#- One row per login session of an agent on a media: login -> the first logout after it.
    A session with no logout ends at the agent's next login on the same media, unless the
    agent was inactive for var('session_timeout_hours') before that login (or before "now",
    when no login follows): then it is closed at its last activity (ended_by 'timeout').
    Activity = the session's state events and the starts and ends of its busy intervals.
    "Now" is the latest event_ts in staging over the agent-activity topics (deterministic,
    never the wall clock). A session neither logged out, followed by a login nor timed out
    is open (end_ts null, active_flag 1).
    Recomputed per (agent, media) for every pair touched by newly landed state events or busy
    intervals, and for every pair with an open session (a later "now" may time it out). -#}

with

touched_pairs as (
    select
        agent_id,
        media
    from {{ ref('int_agent_state__events') }}
    where {{ since_watermark('landed_at') }}
    union
    select
        agent_id,
        media
    from {{ ref('int_agent_state__busy_intervals') }}
    where {{ since_watermark('last_landed_at') }}
    {% if is_incremental() %}
        union
        select
            agent_id,
            media
        from {{ this }}
        where active_flag = 1
    {% endif %}
),

latest_event_ts as (
    select max(event_ts) as event_ts from {{ ref('stg_events__voice_agentstate') }}
    union all
    select max(event_ts) as event_ts from {{ ref('stg_events__digital_agentstate') }}
    union all
    select max(event_ts) as event_ts from {{ ref('stg_events__voice_callthread') }}
    union all
    select max(event_ts) as event_ts from {{ ref('stg_events__digital_itx') }}
),

horizon as (
    select max(event_ts) as now_ts
    from latest_event_ts
),

state_events as (
    select
        events.agent_id,
        events.media,
        events.event_id,
        events.event_ts,
        events.seq,
        events.state_event,
        events.landed_at
    from {{ ref('int_agent_state__events') }} as events
    inner join touched_pairs
        on events.agent_id = touched_pairs.agent_id and events.media = touched_pairs.media
),

busy_intervals as (
    select
        busy.agent_id,
        busy.media,
        busy.busy_start_ts,
        busy.busy_end_ts,
        busy.last_landed_at
    from {{ ref('int_agent_state__busy_intervals') }} as busy
    inner join touched_pairs
        on busy.agent_id = touched_pairs.agent_id and busy.media = touched_pairs.media
),

logins_and_logouts as (
    select
        agent_id,
        media,
        event_ts,
        state_event,
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
        next_state_event as bound_event
    from logins_and_logouts
    where
        state_event = 'login'
        and (next_state_event is distinct from 'login' or next_event_ts > event_ts)
),

activity as (
    select
        agent_id,
        media,
        event_ts as activity_ts,
        cast(null as timestamptz) as login_ts
    from state_events
    where state_event <> 'logout'
    union all
    select
        agent_id,
        media,
        busy_start_ts as activity_ts,
        cast(null as timestamptz) as login_ts
    from busy_intervals
    union all
    select
        agent_id,
        media,
        busy_end_ts as activity_ts,
        cast(null as timestamptz) as login_ts
    from busy_intervals
    where busy_end_ts is not null
    union all
    select
        agent_id,
        media,
        start_ts as activity_ts,
        start_ts as login_ts
    from logins
),

{# each activity belongs to the latest login at or before it #}
activity_in_sessions as (
    select
        agent_id,
        media,
        activity_ts,
        max(login_ts) over (partition by agent_id, media order by activity_ts) as session_start_ts
    from activity
),

last_activity as (
    select
        logins.agent_id,
        logins.media,
        logins.start_ts,
        max(activity_in_sessions.activity_ts) as last_activity_ts
    from logins
    inner join activity_in_sessions
        on
            logins.agent_id = activity_in_sessions.agent_id
            and logins.media = activity_in_sessions.media
            and logins.start_ts = activity_in_sessions.session_start_ts
    where logins.bound_ts is null or activity_in_sessions.activity_ts < logins.bound_ts
    group by logins.agent_id, logins.media, logins.start_ts
),

pair_landings as (
    select
        agent_id,
        media,
        max(landed_at) as last_landed_at
    from state_events
    group by agent_id, media
    union all
    select
        agent_id,
        media,
        max(last_landed_at) as last_landed_at
    from busy_intervals
    group by agent_id, media
),

pair_last_landed as (
    select
        agent_id,
        media,
        max(last_landed_at) as last_landed_at
    from pair_landings
    group by agent_id, media
),

bounded as (
    select
        logins.agent_id,
        logins.media,
        logins.start_ts,
        logins.bound_ts,
        logins.bound_event,
        coalesce(last_activity.last_activity_ts, logins.start_ts) as last_activity_ts,
        coalesce(logins.bound_ts, horizon.now_ts)
        >= coalesce(last_activity.last_activity_ts, logins.start_ts)
        + interval '{{ var("session_timeout_hours") }} hours' as is_timed_out
    from logins
    cross join horizon
    left join last_activity
        on
            logins.agent_id = last_activity.agent_id
            and logins.media = last_activity.media
            and logins.start_ts = last_activity.start_ts
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
        bounded.last_activity_ts,
        pair_last_landed.last_landed_at
    from bounded
    inner join pair_last_landed
        on bounded.agent_id = pair_last_landed.agent_id and bounded.media = pair_last_landed.media
),

final as (
    select
        agent_id,
        media,
        start_ts,
        end_ts,
        cast({{ ms_between("start_ts", "end_ts") }} as bigint) as duration_ms,
        ended_by,
        case when end_ts is null then 1 else 0 end as active_flag,
        last_activity_ts,
        last_landed_at
    from sessions
)

select * from final
