{{ agent_state_config(per_run=true) }}

{#- NotReady and AfterCallWork intervals with their reason (MEASURES.md
    SM_RES_STATE_REASON_FACT): maximal runs of one (workmode, reason_code) pair inside a
    session, from the state events alone (busy time does not cut them). The login counts as
    (AuxWork, null) until the first Ready / NotReady; a digital MediaNotReady counts as AuxWork;
    a Ready ends the run; a NotReady with the same workmode and reason continues it. A run
    lasts until the next state event that changes the pair, or the session's end (null while
    the session is open). Resource state: AfterCallWork for workmode AfterCallWork, else
    NotReady. A session of zero length keeps its zero-length login run.
    Incremental per run like int_agent_state__state_intervals: each touched pair is rebuilt from
    T, the start of its latest run (a row) that starts before its earliest new item. A run
    starts at a state event or a login, and nothing before T changed, so the inputs from T on
    rebuild it and the later runs (and a rebuilt session without any run, its login instant's
    last event a Ready, loses its old rows: they are touched). -#}

-- depends_on: {{ ref('int_agent_state__events') }}
-- depends_on: {{ ref('int_agent_state__busy_intervals') }}
-- depends_on: {{ ref('int_agent_state__sessions') }}

{%- set floors = agent_state_recompute_floors(
    agent_state_run_window(ref('int_agent_state__sessions'), 'media', 'session_start_ts')
) %}

with

sessions as (
    select
        sessions.agent_id,
        sessions.media,
        sessions.start_ts as session_start_ts,
        sessions.end_ts as session_end_ts,
        sessions.last_landed_at as session_landed_at,
        {% if is_incremental() -%}
            recompute_window.recompute_from_ts
        {%- else -%}
            cast('-infinity' as timestamptz) as recompute_from_ts
        {%- endif %}
    from {{ ref('int_agent_state__sessions') }} as sessions
    {% if is_incremental() %}
        {{ join_recompute_window('sessions', 'start_ts', floors['sessions'], 'session_from_ts') }}
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
        events.landed_at,
        row_number() over (
            partition by events.agent_id, events.media, events.event_ts
            order by events.seq desc, events.event_id desc
        ) as rank_in_instant
    from {{ ref('int_agent_state__events') }} as events
    {% if is_incremental() %}
        {{ join_recompute_window('events', 'event_ts', floors['rows']) }}
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
        cast(null as text) as reason_code,
        {#- a zero-length session's only item (its login is at its end, so outside it) #}
        case when session_end_ts = session_start_ts then session_landed_at end as landed_at
    from sessions
    union all
    select
        agent_id,
        media,
        event_ts as item_ts,
        cast(null as timestamptz) as session_marker_ts,
        is_ready,
        workmode,
        reason_code,
        landed_at
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
        landed_at,
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
        assigned_items.item_ts,
        coalesce(bool_or(assigned_items.is_ready), false) as is_ready,
        coalesce(max(assigned_items.workmode), 'AuxWork') as workmode,
        max(assigned_items.reason_code) as reason_code,
        max(assigned_items.landed_at) as landed_at
    from assigned_items
    inner join sessions
        on
            assigned_items.agent_id = sessions.agent_id
            and assigned_items.media = sessions.media
            and assigned_items.session_start_ts = sessions.session_start_ts
    where
        {#- the items before T (a session's start) only assign the later ones to their session #}
        assigned_items.item_ts >= sessions.recompute_from_ts
        and (
            sessions.session_end_ts is null
            or assigned_items.item_ts < sessions.session_end_ts
            or assigned_items.session_marker_ts is not null
        )
    group by
        assigned_items.agent_id,
        assigned_items.media,
        assigned_items.session_start_ts,
        sessions.session_end_ts,
        assigned_items.item_ts
),

previous_instants as (
    select
        agent_id,
        media,
        session_start_ts,
        session_end_ts,
        item_ts,
        is_ready,
        workmode,
        reason_code,
        landed_at,
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
        item_ts,
        is_ready,
        workmode,
        reason_code,
        landed_at,
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

numbered_instants as (
    select
        agent_id,
        media,
        session_start_ts,
        session_end_ts,
        item_ts,
        is_ready,
        workmode,
        reason_code,
        landed_at,
        is_run_start,
        sum(is_run_start) over (
            partition by agent_id, media, session_start_ts order by item_ts
        ) as run_number
    from run_starts
),

{# a run's landing, last_landed_at, is the latest of its instants' (the same whichever run start
    a rebuild begins at) #}
landed_instants as (
    select
        agent_id,
        media,
        session_start_ts,
        session_end_ts,
        item_ts,
        is_ready,
        workmode,
        reason_code,
        is_run_start,
        max(landed_at) over (
            partition by agent_id, media, session_start_ts, run_number
        ) as last_landed_at
    from numbered_instants
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
    from landed_instants
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
