{{
    config(
        unique_key='campaign_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(campaigns_with_group_events_since_watermark()) }}",
        indexes=[
            {'columns': ['campaign_group_session_fact_key'], 'unique': True},
            {'columns': ['campaign_id', 'start_ts']},
            {'columns': ['last_landed_at']},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- CAMPAIGN_GROUP_SESSION_FACT (MEASURES.md "Outbound campaigns"): one row per run of a campaign
    group, CampaignGroupStarted -> the next CampaignGroupStopped of the same (campaign, group)
    before its next start; open (null end, active_flag 1) while running. DIALING_MODE is the
    start's. Events ordered by (event_ts, seq, event_id). Recomputed per campaign. -#}

with

group_events as (
    select
        campaign_id,
        campaign_group,
        dialing_mode,
        event_type,
        event_ts,
        landed_at,
        lead(event_type) over group_order as next_event_type,
        lead(event_ts) over group_order as next_event_ts
    from {{ ref('stg_events__voice_outbound') }}
    where
        event_type in ('CampaignGroupStarted', 'CampaignGroupStopped')
        and campaign_id is not null
        {% if is_incremental() %}
            and campaign_id in (select touched.campaign_id from {{ touched_keys() }} as touched)
        {% endif %}
    window group_order as (partition by campaign_id, campaign_group order by event_ts, seq, event_id)
),

campaign_landings as (
    select
        campaign_id,
        max(landed_at) as last_landed_at
    from group_events
    group by campaign_id
),

sessions as (
    select
        group_events.campaign_id,
        group_events.campaign_group,
        group_events.dialing_mode,
        group_events.event_ts as start_ts,
        case
            when group_events.next_event_type = 'CampaignGroupStopped' then group_events.next_event_ts
        end as end_ts,
        campaign_landings.last_landed_at
    from group_events
    inner join campaign_landings on group_events.campaign_id = campaign_landings.campaign_id
    where group_events.event_type = 'CampaignGroupStarted'
),

final as (
    select
        {{ infomart_key(["'campaign_group'", 'campaign_id', 'campaign_group', 'start_ts']) }}
            as campaign_group_session_fact_key,
        {{ infomart_key(["'Campaign'", 'campaign_id']) }} as campaign_key,
        campaign_id,
        campaign_group,
        dialing_mode,
        start_ts,
        end_ts,
        {{ date_time_key('start_ts') }} as start_date_time_key,
        {{ date_time_key('end_ts') }} as end_date_time_key,
        {{ ms_to_seconds(ms_between('start_ts', 'end_ts')) }} as total_duration,
        {{ ms_between('start_ts', 'end_ts') }} as total_duration_ms,
        case when end_ts is null then 1 else 0 end as active_flag,
        last_landed_at
    from sessions
)

select
    final.*,
    {{ audit_key_columns() }}
from final
