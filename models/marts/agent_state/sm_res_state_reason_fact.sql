{{
    config(
        unique_key='sm_res_session_fact_key',
        incremental_strategy='delete+insert',
        post_hook=[
            "create unique index if not exists {{ this.identifier }}__key on {{ this }} (sm_res_state_reason_fact_key)",
            "create index if not exists {{ this.identifier }}__start_ts on {{ this }} (start_ts)",
            "create index if not exists {{ this.identifier }}__agent on {{ this }} (agent_id, media_name)",
            "create index if not exists {{ this.identifier }}__last_landed_at on {{ this }} (last_landed_at)",
            "create index if not exists {{ this.identifier }}__session on {{ this }} (sm_res_session_fact_key)",
            "create index if not exists {{ this.identifier }}__active on {{ this }} (agent_id, media_name) where active_flag = 1",
            "delete from {{ this }} where sm_res_state_reason_fact_key is null",
            "{{ analyze_if_stale() }}",
        ]
    )
}}

{#- SM_RES_STATE_REASON_FACT (GIM): NotReady and AfterCallWork intervals with their
    (workmode, reason_code), from int_agent_state__reason_intervals. Incremental like
    SM_RES_SESSION_FACT: the sessions from the pair's recompute instant on are replaced by
    delete+insert by session key; a rebuilt session without any interval gets a placeholder row
    (null key) so that its old rows are deleted, and a post-hook removes the placeholders. -#}

{%- set start_ms = "cast(extract(epoch from intervals.start_ts) * 1000 as bigint)" %}
{%- set session_start_ms = "cast(extract(epoch from intervals.session_start_ts) * 1000 as bigint)" %}
{%- set rebuilt_start_ms = "cast(extract(epoch from rebuilt_sessions.start_ts) * 1000 as bigint)" %}

-- depends_on: {{ ref('int_agent_state__events') }}
-- depends_on: {{ ref('int_agent_state__busy_intervals') }}
-- depends_on: {{ ref('int_agent_state__sessions') }}

with

{% if is_incremental() %}

    {% set recompute_floor = agent_state_recompute_floor(ref('int_agent_state__sessions'), 'media_name', 'session_start_ts') %}
    {{ agent_state_recompute_from(ref('int_agent_state__sessions'), 'media_name', 'session_start_ts') }}

{% endif %}

intervals as (
    select intervals.*
    from {{ ref('int_agent_state__reason_intervals') }} as intervals
    {% if is_incremental() %}
        inner join recompute_from
            on
                intervals.agent_id = recompute_from.agent_id
                and intervals.media = recompute_from.media
                and intervals.session_start_ts >= recompute_from.recompute_from_ts
                and intervals.session_start_ts >= {{ recompute_floor }}
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
),

{% if is_incremental() %}

    rebuilt_sessions as (
        select
            sessions.agent_id,
            sessions.media,
            sessions.start_ts,
            sessions.last_landed_at
        from {{ ref('int_agent_state__sessions') }} as sessions
        inner join recompute_from
            on
                sessions.agent_id = recompute_from.agent_id
                and sessions.media = recompute_from.media
                and sessions.start_ts >= recompute_from.recompute_from_ts
                and sessions.start_ts >= {{ recompute_floor }}
    ),

    placeholders as (
        select
            cast(null as bigint) as sm_res_state_reason_fact_key,
            {{ infomart_key(["'session'", 'rebuilt_sessions.agent_id', 'rebuilt_sessions.media', rebuilt_start_ms]) }}
                as sm_res_session_fact_key,
            cast(null as integer) as start_date_time_key,
            cast(null as integer) as end_date_time_key,
            cast(null as bigint) as resource_key,
            cast(null as bigint) as media_type_key,
            cast(null as bigint) as resource_state_key,
            cast(null as bigint) as resource_state_reason_key,
            cast(null as timestamptz) as start_ts,
            cast(null as timestamptz) as end_ts,
            cast(null as integer) as total_duration,
            cast(null as bigint) as total_duration_ms,
            cast(null as integer) as active_flag,
            rebuilt_sessions.agent_id,
            rebuilt_sessions.media as media_name,
            cast(null as text) as workmode,
            cast(null as text) as reason_code,
            rebuilt_sessions.start_ts as session_start_ts,
            rebuilt_sessions.last_landed_at
        from rebuilt_sessions
        left join intervals
            on
                rebuilt_sessions.agent_id = intervals.agent_id
                and rebuilt_sessions.media = intervals.media
                and rebuilt_sessions.start_ts = intervals.session_start_ts
        where intervals.agent_id is null
    ),

{% endif %}

final as (
    select * from facts
    {% if is_incremental() %}
        union all
        select * from placeholders
    {% endif %}
)

select * from final
