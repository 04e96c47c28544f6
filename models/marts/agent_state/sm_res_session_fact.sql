{{
    config(
        unique_key=['agent_id', 'media_name'],
        incremental_strategy='delete+insert',
        post_hook=[
            "create unique index if not exists {{ this.identifier }}__key on {{ this }} (sm_res_session_fact_key)",
            "create index if not exists {{ this.identifier }}__start_ts on {{ this }} (start_ts)",
            "create index if not exists {{ this.identifier }}__agent on {{ this }} (agent_id, media_name)",
            "create index if not exists {{ this.identifier }}__last_landed_at on {{ this }} (last_landed_at)",
        ]
    )
}}

{#- SM_RES_SESSION_FACT (GIM): one row per agent login session per media, from
    int_agent_state__sessions (how sessions open and close is described there). Recomputed per
    (agent, media) for every pair recomputed upstream from newly landed events, and for every
    pair with an open session (it may have timed out since). -#}

{%- set start_ms = "cast(extract(epoch from sessions.start_ts) * 1000 as bigint)" %}

with

touched_pairs as (
    select distinct
        agent_id,
        media
    from {{ ref('int_agent_state__sessions') }}
    where {{ since_watermark('last_landed_at') }}
    {% if is_incremental() %}
        union
        select
            agent_id,
            media_name as media
        from {{ this }}
        where active_flag = 1
    {% endif %}
),

sessions as (
    select sessions.*
    from {{ ref('int_agent_state__sessions') }} as sessions
    inner join touched_pairs
        on sessions.agent_id = touched_pairs.agent_id and sessions.media = touched_pairs.media
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
        sessions.last_landed_at
    from sessions
    left join media_types on sessions.media = media_types.media
)

select * from facts
