{#- The agent-state incremental windows (the range-shaped form of the incremental recipe,
    macros/incremental.sql). Each (agent, media) with new items (agent-state events, or busy
    intervals of new or changed call parties and digital offers) is recomputed from its
    `recompute_from_ts`, and reads its sessions from its `session_from_ts`:
    - per session (int_agent_state__sessions, SM_RES_SESSION_FACT): the start of its latest
      session that starts before its earliest new item (-infinity when none);
    - per run (state and reason intervals, SM_RES_STATE_FACT, SM_RES_STATE_REASON_FACT): the
      start of its latest run that starts before its earliest new item, and that run's session.
      The runs before it are kept, so a cycle costs what is new, not the session's length.
    A model of a window has two pre-hooks:

        pre_hook=[
            "{{ save_recompute_window(agent_state_run_window(ref('int_agent_state__sessions'), 'media', 'session_start_ts')) }}",
            "{{ save_touched_keys(agent_state_touched_keys(['agent_id', 'media', 'start_ts'], 'media', 'start_ts')) }}",
        ]

    and its body reads every input from the pair's instant on: `inner join {{ recompute_window() }}`
    on the pair and `ts >= recompute_window.recompute_from_ts and ts >= <floor literal>`.
    Arguments: sessions_relation, the relation whose rows are the already rebuilt sessions
    (start_ts, end_ts); media_column / session_column, the media and session-start columns of
    {{ this }} (its rows with active_flag = 1 are open). -#}

