{{
    config(
        materialized='incremental',
        incremental_strategy='touched_keys',
        unique_key='sm_res_session_fact_key',
        pre_hook="{{ save_touched_keys(ag2_credited_touched_sessions()) }}",
        indexes=[
            {'columns': ['sm_res_session_fact_key'], 'unique': true},
            {'columns': ['last_landed_at']},
        ],
    )
}}

{#- What each agent login session contributed to the agent-time aggregates at their last build:
    its span up to its end, or for an open session up to the data horizon then. The aggregates'
    touched intervals of the next cycle reach to the later of this end and the new one, so time a
    late event takes away (a late logout, a shorter timeout) is taken out of the old intervals too.
    Built after every agent-time aggregate, which read its previous state (not by ref). -#}

{%- for family in ['i_sess_state', 'i_sess_state_grp', 'i_state_rsn'] %}
    {%- for level in ['subhr', 'hour', 'day', 'month'] %}
    -- depends_on: {{ ref('ag2_' ~ family ~ '_' ~ level) }}
    {%- endfor %}
{%- endfor %}

with

sessions as (
    select
        sm_res_session_fact_key,
        resource_key,
        media_type_key,
        start_ts,
        end_ts,
        active_flag,
        last_landed_at
    from {{ ref('sm_res_session_fact') }}
    {% if is_incremental() %}
        where sm_res_session_fact_key in (select touched.sm_res_session_fact_key from {{ touched_keys() }} as touched)
    {% endif %}
),

final as (
    select
        sessions.sm_res_session_fact_key,
        sessions.resource_key,
        sessions.media_type_key,
        sessions.start_ts,
        coalesce(sessions.end_ts, {{ ag2_data_horizon() }}) as credited_end_ts,
        sessions.active_flag as credited_open,
        sessions.last_landed_at
    from sessions
)

select * from final
