{#- Agent-state incremental window. Each (agent, media) with new items (agent-state events,
    or busy intervals of new or changed call parties and digital offers) is recomputed from
    `recompute_from_ts`: the start of its latest session that starts before its earliest new
    item, or the start of the session of one of its open rows if that is earlier
    (-infinity when no such session exists). Emits the CTEs new_items, earliest_new_items,
    recompute_candidates and recompute_from, each followed by a comma; call it after `with`
    inside `{% if is_incremental() %}`.
    sessions_relation: the relation whose rows are the already rebuilt sessions (start_ts);
    open_media_column / open_session_column: the media and session-start columns of
    {{ this }}, whose rows with active_flag = 1 are open. -#}
{% macro agent_state_recompute_from(sessions_relation, open_media_column='media', open_session_column='session_start_ts') -%}
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

    recompute_candidates as (
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
            {{ open_media_column }} as media,
            min({{ open_session_column }}) as recompute_from_ts
        from {{ this }}
        where active_flag = 1
        group by agent_id, {{ open_media_column }}
    ),

    recompute_from as (
        select
            agent_id,
            media,
            min(recompute_from_ts) as recompute_from_ts
        from recompute_candidates
        group by agent_id, media
    ),
{%- endmacro %}

{#- The earliest recompute_from_ts of the cycle, read when the model is compiled and written into
    its SQL as a literal ('infinity' when nothing is to be recomputed). Every join on
    `x >= recompute_from.recompute_from_ts` also gets `x >= <this literal>`: the planner sees
    how little of the history qualifies and reads it through the time indexes, where a join
    condition alone let it guess a third of the history and scan all of it. -#}
{% macro agent_state_recompute_floor(sessions_relation, open_media_column='media', open_session_column='session_start_ts') -%}
    {%- if execute and is_incremental() -%}
        {%- set query -%}
            with
            {{ agent_state_recompute_from(sessions_relation, open_media_column, open_session_column) }}
            recompute_floor as (
                select coalesce(min(recompute_from_ts), 'infinity'::timestamptz)::text as floor_ts
                from recompute_from
            )
            select floor_ts from recompute_floor
        {%- endset -%}
        '{{ run_query(query).columns[0].values()[0] }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}
