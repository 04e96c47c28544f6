{#- Dial attempts (media_server_ixn_id = the attempt's call_id) whose CONTACT_ATTEMPT_FACT row may
    change: every attempt of a record with outbound events landed since the high-water mark (a
    result, a later attempt, the record's completion), the attempts of calls whose IRF rows
    landed since (the agent party that took the call), and the attempts of a campaign from the
    start of a campaign group event landed since (the dialing mode in force). -#}
{% macro contact_attempts_touched() -%}
    with

    landed as (
        select
            campaign_id,
            record_id,
            event_type,
            event_ts
        from {{ ref('stg_events__voice_outbound') }}
        where {{ since_watermark('landed_at') }}
    ),

    dials as (
        select
            campaign_id,
            record_id,
            call_id,
            event_ts
        from {{ ref('stg_events__voice_outbound') }}
        where event_type = 'RecordDialed' and call_id is not null
    )

    select dials.call_id as media_server_ixn_id
    from dials
    inner join (select distinct campaign_id, record_id from landed where record_id is not null) as records
        on dials.campaign_id = records.campaign_id and dials.record_id = records.record_id
    union
    select dials.call_id as media_server_ixn_id
    from dials
    inner join {{ ref('interaction_resource_fact') }} as parties
        on dials.call_id = parties.media_server_ixn_id
    where {{ since_watermark('parties.last_landed_at') }}
    union
    select dials.call_id as media_server_ixn_id
    from dials
    inner join (
        select
            campaign_id,
            min(event_ts) as event_ts
        from landed
        where event_type in ('CampaignGroupStarted', 'CampaignGroupStopped')
        group by campaign_id
    ) as groups on dials.campaign_id = groups.campaign_id
    where dials.event_ts >= groups.event_ts
{%- endmacro %}

{#- Campaigns with campaign group events landed since the high-water mark. -#}
{% macro campaigns_with_group_events_since_watermark() -%}
    select distinct campaign_id
    from {{ ref('stg_events__voice_outbound') }}
    where
        event_type in ('CampaignGroupStarted', 'CampaignGroupStopped')
        and {{ since_watermark('landed_at') }}
{%- endmacro %}
