{{
    config(
        unique_key='media_server_ixn_id',
        incremental_strategy='delete+insert',
        post_hook=[
            "create unique index if not exists {{ this.identifier }}__id on {{ this }} (mediation_segment_id)",
            "create index if not exists {{ this.identifier }}__call on {{ this }} (media_server_ixn_id)",
            "create index if not exists {{ this.identifier }}__start_ts on {{ this }} (start_ts)",
            "create index if not exists {{ this.identifier }}__last_landed_at on {{ this }} (last_landed_at)",
            "analyze {{ this }}",
        ]
    )
}}

{# One row per stay in a queue: a Queue party from its Queued to its Diverted, or to its
    Released (MEASURES.md). Open stays are active rows with a null end. #}

with

touched_calls as (
    select distinct call_id
    from {{ ref('int_voice__parties') }}
    where {{ since_watermark('last_landed_at') }}
),

queue_parties as (
    select parties.*
    from {{ ref('int_voice__parties') }} as parties
    inner join touched_calls on parties.call_id = touched_calls.call_id
    where parties.dn_type = 'Queue' and parties.queued_ts is not null
),

stays as (
    select
        *,
        coalesce(diverted_ts, released_ts) as stay_end_ts,
        case
            when diverted_ts is not null then 'Diverted'
            when
                release_cause = 'Abandoned'
                or (customer_released_ts >= queued_ts and customer_released_ts <= released_ts)
                then 'Abandoned'
            when released_ts is not null then 'Cleared'
        end as technical_result
    from queue_parties
),

segments as (
    select
        {{ infomart_key(['call_id', 'party_id']) }} as mediation_segment_id,
        {{ infomart_key(["'Voice'", 'coalesce(thread_id, call_id)']) }} as interaction_id,
        call_id as media_server_ixn_id,
        coalesce(thread_id, call_id) as media_server_root_ixn_id,
        party_id,
        {{ resource_key('Queue', 'coalesce(queue, dn)') }} as resource_key,
        coalesce(queue, dn) as queue_name,
        1 as media_type_key,
        queued_ts as start_ts,
        stay_end_ts as end_ts,
        {{ date_time_key('queued_ts') }} as start_date_time_key,
        {{ date_time_key('stay_end_ts') }} as end_date_time_key,
        {{ ms_to_seconds(ms_between('queued_ts', 'stay_end_ts')) }} as mediation_duration,
        {{ ms_between('queued_ts', 'stay_end_ts') }} as mediation_duration_ms,
        technical_result,
        case
            when
                technical_result = 'Abandoned'
                and {{ ms_between('queued_ts', 'stay_end_ts') }} <= {{ var('short_abandon_seconds') }} * 1000
                then 1
            else 0
        end as short_abandoned_flag,
        case
            when target_party_id is not null then {{ infomart_key(['call_id', 'target_party_id']) }}
        end as target_ixn_resource_id,
        target_party_id,
        case when stay_end_ts is null then 1 else 0 end as active_flag,
        last_landed_at
    from stays
)

select * from segments
