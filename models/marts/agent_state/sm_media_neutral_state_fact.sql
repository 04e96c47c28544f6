{{
    config(
        unique_key='sm_media_neutral_state_fact_key',
        incremental_strategy='touched_keys',
        pre_hook=[
            "{{ save_recompute_window(media_neutral_window()) }}",
            "{{ save_touched_keys(media_neutral_touched_keys()) }}",
        ],
        indexes=[
            {'columns': ['sm_media_neutral_state_fact_key'], 'unique': True},
            {'columns': ['start_ts']},
            {'columns': ['agent_id', 'start_ts']},
            {'columns': ['resource_key', 'start_ts']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=[
            "create index if not exists {{ this.identifier }}__active on {{ this }} (agent_id) where active_flag = 1",
            "{{ analyze_if_stale() }}",
        ]
    )
}}

{#- SM_MEDIA_NEUTRAL_STATE_FACT (MEASURES.md "Digital interactions"): per agent, across all media,
    the state of highest priority at each instant (AfterCallWork > NotReady > Busy > Ready, as
    SM_RES_STATE_FACT), as maximal runs, covering the time the agent is logged in to any medium
    (no row while logged in to none). Built from the per-media runs
    (int_agent_state__state_intervals): their boundaries cut the agent's time into elementary
    intervals; each takes the highest-priority state of the runs covering it; equal neighbours
    merge. A zero-length per-media run covers no time and is ignored; a run open on any medium
    makes the agent's last run open. Incremental per agent (media_neutral_window): rebuilt from
    the start of its latest row that starts before its earliest new item on any medium (nothing
    before changed), reading the per-media runs that end after that instant. -#}

-- depends_on: {{ ref('int_agent_state__events') }}
-- depends_on: {{ ref('int_agent_state__busy_intervals') }}
-- depends_on: {{ ref('int_agent_state__sessions') }}

{%- set floor = media_neutral_floor() %}

with

media_runs as (
    select
        runs.agent_id,
        runs.media,
        runs.state_name,
        {% if is_incremental() -%}
            greatest(runs.start_ts, recompute_window.recompute_from_ts) as start_ts,
        {%- else -%}
            runs.start_ts,
        {%- endif %}
        runs.end_ts,
        runs.last_landed_at
    from {{ ref('int_agent_state__state_intervals') }} as runs
    {% if is_incremental() %}
        inner join {{ recompute_window() }} as recompute_window
            on
                runs.agent_id = recompute_window.agent_id
                and (runs.end_ts is null or runs.end_ts > recompute_window.recompute_from_ts)
                and (runs.end_ts is null or runs.end_ts > {{ floor }})
    {% endif %}
    where runs.end_ts is null or runs.end_ts > runs.start_ts
),

{# a sweep over the runs' edges: each start adds one to its state's count, each end takes one
    away; after the edges of an instant, the counts say which states are covered until the next
    edge. One sort per agent, where matching every elementary interval to its covering runs was a
    range join per agent (25 s of a 1M-event full refresh) #}
run_edges as (
    select
        agent_id,
        start_ts as edge_ts,
        {{ neutral_state_priority('state_name') }} as state_priority,
        1 as delta,
        last_landed_at
    from media_runs
    union all
    select
        agent_id,
        end_ts as edge_ts,
        {{ neutral_state_priority('state_name') }} as state_priority,
        -1 as delta,
        last_landed_at
    from media_runs
    where end_ts is not null
),

edges as (
    select
        agent_id,
        edge_ts,
        {%- for priority in [4, 3, 2, 1] %}
            coalesce(sum(delta) filter (where state_priority = {{ priority }}), 0) as delta_{{ priority }},
        {%- endfor %}
        max(last_landed_at) as last_landed_at
    from run_edges
    group by agent_id, edge_ts
),

counted as (
    select
        agent_id,
        edge_ts as start_ts,
        lead(edge_ts) over agent_order as end_ts,
        {%- for priority in [4, 3, 2, 1] %}
            sum(delta_{{ priority }}) over agent_order as covering_{{ priority }},
        {%- endfor %}
        last_landed_at
    from edges
    window agent_order as (partition by agent_id order by edge_ts)
),

{# each piece between two edges takes the highest-priority state covering it; a piece no run
    covers (logged in to no medium) has no row; the last piece is covered only by open runs.
    A piece's landing is that of the edges it starts at (so a row's LAST_LANDED_AT is the latest
    landing of the runs that start or end in it: bookkeeping, see DECISIONLOG.md) #}
covered as (
    select
        agent_id,
        start_ts,
        end_ts,
        case
            when covering_4 > 0 then 4
            when covering_3 > 0 then 3
            when covering_2 > 0 then 2
            else 1
        end as state_priority,
        last_landed_at
    from counted
    where covering_4 + covering_3 + covering_2 + covering_1 > 0
),

previous_pieces as (
    select
        agent_id,
        start_ts,
        end_ts,
        state_priority,
        last_landed_at,
        lag(state_priority) over agent_order as previous_priority,
        lag(end_ts) over agent_order as previous_end_ts
    from covered
    window agent_order as (partition by agent_id order by start_ts)
),

{# a run starts where the state changes or after a gap (no medium logged in) #}
run_starts as (
    select
        agent_id,
        start_ts,
        end_ts,
        state_priority,
        last_landed_at,
        case
            when
                previous_priority is null
                or previous_priority <> state_priority
                or previous_end_ts is null
                or previous_end_ts <> start_ts
                then 1
            else 0
        end as is_run_start
    from previous_pieces
),

numbered as (
    select
        agent_id,
        start_ts,
        end_ts,
        state_priority,
        last_landed_at,
        sum(is_run_start) over (partition by agent_id order by start_ts) as run_number
    from run_starts
),

runs as (
    select
        agent_id,
        state_priority,
        min(start_ts) as start_ts,
        case when count(*) = count(end_ts) then max(end_ts) end as end_ts,
        max(last_landed_at) as last_landed_at
    from numbered
    group by agent_id, run_number, state_priority
),

resource_states as (
    select
        resource_state_key,
        state_name
    from {{ ref('resource_state') }}
),

final as (
    select
        {{ infomart_key(["'neutral'", 'runs.agent_id', 'cast(extract(epoch from runs.start_ts) * 1000 as bigint)']) }}
            as sm_media_neutral_state_fact_key,
        {{ date_time_key('runs.start_ts') }} as start_date_time_key,
        {{ date_time_key('runs.end_ts') }} as end_date_time_key,
        {{ resource_key('Agent', 'runs.agent_id') }} as resource_key,
        coalesce(resource_states.resource_state_key, {{ unknown_key() }}) as resource_state_key,
        runs.start_ts,
        runs.end_ts,
        {{ ms_to_seconds(ms_between('runs.start_ts', 'runs.end_ts')) }} as total_duration,
        {{ ms_between('runs.start_ts', 'runs.end_ts') }} as total_duration_ms,
        case when runs.end_ts is null then 1 else 0 end as active_flag,
        runs.agent_id,
        runs.last_landed_at
    from runs
    left join resource_states
        on
            resource_states.state_name = case runs.state_priority
                when 4 then 'AfterCallWork'
                when 3 then 'NotReady'
                when 2 then 'Busy'
                else 'Ready'
            end
)

select
    final.*,
    {{ audit_key_columns() }}
from final
