{{ agent_state_session_config("ref('int_agent_state__sessions')", 'session_start_ts',
    [{'columns': ['agent_id', 'media', 'session_start_ts']}]) }}

{#- NotReady and AfterCallWork intervals with their reason (MEASURES.md
    SM_RES_STATE_REASON_FACT): maximal runs of one (workmode, reason_code) pair inside a
    session, from the state events alone (busy time does not cut them). The login counts as
    (AuxWork, null) until the first Ready / NotReady; a digital MediaNotReady counts as AuxWork;
    a Ready ends the run; a NotReady with the same workmode and reason continues it. A run
    lasts until the next state event that changes the pair, or the session's end (null while
    the session is open). Resource state: AfterCallWork for workmode AfterCallWork, else
    NotReady. A session of zero length keeps its zero-length login run.
    Incremental like int_agent_state__state_intervals: the sessions from the pair's recompute
    instant on are rebuilt; the touched keys are the pair's old sessions from there on, so a
    rebuilt session without any run (its login instant's last event is a Ready) loses its old
    rows. -#}

-- depends_on: {{ ref('int_agent_state__events') }}
-- depends_on: {{ ref('int_agent_state__busy_intervals') }}
-- depends_on: {{ ref('int_agent_state__sessions') }}

{%- set recompute_floor = agent_state_recompute_floor(
    ref('int_agent_state__sessions'), 'media', 'session_start_ts'
) %}

with

sessions as (
    select
        sessions.agent_id,
        sessions.media,
        sessions.start_ts as session_start_ts,
        sessions.end_ts as session_end_ts,
        sessions.last_landed_at
    from {{ ref('int_agent_state__sessions') }} as sessions
    {% if is_incremental() %}
        {{ join_recompute_window('sessions', 'start_ts', recompute_floor) }}
    {% endif %}
),

state_events as (
    select
        events.agent_id,
        events.media,
        events.event_ts,
        events.state_event = 'ready' as is_ready,
        case when events.state_event = 'login' then 'AuxWork' else events.workmode end as workmode,
        events.reason_code,
        row_number() over (
            partition by events.agent_id, events.media, events.event_ts
            order by events.seq desc, events.event_id desc
        ) as rank_in_instant
    from {{ ref('int_agent_state__events') }} as events
    {% if is_incremental() %}
        {{ join_recompute_window('events', 'event_ts', recompute_floor) }}
    {% endif %}
    where events.state_event in ('login', 'ready', 'not_ready')
),

timeline_items as (
    select
        agent_id,
        media,
        session_start_ts as item_ts,
        session_start_ts as session_marker_ts,
        cast(null as boolean) as is_ready,
        cast(null as text) as workmode,
        cast(null as text) as reason_code
    from sessions
    union all
    select
        agent_id,
        media,
        event_ts as item_ts,
        cast(null as timestamptz) as session_marker_ts,
        is_ready,
        workmode,
        reason_code
    from state_events
    where rank_in_instant = 1
),

{# every state event belongs to the latest session started at or before it #}
assigned_items as (
    select
        agent_id,
        media,
        item_ts,
        session_marker_ts,
        is_ready,
        workmode,
        reason_code,
        max(session_marker_ts) over (partition by agent_id, media order by item_ts) as session_start_ts
    from timeline_items
),

{# one row per instant: the state event there, else the session's start (login values) #}
instants as (
    select
        assigned_items.agent_id,
        assigned_items.media,
        assigned_items.session_start_ts,
        sessions.session_end_ts,
        sessions.last_landed_at,
        assigned_items.item_ts,
        coalesce(bool_or(assigned_items.is_ready), false) as is_ready,
        coalesce(max(assigned_items.workmode), 'AuxWork') as workmode,
        max(assigned_items.reason_code) as reason_code
    from assigned_items
    inner join sessions
        on
            assigned_items.agent_id = sessions.agent_id
            and assigned_items.media = sessions.media
            and assigned_items.session_start_ts = sessions.session_start_ts
    where
        sessions.session_end_ts is null
        or assigned_items.item_ts < sessions.session_end_ts
        or assigned_items.session_marker_ts is not null
    group by
        assigned_items.agent_id,
        assigned_items.media,
        assigned_items.session_start_ts,
        sessions.session_end_ts,
        sessions.last_landed_at,
        assigned_items.item_ts
),

previous_instants as (
    select
        agent_id,
        media,
        session_start_ts,
        session_end_ts,
        last_landed_at,
        item_ts,
        is_ready,
        workmode,
        reason_code,
        lag(is_ready) over session_order as previous_is_ready,
        lag(workmode) over session_order as previous_workmode,
        lag(reason_code) over session_order as previous_reason_code
    from instants
    window session_order as (partition by agent_id, media, session_start_ts order by item_ts)
),

run_starts as (
    select
        agent_id,
        media,
        session_start_ts,
        session_end_ts,
        last_landed_at,
        item_ts,
        is_ready,
        workmode,
        reason_code,
        case
            when
                previous_is_ready is null
                or is_ready <> previous_is_ready
                or workmode <> previous_workmode
                or coalesce(reason_code, '') <> coalesce(previous_reason_code, '')
                then 1
            else 0
        end as is_run_start
    from previous_instants
),

runs as (
    select
        agent_id,
        media,
        session_start_ts,
        session_end_ts,
        last_landed_at,
        item_ts as start_ts,
        is_ready,
        workmode,
        reason_code,
        coalesce(
            lead(item_ts) over (partition by agent_id, media, session_start_ts order by item_ts),
            session_end_ts
        ) as end_ts
    from run_starts
    where is_run_start = 1
),

reason_runs as (
    select
        agent_id,
        media,
        session_start_ts,
        case when workmode = 'AfterCallWork' then 'AfterCallWork' else 'NotReady' end as state_name,
        workmode,
        reason_code,
        start_ts,
        end_ts,
        cast({{ ms_between("start_ts", "end_ts") }} as bigint) as duration_ms,
        case when end_ts is null then 1 else 0 end as active_flag,
        last_landed_at
    from runs
    where not is_ready
),

final as (
    select * from reason_runs
)

select * from final