{#- The earliest new item of every (agent_id, media) with items landed since this model's
    high-water mark: agent-state events (at their event_ts) and new or changed busy intervals
    (at their start). -#}
{% macro agent_state_earliest_new_items() -%}
    with

    new_items as (
        select
            agent_id,
            media,
            event_ts as item_ts
        from {{ ref('int_agent_state__events') }}
        where {{ since_watermark('landed_at') }}
        union all
        select
            agent_id,
            media,
            busy_start_ts as item_ts
        from {{ ref('int_agent_state__busy_intervals') }}
        where {{ since_watermark('last_landed_at') }}
    )

    select
        agent_id,
        media,
        min(item_ts) as item_ts
    from new_items
    group by agent_id, media
{%- endmacro %}

{#- The open rows of {{ this }} whose session is no longer open in `sessions_relation` (timed
    out by a later "now": closed without a new item of its own), with their session's start. -#}
{% macro agent_state_closed_open_rows(sessions_relation, media_column, session_column, row_column) -%}
    select
        open_rows.agent_id,
        open_rows.{{ media_column }} as media,
        open_rows.{{ row_column }} as recompute_from_ts,
        open_rows.{{ session_column }} as session_from_ts
    from {{ this }} as open_rows
    left join {{ sessions_relation }} as sessions
        on
            open_rows.agent_id = sessions.agent_id
            and open_rows.{{ media_column }} = sessions.media
            and open_rows.{{ session_column }} = sessions.start_ts
    where
        open_rows.active_flag = 1
        and (sessions.start_ts is null or sessions.end_ts is not null)
{%- endmacro %}

{#- The open sessions of a per-session model to recompute without a new item of their own: for
    the sessions model itself (`sessions_relation` is {{ this }}), those a later "now" may time
    out (inactive for the timeout); for a model built on the sessions, those the sessions model
    has closed. -#}
{% macro agent_state_open_sessions(sessions_relation, media_column, session_column) -%}
    {%- if sessions_relation | string == this | string -%}
        {{ agent_state_timed_out_sessions() }}
    {%- else -%}
        {{ agent_state_closed_open_rows(sessions_relation, media_column, session_column, session_column) }}
    {%- endif -%}
{%- endmacro %}

{#- The open sessions of the sessions model that a later "now" may time out. -#}
{% macro agent_state_timed_out_sessions() -%}
    select
        open_sessions.agent_id,
        open_sessions.media,
        open_sessions.start_ts as recompute_from_ts,
        open_sessions.start_ts as session_from_ts
    from {{ this }} as open_sessions
    cross join ({{ agent_activity_horizon() }}) as horizon
    where
        open_sessions.active_flag = 1
        and open_sessions.last_activity_ts
        + interval '{{ var("session_timeout_hours") }} hours' <= horizon.now_ts
{%- endmacro %}

{#- The cycle's window of a per-session model, one row per touched (agent_id, media) with its
    recompute_from_ts (a session start), and the open sessions that may have changed without a
    new item (agent_state_open_sessions). -#}
{% macro agent_state_recompute_window(sessions_relation, media_column='media', session_column='session_start_ts') -%}
    with

    earliest_new_items as (
        {{ agent_state_earliest_new_items() }}
    ),

    candidates as (
        select
            earliest_new_items.agent_id,
            earliest_new_items.media,
            coalesce(max(sessions.start_ts), '-infinity'::timestamptz) as recompute_from_ts,
            coalesce(max(sessions.start_ts), '-infinity'::timestamptz) as session_from_ts
        from earliest_new_items
        left join {{ sessions_relation }} as sessions
            on
                earliest_new_items.agent_id = sessions.agent_id
                and earliest_new_items.media = sessions.media
                and sessions.start_ts < earliest_new_items.item_ts
        group by earliest_new_items.agent_id, earliest_new_items.media
        union all
        {{ agent_state_open_sessions(sessions_relation, media_column, session_column) }}
    )

    select
        agent_id,
        media,
        min(recompute_from_ts) as recompute_from_ts,
        min(session_from_ts) as session_from_ts
    from candidates
    group by agent_id, media
{%- endmacro %}

{#- The cycle's window of a per-run model (state and reason intervals and their facts): each
    touched (agent_id, media) is recomputed from its recompute_from_ts, the start of its latest
    row (in {{ this }}) that starts before its earliest new item, and reads its sessions from
    session_from_ts, that row's session start. Items before a run's start never change it nor
    the runs before it, so those rows are kept. An open row whose session was closed without a
    new item (a timeout) is recomputed from its own start. Without such a row the pair is
    recomputed whole (-infinity). -#}
{% macro agent_state_run_window(sessions_relation, media_column='media', session_column='session_start_ts') -%}
    with

    earliest_new_items as (
        {{ agent_state_earliest_new_items() }}
    ),

    candidates as (
        select
            earliest_new_items.agent_id,
            earliest_new_items.media,
            coalesce(previous_rows.start_ts, '-infinity'::timestamptz) as recompute_from_ts,
            coalesce(previous_rows.session_start_ts, '-infinity'::timestamptz) as session_from_ts
        from earliest_new_items
        left join lateral (
            select
                old_rows.start_ts,
                old_rows.{{ session_column }} as session_start_ts
            from {{ this }} as old_rows
            where
                old_rows.agent_id = earliest_new_items.agent_id
                and old_rows.{{ media_column }} = earliest_new_items.media
                and old_rows.start_ts < earliest_new_items.item_ts
            order by old_rows.start_ts desc
            limit 1
        ) as previous_rows on true
        union all
        {{ agent_state_closed_open_rows(sessions_relation, media_column, session_column, 'start_ts') }}
    )

    select
        agent_id,
        media,
        min(recompute_from_ts) as recompute_from_ts,
        min(session_from_ts) as session_from_ts
    from candidates
    group by agent_id, media
{%- endmacro %}

{#- "Now" of the agent-state models: the latest event_ts in staging over the agent-activity
    topics (deterministic, never the wall clock), as one row `now_ts`. -#}
{% macro agent_activity_horizon() -%}
    select max(latest.event_ts) as now_ts
    from (
        select max(event_ts) as event_ts from {{ ref('stg_events__voice_agentstate') }}
        union all
        select max(event_ts) as event_ts from {{ ref('stg_events__digital_agentstate') }}
        union all
        select max(event_ts) as event_ts from {{ ref('stg_events__voice_callthread') }}
        union all
        select max(event_ts) as event_ts from {{ ref('stg_events__digital_itx') }}
    ) as latest
{%- endmacro %}

{#- Name of the cycle's window table (pre-hook save_recompute_window). -#}
{% macro recompute_window() -%}
    {{ cycle_table('window') }}
{%- endmacro %}

{#- The join that keeps the rows of `alias` inside the cycle's window: its (agent_id, media) is
    recomputed and its `ts_column` is at or after the pair's `window_column` (recompute_from_ts,
    or session_from_ts for the sessions a run window reads) and after the cycle's earliest one,
    `floor`, a literal: see agent_state_recompute_floor. -#}
{% macro join_recompute_window(alias, ts_column, floor, window_column='recompute_from_ts') -%}
    inner join {{ recompute_window() }} as recompute_window
        on
            {{ alias }}.agent_id = recompute_window.agent_id
            and {{ alias }}.media = recompute_window.media
            and {{ alias }}.{{ ts_column }} >= recompute_window.{{ window_column }}
            and {{ alias }}.{{ ts_column }} >= {{ floor }}
{%- endmacro %}

{#- Pre-hook: the cycle's window into `recompute_window()` (nothing on a full build). -#}
{% macro save_recompute_window(window_sql) -%}
    {{ save_cycle_table('window', window_sql) }}
{%- endmacro %}

{#- The touched keys of a window model: the keys of its old rows that the window covers (their
    `from_column`, the session start of a per-session model or the row's own start of a per-run
    one, at or after the pair's recompute_from_ts). The keys of new rows are added by the
    touched_keys strategy itself. -#}
{% macro agent_state_touched_keys(key_columns, media_column='media', from_column='session_start_ts') -%}
    select distinct old_rows.{{ key_columns | join(', old_rows.') }}
    from {{ this }} as old_rows
    inner join {{ recompute_window() }} as recompute_window
        on
            old_rows.agent_id = recompute_window.agent_id
            and old_rows.{{ media_column }} = recompute_window.media
            and old_rows.{{ from_column }} >= recompute_window.recompute_from_ts
{%- endmacro %}

{#- The earliest recompute_from_ts and session_from_ts of the cycle, read when the model is
    compiled and written into its SQL as literals ('infinity' when nothing is to be
    recomputed), as a dict {'rows': ..., 'sessions': ...}. Every join on
    `x >= recompute_window.recompute_from_ts` also gets `x >= <the literal>`: the planner sees
    how little of the history qualifies and reads it through the time indexes, where a join
    condition alone let it guess a third of the history and scan all of it. (The model is
    compiled before its pre-hooks run, so this reads the window's query, not its table.)
    `window_sql` is the window's query: agent_state_recompute_window(...) (per session) or
    agent_state_run_window(...) (per run). -#}
{% macro agent_state_recompute_floors(window_sql) -%}
    {%- if execute and is_incremental() -%}
        {%- set query -%}
            select
                coalesce(min(recompute_window.recompute_from_ts), 'infinity'::timestamptz)::text as rows_floor,
                coalesce(min(recompute_window.session_from_ts), 'infinity'::timestamptz)::text as sessions_floor
            from ({{ window_sql }}) as recompute_window
        {%- endset -%}
        {%- set floors = run_query(query).rows[0] -%}
        {%- set literals = {'rows': floors[0], 'sessions': floors[1]} -%}
    {%- else -%}
        {%- set literals = {'rows': '-infinity', 'sessions': '-infinity'} -%}
    {%- endif -%}
    {{ return({
        'rows': "'" ~ literals['rows'] ~ "'::timestamptz",
        'sessions': "'" ~ literals['sessions'] ~ "'::timestamptz",
    }) }}
{%- endmacro %}

{#- The earliest recompute_from_ts of the cycle's per-session window as one literal (see
    agent_state_recompute_floors). -#}
{% macro agent_state_recompute_floor(sessions_relation, media_column='media', session_column='session_start_ts') -%}
    {%- set window_sql = agent_state_recompute_window(sessions_relation, media_column, session_column) -%}
    {{ agent_state_recompute_floors(window_sql)['rows'] }}
{%- endmacro %}

{#- Touched keys of int_agent_state__busy_intervals: the calls with int_voice__parties rows and
    the digital interactions with events landed since its high-water mark. -#}
{% macro busy_items_since_watermark() -%}
    select
        'party' as busy_source,
        call_id as interaction_id
    from {{ ref('int_voice__parties') }}
    where {{ since_watermark('last_landed_at') }}
    union
    select
        'offer' as busy_source,
        itx_id as interaction_id
    from {{ ref('stg_events__digital_itx') }}
    where {{ since_watermark('landed_at') }}
{%- endmacro %}

{#- The config of the agent-state intermediate models: incremental on the recipe, keyed by
    (agent_id, media, start_ts); the pre-hooks save the recompute window and the old rows it covers
    as the touched keys; a partial index for the open rows. `per_run` false: the sessions model
    (agent_state_recompute_window over itself); true: the state and reason intervals
    (agent_state_run_window over the sessions). -#}
{% macro agent_state_config(per_run) -%}
    {%- if per_run -%}
        {%- set window = "agent_state_run_window(ref('int_agent_state__sessions'), 'media', 'session_start_ts')" -%}
    {%- else -%}
        {%- set window = "agent_state_recompute_window(this, 'media', 'start_ts')" -%}
    {%- endif -%}
    {{ config(
        unique_key=['agent_id', 'media', 'start_ts'],
        incremental_strategy='touched_keys',
        pre_hook=[
            "{{ save_recompute_window(" ~ window ~ ") }}",
            "{{ save_touched_keys(agent_state_touched_keys(['agent_id', 'media', 'start_ts'], 'media', 'start_ts')) }}",
        ],
        indexes=[
            {'columns': ['agent_id', 'media', 'start_ts'], 'unique': true},
            {'columns': ['start_ts']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=[
            "create index if not exists {{ this.identifier }}__active on {{ this }} (agent_id, media)"
                ~ " where active_flag = 1",
            "{{ analyze_if_stale() }}",
        ],
    ) }}
{%- endmacro %}

{#- The raw state a state event sets (SM_RES_STATE_FACT): Ready for a ready, AfterCallWork for a
    not-ready in workmode AfterCallWork, else NotReady (a login, a not-ready in AuxWork). -#}
{% macro agent_raw_state(alias) -%}
    case
        when {{ alias }}.state_event = 'ready' then 'Ready'
        when {{ alias }}.state_event = 'not_ready' and {{ alias }}.workmode = 'AfterCallWork' then 'AfterCallWork'
        else 'NotReady'
    end
{%- endmacro %}
