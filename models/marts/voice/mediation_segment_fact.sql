{{
    config(
        unique_key='media_server_ixn_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(calls_touched_for_segments()) }}",
        indexes=[
            {'columns': ['mediation_segment_id'], 'unique': True},
            {'columns': ['media_server_ixn_id']},
            {'columns': ['start_ts']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=["{{ analyze_if_stale() }}"],
    )
}}

{# One row per stay in a queue: a Queue party from its Queued to its Diverted, or to its
    Released (MEASURES.md). Open stays are active rows with a null end. The segment's target is
    the party the queue party delivered the call to (int_voice__parties.delivered_to_party_id:
    its Diverted target, else the party whose initiator_party_id names it), the same link
    interaction_resource_fact walks; a segment with a target is Diverted. RESOURCE_KEY
    resolves the queue name through the renamed names of resource_name_history at the queue
    party's added_ts, else resource_key('Queue', name); the calls using a name whose renaming
    landed since the last run are recomputed too (calls_touched_for_segments). #}

with

touched_parties as (
    select parties.*
    from {{ ref('int_voice__parties') }} as parties
    {% if is_incremental() %}
        where
            parties.call_id in (select touched.media_server_ixn_id from {{ touched_keys() }} as touched)
    {% endif %}
),

renamed as (
    {{ renamed_resources() }}
),

queue_parties as (
    select *
    from touched_parties
    where dn_type = 'Queue' and queued_ts is not null
),

stays as (
    select
        queue_parties.*,
        renamed.resource_key as renamed_queue_key,
        coalesce(queue_parties.diverted_ts, queue_parties.released_ts) as stay_end_ts,
        case
            when queue_parties.diverted_ts is not null or queue_parties.delivered_to_party_id is not null
                then 'Diverted'
            when
                queue_parties.release_cause = 'Abandoned'
                or (
                    queue_parties.customer_released_ts >= queue_parties.queued_ts
                    and queue_parties.customer_released_ts <= queue_parties.released_ts
                )
                then 'Abandoned'
            when queue_parties.released_ts is not null then 'Cleared'
        end as technical_result
    from queue_parties
    left join renamed
        on
            renamed.resource_type = 'Queue'
            and coalesce(queue_parties.queue, queue_parties.dn) = renamed.resource_name
            and queue_parties.added_ts >= renamed.valid_from
            and (queue_parties.added_ts < renamed.valid_to or renamed.valid_to is null)
),

segments as (
    select
        {{ infomart_key(['call_id', 'party_id']) }} as mediation_segment_id,
        {{ infomart_key(["'Voice'", 'root_id']) }} as interaction_id,
        call_id as media_server_ixn_id,
        root_id as media_server_root_ixn_id,
        party_id,
        coalesce(
            renamed_queue_key, {{ resource_key('Queue', 'coalesce(queue, dn)') }}
        ) as resource_key,
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
            when delivered_to_party_id is not null then {{ infomart_key(['call_id', 'delivered_to_party_id']) }}
        end as target_ixn_resource_id,
        delivered_to_party_id as target_party_id,
        case when stay_end_ts is null then 1 else 0 end as active_flag,
        last_landed_at
    from stays
)

select * from segments
