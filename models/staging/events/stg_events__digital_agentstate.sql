{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['event_ts']},
            {'columns': ['landed_at']},
            {'columns': ['agent_id', 'event_ts']},
        ],
        pre_hook="{{ save_discards('digital_agentstate') }}",
        post_hook="{{ analyze_if_stale() }}",
    )
}}

with

landed as (
    {{ landed_since_watermark('digital_agentstate') }}
),

typed as (
    select
        {{ envelope_columns() }},
        {{ json_text('payload', 'agent_id') }} as agent_id,
        {{ json_text('payload', 'media_type') }} as media_type,
        ({{ json_text('payload', 'capacity') }})::integer as capacity,
        {{ json_text('payload', 'reason_code') }} as reason_code,
        landed_at
    from landed
    where discard_reason is null
),

deduplicated as (
    {{ keep_one_copy('typed') }}
)

select * from deduplicated
