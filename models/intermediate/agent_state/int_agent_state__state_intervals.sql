{{ agent_state_config(per_run=true) }}

{#- Displayed agent state per media (MEASURES.md SM_RES_STATE_FACT): maximal runs of one state
    that tile each session from login to its end.
    1. The session's boundaries: its start, its state events, and the start and end of every
       busy interval that starts in it (one ending at or after the session's end is cut there;
       one starting outside every session is ignored).
    2. Elementary intervals between consecutive boundaries; in each, the raw state is the last
       state event at or before it (login = NotReady without reason) and Busy = at least one
       busy interval open.
    3. Displayed state by priority AfterCallWork > NotReady > Busy > Ready.
    4. Consecutive intervals of the same state merged into one run (gaps and islands).
    The last run of an open session has a null end. A session of zero length (timed out at its
    own login) keeps one zero-length run.
    Incremental per run (macros/agent_state.sql, agent_state_run_window): each touched
    (agent, media) is rebuilt from T, the start of its latest run that starts before its
    earliest new item. Nothing before T changed, so T still starts a run and the runs before it
    stand. The rebuild starts at T with what is carried into it: the raw state of the
    session's last state event before T, and the busy intervals of the session open across T
    (as if they started at T); the inputs from T on are read as on a full build. -#}

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
        {{ agent_raw_state('events') }} as raw_state,
        events.landed_at,
        0 as is_carried,
        events.seq,
        events.event_id
    from {{ ref('int_agent_state__events') }} as events
    {% if is_incremental() %}
        {{ join_recompute_window('events', 'event_ts', floors['rows']) }}
    {% endif %}
    where events.state_event in ('login', 'ready', 'not_ready')
    {% if is_incremental() %}
        {#- the raw state carried into T: the session's last state event before it #}
        union all
        select
            recompute_window.agent_id,
            recompute_window.media,
            recompute_window.recompute_from_ts as event_ts,
            carried.raw_state,
            cast(null as timestamptz) as landed_at,
            1 as is_carried,
            carried.seq,
            carried.event_id
        from {{ recompute_window() }} as recompute_window
        inner join lateral (
            select
                {{ agent_raw_state('events') }} as raw_state,
                events.seq,
                events.event_id
            from {{ ref('int_agent_state__events') }} as events
            where
                events.agent_id = recompute_window.agent_id
                and events.media = recompute_window.media
                and events.event_ts >= recompute_window.session_from_ts
                and events.event_ts < recompute_window.recompute_from_ts
                and events.state_event in ('login', 'ready', 'not_ready')
            order by events.event_ts desc, events.seq desc, events.event_id desc
            limit 1
        ) as carried on true
        where recompute_window.recompute_from_ts > recompute_window.session_from_ts
    {% endif %}
),

ranked_state_events as (
    select
        agent_id,
        media,
        event_ts,
        raw_state,
        landed_at,
        row_number() over (
            partition by agent_id, media, event_ts
            order by is_carried asc, seq desc, event_id desc
        ) as rank_in_instant
    from state_events
),

{# a busy interval's start and end carry its landing (start_landed_at, end_landed_at) #}
busy_intervals as (
    select
        busy.agent_id,
        busy.media,
        busy.busy_start_ts,
        busy.busy_end_ts,
        busy.last_landed_at as start_landed_at,
        busy.last_landed_at as end_landed_at
    from {{ ref('int_agent_state__busy_intervals') }} as busy
    {% if is_incremental() %}
        {{ join_recompute_window('busy', 'busy_start_ts', floors['rows']) }}
    {% endif %}
    where busy.busy_end_ts is null or busy.busy_end_ts > busy.busy_start_ts
    {% if is_incremental() %}
        {#- the session's busy intervals open across T or ending at T, carried in as starting at T
            (their start is not an item of T: no landing) #}
        union all
        select
            busy.agent_id,
            busy.media,
            recompute_window.recompute_from_ts as busy_start_ts,
            busy.busy_end_ts,
            cast(null as timestamptz) as start_landed_at,
            busy.last_landed_at as end_landed_at
        from {{ ref('int_agent_state__busy_intervals') }} as busy
        {{ join_recompute_window('busy', 'busy_start_ts', floors['sessions'], 'session_from_ts') }}
        where
            busy.busy_start_ts < recompute_window.recompute_from_ts
            and (busy.busy_end_ts is null or busy.busy_end_ts >= recompute_window.recompute_from_ts)
    {% endif %}
),

timeline_items as (
    select
        agent_id,
        media,
        session_start_ts as item_ts,
        'session' as item_kind,
        session_start_ts as session_marker_ts,
        cast(null as text) as raw_state,
        cast(null as timestamptz) as busy_end_ts,
        {#- a zero-length session's only item (its login is at its end, so outside it) #}
        case when session_end_ts = session_start_ts then session_landed_at end as landed_at,
        cast(null as timestamptz) as end_landed_at
    from sessions
    union all
    select
        agent_id,
        media,
        event_ts as item_ts,
        'state' as item_kind,
        cast(null as timestamptz) as session_marker_ts,
        raw_state,
        cast(null as timestamptz) as busy_end_ts,
        landed_at,
        cast(null as timestamptz) as end_landed_at
    from ranked_state_events
    where rank_in_instant = 1
    union all
    select
        agent_id,
        media,
        busy_start_ts as item_ts,
        'busy' as item_kind,
        cast(null as timestamptz) as session_marker_ts,
        cast(null as text) as raw_state,
        busy_end_ts,
        start_landed_at as landed_at,
        end_landed_at
    from busy_intervals
),

{# every item belongs to the latest session started at or before it #}
assigned_items as (
    select
        agent_id,
        media,
        item_ts,
        item_kind,
        raw_state,
        busy_end_ts,
        landed_at,
        end_landed_at,
        max(session_marker_ts) over (partition by agent_id, media order by item_ts) as session_start_ts
    from timeline_items
),

session_items as (
    select
        assigned_items.agent_id,
        assigned_items.media,
        assigned_items.session_start_ts,
        sessions.session_end_ts,
        assigned_items.item_ts,
        assigned_items.item_kind,
        assigned_items.raw_state,
        assigned_items.busy_end_ts,
        assigned_items.landed_at,
        assigned_items.end_landed_at
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
            or assigned_items.item_kind = 'session'
        )
),

boundaries as (
    select
        agent_id,
        media,
        session_start_ts,
        session_end_ts,
        item_ts as boundary_ts,
        raw_state,
        case when item_kind = 'busy' then 1 else 0 end as busy_delta,
        landed_at
    from session_items
    union all
    select
        agent_id,
        media,
        session_start_ts,
        session_end_ts,
        busy_end_ts as boundary_ts,
        cast(null as text) as raw_state,
        -1 as busy_delta,
        end_landed_at as landed_at
    from session_items
    where
        item_kind = 'busy'
        and busy_end_ts is not null
        and (session_end_ts is null or busy_end_ts < session_end_ts)
),

{# one row per instant; its landing is the latest of its items' (a run's landing, last_landed_at,
    is the latest of the items inside it: the same whichever instant a rebuild starts from) #}
instants as (
    select
        agent_id,
        media,
        session_start_ts,
        session_end_ts,
        boundary_ts,
        max(raw_state) as raw_state,
        sum(busy_delta) as busy_delta,
        max(landed_at) as landed_at
    from boundaries
    group by agent_id, media, session_start_ts, session_end_ts, boundary_ts
),

carried as (
    select
        agent_id,
        media,
        session_start_ts,
        session_end_ts,
        boundary_ts,
        raw_state,
        landed_at,
        sum(busy_delta) over session_order as open_busy_count,
        count(raw_state) over session_order as state_group,
        lead(boundary_ts) over session_order as next_boundary_ts
    from instants
    window session_order as (partition by agent_id, media, session_start_ts order by boundary_ts)
),

elementary_intervals as (
    select
        agent_id,
        media,
        session_start_ts,
        landed_at,
        boundary_ts as start_ts,
        coalesce(next_boundary_ts, session_end_ts) as end_ts,
        open_busy_count,
        coalesce(
            first_value(raw_state) over (
                partition by agent_id, media, session_start_ts, state_group order by boundary_ts
            ),
            'NotReady'
        ) as raw_state
    from carried
),

displayed as (
    select
        agent_id,
        media,
        session_start_ts,
        landed_at,
        start_ts,
        end_ts,
        case
            when raw_state = 'AfterCallWork' then 'AfterCallWork'
            when raw_state = 'NotReady' then 'NotReady'
            when open_busy_count > 0 then 'Busy'
            else 'Ready'
        end as state_name
    from elementary_intervals
),

previous_states as (
    select
        agent_id,
        media,
        session_start_ts,
        landed_at,
        start_ts,
        end_ts,
        state_name,
        lag(state_name) over (
            partition by agent_id, media, session_start_ts order by start_ts
        ) as previous_state_name
    from displayed
),

run_starts as (
    select
        agent_id,
        media,
        session_start_ts,
        landed_at,
        start_ts,
        end_ts,
        state_name,
        case
            when previous_state_name is null or state_name <> previous_state_name then 1
            else 0
        end as is_run_start
    from previous_states
),

numbered_runs as (
    select
        agent_id,
        media,
        session_start_ts,
        landed_at,
        start_ts,
        end_ts,
        state_name,
        sum(is_run_start) over (
            partition by agent_id, media, session_start_ts order by start_ts
        ) as run_number
    from run_starts
),

runs as (
    select
        agent_id,
        media,
        session_start_ts,
        state_name,
        min(start_ts) as start_ts,
        case when count(*) = count(end_ts) then max(end_ts) end as end_ts,
        max(landed_at) as last_landed_at
    from numbered_runs
    group by agent_id, media, session_start_ts, run_number, state_name
),

final as (
    select
        agent_id,
        media,
        session_start_ts,
        state_name,
        start_ts,
        end_ts,
        cast({{ ms_between("start_ts", "end_ts") }} as bigint) as duration_ms,
        case when end_ts is null then 1 else 0 end as active_flag,
        last_landed_at
    from runs
)

select * from final
