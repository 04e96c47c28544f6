{{
    config(
        unique_key='sm_res_session_fact_key',
        incremental_strategy='touched_keys',
        partition_by='start_ts',
        pre_hook=[
            "{{ save_recompute_window(agent_state_recompute_window(ref('int_agent_state__sessions'), 'media_name', 'start_ts')) }}",
            "{{ save_touched_keys(agent_state_touched_keys(['sm_res_session_fact_key'], 'media_name', 'start_ts')) }}",
        ],
        indexes=[
            {'columns': ['sm_res_session_fact_key', 'start_ts'], 'unique': True},
            {'columns': ['start_ts']},
            {'columns': ['agent_id', 'media_name', 'start_ts']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=[
            "{{ name_partitions() }}",
            "create index if not exists {{ this.identifier }}__active on {{ this }} (agent_id, media_name) where active_flag = 1",
            "{{ analyze_if_stale() }}",
        ]
    )
}}

{#- SM_RES_SESSION_FACT (GIM): one row per agent login session per media, from
    int_agent_state__sessions (how sessions open and close is described there). Incremental per
    (agent, media) from the same recompute instant as int_agent_state__sessions (the start of
    the latest session that starts before the pair's earliest newly landed state event or busy
    interval, or its open session's if earlier; it may have timed out since): the sessions from
    there on are rebuilt, and the touched keys are the pair's old sessions from there on. -#}

{%- set start_ms = "cast(extract(epoch from sessions.start_ts) * 1000 as bigint)" %}

-- depends_on: {{ ref('int_agent_state__events') }}
-- depends_on: {{ ref('int_agent_state__busy_intervals') }}
-- depends_on: {{ ref('int_agent_state__sessions') }}

{%- set recompute_floor = agent_state_recompute_floor(
    ref('int_agent_state__sessions'), 'media_name', 'start_ts'
) %}

with

sessions as (
    select sessions.*
    from {{ ref('int_agent_state__sessions') }} as sessions
    {% if is_incremental() %}
        {{ join_recompute_window('sessions', 'start_ts', recompute_floor) }}
    {% endif %}
),

media_types as (
    select
        media_type_key,
        lower(media_name_code) as media
    from {{ ref('media_type') }}
),

facts as (
    select
        {{ infomart_key(["'session'", 'sessions.agent_id', 'sessions.media', start_ms]) }}
            as sm_res_session_fact_key,
        {{ date_time_key('sessions.start_ts') }} as start_date_time_key,
        {{ date_time_key('sessions.end_ts') }} as end_date_time_key,
        {{ resource_key('Agent', 'sessions.agent_id') }} as resource_key,
        coalesce(media_types.media_type_key, {{ unknown_key() }}) as media_type_key,
        sessions.start_ts,
        sessions.end_ts,
        {{ ms_to_seconds('sessions.duration_ms') }} as total_duration,
        sessions.duration_ms as total_duration_ms,
        sessions.active_flag,
        sessions.agent_id,
        sessions.media as media_name,
        sessions.ended_by,
        sessions.capacity,
        sessions.last_landed_at
    from sessions
    left join media_types on sessions.media = media_types.media
)

select
    facts.*,
    {{ audit_key_columns() }}
from facts
