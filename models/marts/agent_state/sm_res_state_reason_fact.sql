{{
    config(
        unique_key='sm_res_state_reason_fact_key',
        incremental_strategy='touched_keys',
        partition_by='start_ts',
        pre_hook=[
            "{{ save_recompute_window(agent_state_run_window(ref('int_agent_state__sessions'), 'media_name', 'session_start_ts')) }}",
            "{{ save_touched_keys(agent_state_touched_keys(['sm_res_state_reason_fact_key'], 'media_name', 'start_ts')) }}",
        ],
        indexes=[
            {'columns': ['sm_res_state_reason_fact_key', 'start_ts'], 'unique': True},
            {'columns': ['start_ts']},
            {'columns': ['resource_key', 'start_ts']},
            {'columns': ['agent_id', 'media_name', 'start_ts']},
            {'columns': ['last_landed_at']},
            {'columns': ['sm_res_session_fact_key']},
        ],
        post_hook=[
            "{{ name_partitions() }}",
            "create index if not exists {{ this.identifier }}__active on {{ this }} (agent_id, media_name) where active_flag = 1",
            "{{ analyze_if_stale() }}",
        ]
    )
}}

{#- SM_RES_STATE_REASON_FACT (GIM): NotReady and AfterCallWork intervals with their
    (workmode, reason_code), from int_agent_state__reason_intervals. Incremental per run like
    the intervals (agent_state_run_window): each touched pair's rows from the start of its latest
    row that starts before its earliest new item are rebuilt; those are the touched keys, so a
    rebuilt session without any interval loses its old rows. -#}

{%- set start_ms = "cast(extract(epoch from intervals.start_ts) * 1000 as bigint)" %}
{%- set session_start_ms = "cast(extract(epoch from intervals.session_start_ts) * 1000 as bigint)" %}

-- depends_on: {{ ref('int_agent_state__events') }}
-- depends_on: {{ ref('int_agent_state__busy_intervals') }}
-- depends_on: {{ ref('int_agent_state__sessions') }}

{%- set floors = agent_state_recompute_floors(
    agent_state_run_window(ref('int_agent_state__sessions'), 'media_name', 'session_start_ts')
) %}

with

intervals as (
    select intervals.*
    from {{ ref('int_agent_state__reason_intervals') }} as intervals
    {% if is_incremental() %}
        {{ join_recompute_window('intervals', 'start_ts', floors['rows']) }}
    {% endif %}
),

media_types as (
    select
        media_type_key,
        lower(media_name_code) as media
    from {{ ref('media_type') }}
),

resource_states as (
    select
        resource_state_key,
        state_name
    from {{ ref('resource_state') }}
),

facts as (
    select
        {{ infomart_key(["'reason'", 'intervals.agent_id', 'intervals.media', start_ms]) }}
            as sm_res_state_reason_fact_key,
        {{ infomart_key(["'session'", 'intervals.agent_id', 'intervals.media', session_start_ms]) }}
            as sm_res_session_fact_key,
        {{ date_time_key('intervals.start_ts') }} as start_date_time_key,
        {{ date_time_key('intervals.end_ts') }} as end_date_time_key,
        {{ resource_key('Agent', 'intervals.agent_id') }} as resource_key,
        coalesce(media_types.media_type_key, {{ unknown_key() }}) as media_type_key,
        coalesce(resource_states.resource_state_key, {{ unknown_key() }}) as resource_state_key,
        {{ resource_state_reason_key('intervals.workmode', 'intervals.reason_code') }} as resource_state_reason_key,
        intervals.start_ts,
        intervals.end_ts,
        {{ ms_to_seconds('intervals.duration_ms') }} as total_duration,
        intervals.duration_ms as total_duration_ms,
        intervals.active_flag,
        intervals.agent_id,
        intervals.media as media_name,
        intervals.workmode,
        intervals.reason_code,
        intervals.session_start_ts,
        intervals.last_landed_at
    from intervals
    left join media_types on intervals.media = media_types.media
    left join resource_states on intervals.state_name = resource_states.state_name
)

select
    facts.*,
    {{ audit_key_columns() }}
from facts
