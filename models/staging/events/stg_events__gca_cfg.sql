{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['event_ts']},
            {'columns': ['landed_at']},
            {'columns': ['dbid', 'event_ts']},
        ],
        pre_hook="{{ save_discards('gca_cfg') }}",
        post_hook="{{ analyze_if_stale() }}",
    )
}}

with

landed as (
    {{ landed_since_watermark('gca_cfg') }}
),

typed as (
    select
        {{ envelope_columns() }},
        {{ json_text('payload', 'object_type') }} as object_type,
        ({{ json_text('payload', 'dbid') }})::bigint as dbid,
        ({{ json_text('payload', 'config_version') }})::bigint as config_version,
        {{ json_value('payload', 'attributes') }} as attributes,
        {{ json_text('payload', 'type') }} = 'ConfigDelete' as is_deleted,
        landed_at
    from landed
    where discard_reason is null
),

deduplicated as (
    {{ keep_one_copy('typed') }}
)

select * from deduplicated
