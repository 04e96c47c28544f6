{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['event_ts']},
            {'columns': ['landed_at']},
            {'columns': ['call_id', 'event_ts']},
            {'columns': ['thread_id', 'event_ts']},
        ],
        pre_hook="{{ save_discards('voice_callthread') }}",
        post_hook="{{ analyze_if_stale() }}",
    )
}}

with

landed as (
    {{ landed_since_watermark('voice_callthread') }}
),

typed as (
    select
        {{ envelope_columns() }},
        {{ json_text('payload', 'call_id') }} as call_id,
        {{ json_text('payload', 'thread_id') }} as thread_id,
        {{ json_text('payload', 'call_type') }} as call_type,
        {{ json_text('payload', 'ani') }} as ani,
        {{ json_text('payload', 'dnis') }} as dnis,
        {{ json_value('payload', 'user_data') }} as user_data,
        {{ json_text('payload', 'party_id') }} as party_id,
        {{ json_text('payload', 'dn') }} as dn,
        {{ json_text('payload', 'dn_type') }} as dn_type,
        {{ json_text('payload', 'agent_id') }} as agent_id,
        {{ json_text('payload', 'reason') }} as reason,
        {{ json_text('payload', 'initiator_party_id') }} as initiator_party_id,
        {{ json_text('payload', 'queue') }} as queue,
        {{ json_text('payload', 'target_party_id') }} as target_party_id,
        {{ json_text('payload', 'cause') }} as cause,
        landed_at
    from landed
    where discard_reason is null
),

deduplicated as (
    {{ keep_one_copy('typed') }}
)

select * from deduplicated
