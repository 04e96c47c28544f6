{{
    config(
        unique_key='media_server_ixn_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(contact_attempts_touched()) }}",
        indexes=[
            {'columns': ['contact_attempt_fact_key'], 'unique': True},
            {'columns': ['media_server_ixn_id']},
            {'columns': ['start_ts']},
            {'columns': ['campaign_key', 'start_ts']},
            {'columns': ['campaign_id', 'record_id']},
            {'columns': ['last_landed_at']},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- CONTACT_ATTEMPT_FACT (MEASURES.md "Outbound campaigns"): one row per RecordDialed (campaign,
    record, attempt), START_TS the RecordDialed, END_TS its DialResult (the first with the same
    call_id; null and active_flag 1 until then). DIALING_MODE of the campaign group running at
    START_TS (the latest started at or before it and not stopped by then; null if none);
    RECORD_DISPOSITION from the record's RecordCompleted, on its last attempt only (the one dialed
    last); INTERACTION_RESOURCE_ID the IRF row of the agent party that took the answered call (its
    first agent party with talk; null if none). Events ordered by (event_ts, seq, event_id).
    Recomputed per attempt (its call_id) for the touched records, calls and campaigns
    (contact_attempts_touched). -#}

with

{# the touched attempts' records (every attempt of them is recomputed) and campaign group events #}
{% if is_incremental() %}
    touched_records as (
        select distinct
            dials.campaign_id,
            dials.record_id
        from {{ ref('stg_events__voice_outbound') }} as dials
        where dials.call_id in (select touched.media_server_ixn_id from {{ touched_keys() }} as touched)
    ),
{% endif %}

outbound_events as (
    select events.*
    from {{ ref('stg_events__voice_outbound') }} as events
    {% if is_incremental() %}
        where
            (events.campaign_id, events.record_id) in (
                select
                    touched_records.campaign_id,
                    touched_records.record_id
                from touched_records
            )
            or (
                events.event_type in ('CampaignGroupStarted', 'CampaignGroupStopped')
                and events.campaign_id in (select touched_records.campaign_id from touched_records)
            )
    {% endif %}
),

dials as (
    select
        event_id,
        campaign_id,
        record_id,
        chain_id,
        attempt,
        contact,
        call_id,
        event_ts as start_ts,
        landed_at,
        row_number() over (partition by call_id order by event_ts, seq, event_id) as dial_order,
        row_number() over (
            partition by campaign_id, record_id order by event_ts desc, seq desc, event_id desc
        ) as last_dial_order
    from outbound_events
    where event_type = 'RecordDialed' and call_id is not null
),

results as (
    select
        call_id,
        dial_result,
        event_ts,
        landed_at,
        row_number() over (partition by call_id order by event_ts, seq, event_id) as result_order
    from outbound_events
    where event_type = 'DialResult' and call_id is not null
),

completions as (
    select
        campaign_id,
        record_id,
        disposition,
        landed_at,
        row_number() over (
            partition by campaign_id, record_id order by event_ts desc, seq desc, event_id desc
        ) as completion_order
    from outbound_events
    where event_type = 'RecordCompleted'
),

group_starts as (
    select
        campaign_id,
        campaign_group,
        dialing_mode,
        event_ts as start_ts,
        lead(event_ts) over (
            partition by campaign_id, campaign_group order by event_ts, seq, event_id
        ) as next_ts,
        event_type
    from outbound_events
    where event_type in ('CampaignGroupStarted', 'CampaignGroupStopped')
),

modes as (
    select
        dials.call_id,
        group_starts.dialing_mode,
        group_starts.campaign_group,
        row_number() over (partition by dials.call_id order by group_starts.start_ts desc) as mode_order
    from dials
    inner join group_starts
        on
            dials.campaign_id = group_starts.campaign_id
            and group_starts.event_type = 'CampaignGroupStarted'
            and dials.start_ts >= group_starts.start_ts
            and (group_starts.next_ts is null or dials.start_ts < group_starts.next_ts)
),

agent_parties as (
    select
        parties.media_server_ixn_id as call_id,
        parties.interaction_resource_id,
        parties.agent_id,
        parties.last_landed_at,
        row_number() over (
            partition by parties.media_server_ixn_id order by parties.start_ts, parties.party_id
        ) as party_order
    from {{ ref('interaction_resource_fact') }} as parties
    where
        parties.agent_id is not null
        and parties.talk_count = 1
        and parties.media_server_ixn_id in (select dials.call_id from dials)
),

call_results as (
    select
        call_result_key,
        call_result
    from {{ ref('call_result') }}
),

final as (
    select
        {{ infomart_key(["'attempt'", 'dials.call_id']) }} as contact_attempt_fact_key,
        {{ infomart_key(["'Campaign'", 'dials.campaign_id']) }} as campaign_key,
        coalesce(call_results.call_result_key, {{ unknown_key() }}) as call_result_key,
        {{ date_time_key('dials.start_ts') }} as start_date_time_key,
        {{ date_time_key('results.event_ts') }} as end_date_time_key,
        dials.start_ts,
        results.event_ts as end_ts,
        {{ ms_to_seconds(ms_between('dials.start_ts', 'results.event_ts')) }} as attempt_duration,
        {{ ms_between('dials.start_ts', 'results.event_ts') }} as attempt_duration_ms,
        dials.campaign_id,
        modes.campaign_group,
        modes.dialing_mode,
        dials.record_id,
        dials.chain_id,
        dials.attempt as attempt_number,
        dials.contact as contact_info,
        results.dial_result as call_result,
        case when dials.last_dial_order = 1 then completions.disposition end as record_disposition,
        dials.call_id as media_server_ixn_id,
        agent_parties.interaction_resource_id,
        agent_parties.agent_id,
        case when results.event_ts is null then 1 else 0 end as active_flag,
        greatest(
            dials.landed_at, results.landed_at, completions.landed_at, agent_parties.last_landed_at
        ) as last_landed_at
    from dials
    left join results on dials.call_id = results.call_id and results.result_order = 1
    left join completions
        on
            dials.campaign_id = completions.campaign_id
            and dials.record_id = completions.record_id
            and completions.completion_order = 1
    left join modes on dials.call_id = modes.call_id and modes.mode_order = 1
    left join agent_parties on dials.call_id = agent_parties.call_id and agent_parties.party_order = 1
    left join call_results on results.dial_result = call_results.call_result
    where dials.dial_order = 1
)

select
    final.*,
    {{ audit_key_columns() }}
from final
