{{ ag2_table_config('subhr', 'agent_time') }}

{#- ag2_i_state_rsn per 15 minutes (AGGREGATES.md): SM_RES_STATE_REASON_FACT spans cut exactly at
    every interval boundary (state_reason_time, open spans up to the data horizon);
    state_reason_count counts the spans that start in the interval. -#}

with

spans as (
    select
        spans.resource_key,
        spans.media_type_key,
        spans.resource_state_reason_key,
        spans.measure,
        spans.start_ts,
        spans.end_ts,
        spans.last_landed_at
    from {{ ref('int_aggregates__reason_spans') }} as spans
    {% if is_incremental() %}
        where
            spans.start_ts < (select max(touched.interval_end_ts) from {{ touched_keys() }} as touched)
            and spans.end_ts > (select min(touched.interval_start_ts) from {{ touched_keys() }} as touched)
    {% endif %}
),

pieces as (
    {{ ag2_pieces('spans', ['resource_key', 'media_type_key', 'resource_state_reason_key']) }}
),

summed as (
    select
        slot_start as interval_start_ts,
        resource_key,
        media_type_key,
        resource_state_reason_key,
        sum(starts_here) as state_reason_count,
        sum(ms) as state_reason_time_ms,
        max(last_landed_at) as last_landed_at
    from pieces
    group by slot_start, resource_key, media_type_key, resource_state_reason_key
)

{{ ag2_final_columns('i_state_rsn') }}
