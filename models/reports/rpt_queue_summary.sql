{#- Queue Summary and Service Level reports: ag2_queue at the report levels with the queue's
    name and the media and interaction type. The additive parts come as they are, so a report
    over several rows recomputes ASA and service level from sums (AGGREGATES.md). -#}

with

queue_rows as (
    {{ report_level_rows('queue') }}
),

queues as (
    select * from {{ ref('resource_') }}
),

media_types as (
    select * from {{ ref('media_type') }}
),

interaction_types as (
    select * from {{ ref('interaction_type') }}
)

select
    queue_rows.report_level,
    queue_rows.date_time_key,
    queue_rows.interval_start_ts,
    queue_rows.resource_key as queue_key,
    coalesce(queues.resource_name, 'unknown') as queue_name,
    queue_rows.media_type_key,
    media_types.media_name,
    interaction_types.interaction_type,
    queue_rows.service_level_threshold,
    queue_rows.short_abandon_threshold,
    queue_rows.entered,
    queue_rows.accepted,
    queue_rows.accepted_thr,
    queue_rows.abandoned,
    queue_rows.abandoned_short,
    queue_rows.abandoned_invite,
    queue_rows.redirected,
    queue_rows.cleared,
    queue_rows.routed_other,
    queue_rows.distributed,
    queue_rows.accepted_time_ms,
    queue_rows.accepted_time_max_ms,
    queue_rows.abandoned_time_ms,
    queue_rows.abandoned_time_max_ms,
    queue_rows.handle_time_ms,
    queue_rows.accepted + queue_rows.abandoned + queue_rows.abandoned_invite - queue_rows.abandoned_short
        as service_level_base,
    queue_rows.service_level
from queue_rows
left join queues on queue_rows.resource_key = queues.resource_key
left join media_types on queue_rows.media_type_key = media_types.media_type_key
left join interaction_types on queue_rows.interaction_type_key = interaction_types.interaction_type_key
