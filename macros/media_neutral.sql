{#- The incremental window of SM_MEDIA_NEUTRAL_STATE_FACT, one row per touched agent with its
    recompute_from_ts: the start of its latest row that starts before its earliest new item on
    any medium (-infinity without one); or the start of its open row when one of its sessions
    timed out after that row began (a medium closed without a new item). -#}
{% macro media_neutral_window() -%}
    with

    earliest_new_items as (
        select
            new_items.agent_id,
            min(new_items.item_ts) as item_ts
        from ({{ agent_state_earliest_new_items() }}) as new_items
        group by new_items.agent_id
    ),

    candidates as (
        select
            earliest_new_items.agent_id,
            coalesce(previous_rows.start_ts, '-infinity'::timestamptz) as recompute_from_ts
        from earliest_new_items
        left join lateral (
            select old_rows.start_ts
            from {{ this }} as old_rows
            where
                old_rows.agent_id = earliest_new_items.agent_id
                and old_rows.start_ts < earliest_new_items.item_ts
            order by old_rows.start_ts desc
            limit 1
        ) as previous_rows on true
        union all
        select
            open_rows.agent_id,
            open_rows.start_ts as recompute_from_ts
        from {{ this }} as open_rows
        inner join {{ ref('int_agent_state__sessions') }} as sessions
            on
                open_rows.agent_id = sessions.agent_id
                and sessions.ended_by = 'timeout'
                and sessions.end_ts >= open_rows.start_ts
        where open_rows.active_flag = 1
    )

    select
        agent_id,
        min(recompute_from_ts) as recompute_from_ts
    from candidates
    group by agent_id
{%- endmacro %}

{#- The touched keys of SM_MEDIA_NEUTRAL_STATE_FACT: its rows from each touched agent's
    recompute instant on. -#}
{% macro media_neutral_touched_keys() -%}
    select old_rows.sm_media_neutral_state_fact_key
    from {{ this }} as old_rows
    inner join {{ recompute_window() }} as recompute_window
        on
            old_rows.agent_id = recompute_window.agent_id
            and old_rows.start_ts >= recompute_window.recompute_from_ts
{%- endmacro %}

{#- The earliest recompute instant of the cycle as a literal, for the planner (see
    agent_state_recompute_floors). -#}
{% macro media_neutral_floor() -%}
    {%- set floor = '-infinity' -%}
    {%- if execute and is_incremental() -%}
        {%- set query -%}
            select coalesce(min(recompute_window.recompute_from_ts), 'infinity'::timestamptz)::text
            from ({{ media_neutral_window() }}) as recompute_window
        {%- endset -%}
        {%- set floor = run_query(query).columns[0].values()[0] -%}
    {%- endif -%}
    '{{ floor }}'::timestamptz
{%- endmacro %}

{#- SM_RES_STATE_FACT's priority of a state name (AfterCallWork 4 > NotReady 3 > Busy 2 > Ready 1). -#}
{% macro neutral_state_priority(state_name) -%}
    case {{ state_name }}
        when 'AfterCallWork' then 4
        when 'NotReady' then 3
        when 'Busy' then 2
        else 1
    end
{%- endmacro %}
