{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['event_ts']},
            {'columns': ['landed_at']},
            {'columns': ['campaign_id', 'event_ts']},
            {'columns': ['campaign_id', 'record_id']},
            {'columns': ['call_id']},
        ],
        pre_hook="{{ save_discards('voice_outbound') }}",
        post_hook="{{ analyze_if_stale() }}",
    )
}}

with

landed as (
    {{ landed_since_watermark('voice_outbound') }}
),

typed as (
    select
        {{ envelope_columns() }},
        {{ json_text('payload', 'campaign_id') }} as campaign_id,
        {{ json_text('payload', 'group') }} as campaign_group,
        {{ json_text('payload', 'dialing_mode') }} as dialing_mode,
        {{ json_text('payload', 'record_id') }} as record_id,
        {{ json_text('payload', 'chain_id') }} as chain_id,
        ({{ json_text('payload', 'attempt') }})::integer as attempt,
        {{ json_text('payload', 'contact') }} as contact,
        {{ json_text('payload', 'call_id') }} as call_id,
        {{ json_text('payload', 'result') }} as dial_result,
        {{ json_text('payload', 'disposition') }} as disposition,
        landed_at
    from landed
    where discard_reason is null
),

deduplicated as (
    {{ keep_one_copy('typed') }}
)

select * from deduplicated
