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
        pre_hook="{{ save_discards('voice_agentstate') }}",
        post_hook="{{ analyze_if_stale() }}",
    )
}}

with

landed as (
    {{ landed_since_watermark('voice_agentstate') }}
),

typed as (
    select
        {{ envelope_columns() }},
        {{ json_text('payload', 'agent_id') }} as agent_id,
        {{ json_text('payload', 'dn') }} as dn,
        {{ json_text('payload', 'place') }} as place,
        {{ json_value('payload', 'queues') }} as queues,
        {{ json_text('payload', 'workmode') }} as workmode,
        {{ json_text('payload', 'reason_code') }} as reason_code,
        landed_at
    from landed
    where discard_reason is null
),

deduplicated as (
    {{ keep_one_copy('typed') }}
)

select * from deduplicated
