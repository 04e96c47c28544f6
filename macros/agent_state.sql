{#- The agent-state incremental window (the range-shaped form of the incremental recipe,
    macros/incremental.sql). Each (agent, media) with new items (agent-state events, or busy
    intervals of new or changed call parties and digital offers) is recomputed from its
    `recompute_from_ts`: the start of its latest session that starts before its earliest new
    item, or the start of the session of one of its open rows if that is earlier (-infinity
    when no such session exists). A model of the window has two pre-hooks:

        pre_hook=[
            "{{ save_recompute_window(agent_state_recompute_window(ref('int_agent_state__sessions'), 'media', 'session_start_ts')) }}",
            "{{ save_touched_keys(agent_state_touched_keys(['agent_id', 'media', 'session_start_ts'], 'media', 'session_start_ts')) }}",
        ]

    and its body reads every input from the pair's instant on: `inner join {{ recompute_window() }}`
    on the pair and `ts >= recompute_window.recompute_from_ts and ts >= {{ recompute_floor }}`.
    Arguments: sessions_relation, the relation whose rows are the already rebuilt sessions
    (start_ts); media_column / session_column, the media and session-start columns of
    {{ this }} (its rows with active_flag = 1 are open). -#}

{#- The cycle's window, one row per touched (agent_id, media) with its recompute_from_ts. -#}
{% macro agent_state_recompute_window(sessions_relation, media_column='media', session_column='session_start_ts') -%}
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
    ),

    earliest_new_items as (
        select
            agent_id,
            media,
            min(item_ts) as item_ts
        from new_items
        group by agent_id, media
    ),

    candidates as (
        select
            earliest_new_items.agent_id,
            earliest_new_items.media,
            coalesce(max(sessions.start_ts), '-infinity'::timestamptz) as recompute_from_ts
        from earliest_new_items
        left join {{ sessions_relation }} as sessions
            on
                earliest_new_items.agent_id = sessions.agent_id
                and earliest_new_items.media = sessions.media
                and sessions.start_ts < earliest_new_items.item_ts
        group by earliest_new_items.agent_id, earliest_new_items.media
        union all
        select
            agent_id,
            {{ media_column }} as media,
            min({{ session_column }}) as recompute_from_ts
        from {{ this }}
        where active_flag = 1
        group by agent_id, {{ media_column }}
    )

    select
        agent_id,
        media,
        min(recompute_from_ts) as recompute_from_ts
    from candidates
    group by agent_id, media
{%- endmacro %}

{#- Name of the cycle's window table (pre-hook save_recompute_window). -#}
{% macro recompute_window() -%}
    {{ cycle_table('window') }}
{%- endmacro %}

{#- The join that keeps the rows of `alias` inside the cycle's window: its (agent_id, media) is
    recomputed and its `ts_column` is at or after the pair's recompute instant (and after the
    cycle's earliest one, `floor`, a literal: see agent_state_recompute_floor). -#}
{% macro join_recompute_window(alias, ts_column, floor) -%}
    inner join {{ recompute_window() }} as recompute_window
        on
            {{ alias }}.agent_id = recompute_window.agent_id
            and {{ alias }}.media = recompute_window.media
            and {{ alias }}.{{ ts_column }} >= recompute_window.recompute_from_ts
            and {{ alias }}.{{ ts_column }} >= {{ floor }}
{%- endmacro %}

{#- Pre-hook: the cycle's window into `recompute_window()` (nothing on a full build). -#}
{% macro save_recompute_window(window_sql) -%}
    {{ save_cycle_table('window', window_sql) }}
{%- endmacro %}

{#- The touched keys of a window model: the keys of its old rows that the window covers (their
    session starts at or after the pair's recompute_from_ts). The keys of new rows (a new
    session) are added by the touched_keys strategy itself. -#}
{% macro agent_state_touched_keys(key_columns, media_column='media', session_column='session_start_ts') -%}
    select distinct old_rows.{{ key_columns | join(', old_rows.') }}
    from {{ this }} as old_rows
    inner join {{ recompute_window() }} as recompute_window
        on
            old_rows.agent_id = recompute_window.agent_id
            and old_rows.{{ media_column }} = recompute_window.media
            and old_rows.{{ session_column }} >= recompute_window.recompute_from_ts
{%- endmacro %}

{#- The earliest recompute_from_ts of the cycle, read when the model is compiled and written into
    its SQL as a literal ('infinity' when nothing is to be recomputed). Every join on
    `x >= recompute_window.recompute_from_ts` also gets `x >= <this literal>`: the planner sees
    how little of the history qualifies and reads it through the time indexes, where a join
    condition alone let it guess a third of the history and scan all of it. (The model is
    compiled before its pre-hooks run, so this reads the window's query, not its table.) -#}
{% macro agent_state_recompute_floor(sessions_relation, media_column='media', session_column='session_start_ts') -%}
    {%- if execute and is_incremental() -%}
        {%- set query -%}
            select coalesce(min(recompute_window.recompute_from_ts), 'infinity'::timestamptz)::text as floor_ts
            from ({{ agent_state_recompute_window(sessions_relation, media_column, session_column) }}) as recompute_window
        {%- endset -%}
        '{{ run_query(query).columns[0].values()[0] }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
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

{#- The config of the per-session agent-state models (sessions, state and reason intervals):
    incremental on the recipe, keyed by (agent_id, media, `session_column`); the pre-hooks save
    the recompute window of `sessions_relation` (a string: `this` for the sessions model itself,
    `ref('int_agent_state__sessions')` for the models built on it) and the old sessions it
    covers as the touched keys; a partial index for the open rows. -#}
{% macro agent_state_session_config(sessions_relation, session_column, extra_indexes=[]) -%}
    {{ config(
        unique_key=['agent_id', 'media', session_column],
        incremental_strategy='touched_keys',
        pre_hook=[
            "{{ save_recompute_window(agent_state_recompute_window(" ~ sessions_relation ~ ", 'media', '"
                ~ session_column ~ "')) }}",
            "{{ save_touched_keys(agent_state_touched_keys(['agent_id', 'media', '" ~ session_column
                ~ "'], 'media', '" ~ session_column ~ "')) }}",
        ],
        indexes=[{'columns': ['agent_id', 'media', 'start_ts'], 'unique': true}] + extra_indexes + [
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
