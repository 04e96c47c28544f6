{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['event_ts']},
            {'columns': ['landed_at']},
            {'columns': ['itx_id', 'event_ts']},
        ],
        pre_hook="{{ save_discards('digital_itx') }}",
        post_hook="{{ analyze_if_stale() }}",
    )
}}

with

landed as (
    {{ landed_since_watermark('digital_itx') }}
),

typed as (
    select
        {{ envelope_columns() }},
        {{ json_text('payload', 'itx_id') }} as itx_id,
        {{ json_text('payload', 'media_type') }} as media_type,
        {{ json_text('payload', 'direction') }} as direction,
        {{ json_text('payload', 'customer_id') }} as customer_id,
        {{ json_value('payload', 'user_data') }} as user_data,
        {{ json_text('payload', 'queue') }} as queue,
        {{ json_text('payload', 'agent_id') }} as agent_id,
        {{ json_text('payload', 'to_queue') }} as to_queue,
        {{ json_text('payload', 'to_agent_id') }} as to_agent_id,
        {{ json_text('payload', 'reason') }} as completion_reason,
        landed_at
    from landed
    where discard_reason is null
),

deduplicated as (
    {{ keep_one_copy('typed') }}
)

select * from deduplicated
