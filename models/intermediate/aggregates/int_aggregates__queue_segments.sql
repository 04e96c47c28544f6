{{ config(materialized='ephemeral') }}

{#- The measured queue segments of the queue aggregates (AGGREGATES.md ag2_queue, ag2_queue_abn,
    ag2_queue_acc_agent): every ended segment with its one outcome, accepted time and the
    thresholds in force at START_TS. A Diverted segment counts once its target's IRF row has
    ended (its outcome is final then); a target without an IRF row (not an agent: IVR or
    extension party) is routed_other. Ephemeral, one flat select (no CTEs): Postgres inlines it
    into the aggregate's query, so the touched-interval join on start_ts reaches the fact's
    start_ts index (a relation with CTEs is planned apart and scans every segment). -#}

select
    segments.media_server_ixn_id,
    segments.start_ts,
    segments.resource_key,
    segments.media_type_key,
    coalesce(interactions.interaction_type_key, {{ unknown_key() }}) as interaction_type_key,
    coalesce(thresholds.service_level_threshold, {{ var('service_level_seconds') }})
        as service_level_threshold,
    coalesce(thresholds.short_abandon_threshold, {{ var('short_abandon_seconds') }})
        as short_abandon_threshold,
    segments.mediation_duration_ms,
    case
        when segments.technical_result = 'Abandoned' then 'abandoned'
        when segments.technical_result = 'Cleared' then 'cleared'
        when targets.interaction_resource_id is null then 'routed_other'
        when targets.agent_id is not null and targets.talk_count = 1 then 'accepted'
        when targets.technical_result = 'Abandoned' and targets.result_reason = 'AbandonedWhileRinging'
            then 'abandoned_invite'
        when targets.technical_result in ('Redirected', 'Rejected') and targets.talk_count = 0
            then 'redirected'
        else 'routed_other'
    end as outcome,
    segments.mediation_duration_ms
    + case when segments.media_type_key = 1 then coalesce(targets.ring_ms, 0) else 0 end as accepted_ms,
    coalesce(targets.talk_ms, 0) as engage_ms,
    coalesce(targets.hold_ms, 0) as hold_ms,
    coalesce(targets.after_call_work_ms, 0) as wrap_ms,
    greatest(segments.last_landed_at, targets.last_landed_at) as last_landed_at
from {{ ref('mediation_segment_fact') }} as segments
left join {{ ref('interaction_resource_fact') }} as targets
    on segments.target_ixn_resource_id = targets.interaction_resource_id
left join {{ ref('interaction_fact') }} as interactions on segments.interaction_id = interactions.interaction_id
left join {{ ref('int_config__queue_thresholds') }} as thresholds
    on
        segments.resource_key = thresholds.resource_key
        and segments.start_ts >= thresholds.valid_from
        and (segments.start_ts < thresholds.valid_to or thresholds.valid_to is null)
where
    segments.end_ts is not null
    and not (
        segments.technical_result = 'Diverted'
        and targets.interaction_resource_id is not null
        and targets.end_ts is null
    )
