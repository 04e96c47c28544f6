{{ ag2_table_config('subhr', 'state') }}

{#- ag2_i_state_rsn per 15 minutes (AGGREGATES.md): SM_RES_STATE_REASON_FACT spans cut exactly at
    every interval boundary (state_reason_time, open spans up to the data horizon);
    state_reason_count counts the spans that start in the interval. -#}

with

{{ ag2_state_pieces('reason') }}

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
