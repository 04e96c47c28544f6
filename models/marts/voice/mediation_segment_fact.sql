{{
    config(
        unique_key='media_server_ixn_id',
        incremental_strategy='touched_keys',
        partition_by='start_ts',
        pre_hook="{{ save_touched_keys(calls_touched_for_segments()) }}",
        indexes=[
            {'columns': ['mediation_segment_id', 'start_ts'], 'unique': True},
            {'columns': ['media_server_ixn_id']},
            {'columns': ['interaction_id']},
            {'columns': ['start_ts']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=["{{ name_partitions() }}", "{{ analyze_if_stale() }}"],
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

thresholds as (
    select
        resource_key,
        valid_from,
        valid_to,
        short_abandon_threshold,
        landed_at
    from {{ ref('int_config__queue_thresholds') }}
),

digital_stays as (
    select
        stays.*,
        {#- not resolved through renamings, like the digital IRF rows #}
        {{ resource_key('Queue', 'stays.queue') }} as queue_key
    from {{ ref('int_digital__queue_stays') }} as stays
    {% if is_incremental() %}
        where stays.itx_id in (select touched.media_server_ixn_id from {{ touched_keys() }} as touched)
    {% endif %}
),

media_types as (
    select
        media_type_key,
        lower(media_name_code) as media
    from {{ ref('media_type') }}
),

queue_parties as (
    select *
    from touched_parties
    where dn_type = 'Queue' and queued_ts is not null
),

stays as (
    select
        queue_parties.*,
        coalesce(
            renamed.resource_key, {{ resource_key('Queue', 'coalesce(queue_parties.queue, queue_parties.dn)') }}
        ) as queue_key,
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

{# SHORT_ABANDONED_FLAG against the queue's short-abandon threshold in force at the segment's
    start (int_config__queue_thresholds, configuration time), else the setting #}
segments as (
    select
        {{ infomart_key(['stays.call_id', 'stays.party_id']) }} as mediation_segment_id,
        {{ infomart_key(["'Voice'", 'stays.root_id']) }} as interaction_id,
        stays.call_id as media_server_ixn_id,
        stays.root_id as media_server_root_ixn_id,
        stays.party_id,
        stays.queue_key as resource_key,
        coalesce(stays.queue, stays.dn) as queue_name,
        1 as media_type_key,
        stays.queued_ts as start_ts,
        stays.stay_end_ts as end_ts,
        {{ date_time_key('stays.queued_ts') }} as start_date_time_key,
        {{ date_time_key('stays.stay_end_ts') }} as end_date_time_key,
        {{ ms_to_seconds(ms_between('stays.queued_ts', 'stays.stay_end_ts')) }} as mediation_duration,
        {{ ms_between('stays.queued_ts', 'stays.stay_end_ts') }} as mediation_duration_ms,
        stays.technical_result,
        case
            when
                stays.technical_result = 'Abandoned'
                and {{ ms_between('stays.queued_ts', 'stays.stay_end_ts') }}
                <= coalesce(thresholds.short_abandon_threshold, {{ var('short_abandon_seconds') }}) * 1000
                then 1
            else 0
        end as short_abandoned_flag,
        case
            when stays.delivered_to_party_id is not null
                then {{ infomart_key(['stays.call_id', 'stays.delivered_to_party_id']) }}
        end as target_ixn_resource_id,
        stays.delivered_to_party_id as target_party_id,
        case when stays.stay_end_ts is null then 1 else 0 end as active_flag,
        greatest(stays.last_landed_at, thresholds.landed_at) as last_landed_at
    from stays
    left join thresholds
        on
            stays.queue_key = thresholds.resource_key
            and stays.queued_ts >= thresholds.valid_from
            and (stays.queued_ts < thresholds.valid_to or thresholds.valid_to is null)
),

{# digital (MEASURES.md "Digital interactions"): one row per stay in an interaction queue, to the
    Accepted of an offer made from it (Diverted, target that offer's IRF row) or to Completed #}
{%- set stay_party_id = digital_party_id('digital_stays.queue', 'digital_stays.queued_ts') %}
{%- set target_party_id = digital_party_id('digital_stays.target_agent_id', 'digital_stays.target_offered_ts') %}

digital_segments as (
    select
        {{ infomart_key(['digital_stays.itx_id', stay_party_id]) }} as mediation_segment_id,
        {{ infomart_key(["'Digital'", 'digital_stays.itx_id']) }} as interaction_id,
        digital_stays.itx_id as media_server_ixn_id,
        digital_stays.itx_id as media_server_root_ixn_id,
        {{ stay_party_id }} as party_id,
        digital_stays.queue_key as resource_key,
        digital_stays.queue as queue_name,
        cast(coalesce(media_types.media_type_key, {{ unknown_key() }}) as integer) as media_type_key,
        digital_stays.queued_ts as start_ts,
        digital_stays.end_ts,
        {{ date_time_key('digital_stays.queued_ts') }} as start_date_time_key,
        {{ date_time_key('digital_stays.end_ts') }} as end_date_time_key,
        {{ ms_to_seconds(ms_between('digital_stays.queued_ts', 'digital_stays.end_ts')) }} as mediation_duration,
        {{ ms_between('digital_stays.queued_ts', 'digital_stays.end_ts') }} as mediation_duration_ms,
        digital_stays.technical_result,
        case
            when
                digital_stays.technical_result = 'Abandoned'
                and {{ ms_between('digital_stays.queued_ts', 'digital_stays.end_ts') }}
                <= coalesce(thresholds.short_abandon_threshold, {{ var('short_abandon_seconds') }}) * 1000
                then 1
            else 0
        end as short_abandoned_flag,
        case
            when digital_stays.target_agent_id is not null
                then {{ infomart_key(['digital_stays.itx_id', target_party_id]) }}
        end as target_ixn_resource_id,
        case
            when digital_stays.target_agent_id is not null
                then {{ target_party_id }}
        end as target_party_id,
        case when digital_stays.end_ts is null then 1 else 0 end as active_flag,
        greatest(digital_stays.last_landed_at, thresholds.landed_at) as last_landed_at
    from digital_stays
    left join media_types on digital_stays.media = media_types.media
    left join thresholds
        on
            digital_stays.queue_key = thresholds.resource_key
            and digital_stays.queued_ts >= thresholds.valid_from
            and (digital_stays.queued_ts < thresholds.valid_to or thresholds.valid_to is null)
),

all_segments as (
    select * from segments
    union all
    select * from digital_segments
)

select
    all_segments.*,
    {{ audit_key_columns() }}
from all_segments
