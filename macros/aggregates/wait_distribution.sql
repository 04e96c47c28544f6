{#- The body of a wait-distribution subhr model (ag2_queue_abn, ag2_queue_acc_agent): the
    segments of one `outcome` (abandoned / accepted) of the touched intervals, counted per
    TIME_RANGE [range_start, range_end) holding their wait `wait_ms_column` (exact ms), in the
    interval of the segment's entry. -#}
{% macro ag2_wait_distribution(family, outcome, wait_ms_column) -%}
with

measured_segments as (
    select segments.*
    from {{ ref('int_aggregates__queue_segments') }} as segments
    {{ ag2_join_touched_intervals('segments.start_ts') }}
),

time_ranges as (
    select
        time_range_key,
        range_start,
        range_end
    from {{ ref('time_range') }}
),

summed as (
    select
        {{ ag2_slot('measured_segments.start_ts') }} as interval_start_ts,
        measured_segments.resource_key,
        measured_segments.media_type_key,
        measured_segments.interaction_type_key,
        time_ranges.time_range_key,
        count(*) as {{ outcome }},
        max(measured_segments.last_landed_at) as last_landed_at
    from measured_segments
    inner join time_ranges
        on
            measured_segments.{{ wait_ms_column }} >= time_ranges.range_start * 1000
            and (
                measured_segments.{{ wait_ms_column }} < time_ranges.range_end * 1000
                or time_ranges.range_end is null
            )
    where measured_segments.outcome = '{{ outcome }}'
    group by
        {{ ag2_slot('measured_segments.start_ts') }},
        measured_segments.resource_key,
        measured_segments.media_type_key,
        measured_segments.interaction_type_key,
        time_ranges.time_range_key
)

{{ ag2_final_columns(family) }}
{%- endmacro %}
