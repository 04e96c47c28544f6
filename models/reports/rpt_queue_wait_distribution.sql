{#- Abandon Delay and Speed of Accept reports: ag2_queue_abn (abandoned segments by
    MEDIATION_DURATION) and ag2_queue_acc_agent (accepted segments by accepted time) at the
    report levels, one row per interval, queue, media and TIME_RANGE, with wait_outcome telling
    the two apart. -#}

with

abandoned_rows as (
    {{ report_level_rows('queue_abn') }}
),

accepted_rows as (
    {{ report_level_rows('queue_acc_agent') }}
),

waits as (
    select
        report_level,
        date_time_key,
        interval_start_ts,
        resource_key,
        media_type_key,
        time_range_key,
        'abandoned' as wait_outcome,
        abandoned as segments
    from abandoned_rows
    union all
    select
        report_level,
        date_time_key,
        interval_start_ts,
        resource_key,
        media_type_key,
        time_range_key,
        'accepted' as wait_outcome,
        accepted as segments
    from accepted_rows
),

queues as (
    select * from {{ ref('resource_') }}
),

media_types as (
    select * from {{ ref('media_type') }}
),

time_ranges as (
    select * from {{ ref('time_range') }}
)

select
    waits.report_level,
    waits.date_time_key,
    waits.interval_start_ts,
    waits.resource_key as queue_key,
    coalesce(queues.resource_name, 'unknown') as queue_name,
    waits.media_type_key,
    media_types.media_name,
    waits.wait_outcome,
    waits.time_range_key,
    time_ranges.time_range_name,
    time_ranges.range_start,
    time_ranges.range_end,
    waits.segments
from waits
left join queues on waits.resource_key = queues.resource_key
left join media_types on waits.media_type_key = media_types.media_type_key
left join time_ranges on waits.time_range_key = time_ranges.time_range_key
