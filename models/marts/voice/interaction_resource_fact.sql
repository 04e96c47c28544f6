{{
    config(
        unique_key='media_server_root_ixn_id',
        incremental_strategy='touched_keys',
        partition_by='start_ts',
        pre_hook="{{ save_touched_keys(threads_touched_for_resource_facts()) }}",
        indexes=[
            {'columns': ['interaction_resource_id', 'start_ts'], 'unique': True},
            {'columns': ['media_server_root_ixn_id']},
            {'columns': ['media_server_ixn_id']},
            {'columns': ['interaction_id']},
            {'columns': ['start_ts']},
            {'columns': ['resource_key', 'start_ts']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=["{{ name_partitions() }}", "{{ analyze_if_stale() }}"],
    )
}}

{# INTERACTION_RESOURCE_FACT (MEASURES.md): one row per handling party of a voice call
    (int_voice__party_outcomes: every agent, IVR and agent-less Extension party, plus a queue
    party where the interaction ended in it), with its durations, its mediation path
    (int_voice__mediation_paths), its after-call work (int_voice__after_call_work) and the
    consultations it started. Recomputed per call thread (media_server_root_ixn_id): a thread is
    touched when its calls' parties, the after-call work of one of its agents' parties, or the
    resolution of a name it uses changed since the last run (threads_touched_for_resource_facts);
    the old root of a call whose thread became known is touched too, so its provisional rows go.
    RESOURCE_KEY (and LAST_VQUEUE_RESOURCE_KEY) resolve the agent_id / queue / DN name through
    the renamed names of resource_name_history at the party's added_ts (the last queue's
    added_ts), else resource_key(type, name) (macro renamed_resources). #}

-- depends_on: {{ ref('stg_events__voice_agentstate') }} (read by the touched-key pre-hook)

with

thread_parties as (
    select parties.*
    from {{ ref('int_voice__parties') }} as parties
    {% if is_incremental() %}
        where
            parties.root_id in (
                select touched.media_server_root_ixn_id from {{ touched_keys() }} as touched
            )
    {% endif %}
),

party_outcomes as (
    select outcomes.*
    from {{ ref('int_voice__party_outcomes') }} as outcomes
    {% if is_incremental() %}
        where outcomes.call_id in (select thread_parties.call_id from thread_parties)
    {% endif %}
),

mediation as (
    select paths.*
    from {{ ref('int_voice__mediation_paths') }} as paths
    {% if is_incremental() %}
        where paths.call_id in (select thread_parties.call_id from thread_parties)
    {% endif %}
),

after_call_work as (
    select
        acw.call_id,
        acw.party_id,
        acw.acw_count,
        acw.acw_ms,
        acw.last_landed_at
    from {{ ref('int_voice__after_call_work') }} as acw
    {% if is_incremental() %}
        where acw.call_id in (select thread_parties.call_id from thread_parties)
    {% endif %}
),

renamed as (
    {{ renamed_resources() }}
),

digital_offers as (
    select offers.*
    from {{ ref('int_digital__offers') }} as offers
    {% if is_incremental() %}
        where
            offers.itx_id in (
                select touched.media_server_root_ixn_id from {{ touched_keys() }} as touched
            )
    {% endif %}
),

media_types as (
    select
        media_type_key,
        lower(media_name_code) as media
    from {{ ref('media_type') }}
),

descriptors as (
    select
        technical_descriptor_key,
        resource_role,
        technical_result,
        result_reason
    from {{ ref('technical_descriptor') }}
),

{# a consultation call is counted on the party its originator held in the same thread while
    it was started (the originator's party with Dialing on the Consult call) #}
consult_origins as (
    select
        call_id as consult_call_id,
        root_id,
        agent_id,
        coalesce(dialing_ts, added_ts) as consult_ts
    from thread_parties
    where call_type = 'Consult' and dialing_ts is not null and agent_id is not null
),

consult_initiators as (
    select
        origins.consult_call_id,
        parties.call_id,
        parties.party_id,
        row_number() over (
            partition by origins.consult_call_id order by parties.added_ts desc, parties.party_id desc
        ) as match_rank
    from consult_origins as origins
    inner join thread_parties as parties
        on
            origins.root_id = parties.root_id
            and origins.agent_id = parties.agent_id
            and parties.call_type <> 'Consult'
            and origins.consult_ts >= parties.added_ts
            and (parties.released_ts is null or origins.consult_ts <= parties.released_ts)
),

consults_started as (
    select
        call_id,
        party_id,
        count(*) as cons_init_count
    from consult_initiators
    where match_rank = 1
    group by call_id, party_id
),

{# joined on the one-column party_key (doc party_key): a join on (call_id, party_id) is
    estimated at about one row, and the planner then nests every later join #}
handling_parties as (
    select
        parties.*,
        party_outcomes.resource_role,
        party_outcomes.technical_result,
        party_outcomes.result_reason
    from party_outcomes
    inner join thread_parties as parties on party_outcomes.party_key = parties.party_key
),

measured as (
    select
        handling_parties.*,
        case
            when handling_parties.agent_id is not null then 'Agent'
            when handling_parties.dn_type = 'Queue' then 'Queue'
            else 'DN'
        end as resource_type,
        case
            when handling_parties.agent_id is not null then handling_parties.agent_id
            when handling_parties.dn_type = 'Queue' then coalesce(handling_parties.queue, handling_parties.dn)
            else handling_parties.dn
        end as resource_name,
        {{ ms_between('ringing_ts', 'coalesce(established_ts, released_ts)') }} as ring_ms,
        {{ ms_between('dialing_ts', 'coalesce(established_ts, released_ts)') }} as dial_ms,
        {{ ms_between('established_ts', 'released_ts') }} - handling_parties.hold_ms as talk_ms
    from handling_parties
),

irf as (
    select
        measured.party_key as interaction_resource_id,
        {{ infomart_key(["'Voice'", 'measured.root_id']) }} as interaction_id,
        measured.call_id as media_server_ixn_id,
        measured.root_id as media_server_root_ixn_id,
        measured.party_id,
        coalesce(
            renamed_resource.resource_key,
            case
                when measured.agent_id is not null then {{ resource_key('Agent', 'measured.agent_id') }}
                when measured.dn_type = 'Queue'
                    then {{ resource_key('Queue', 'coalesce(measured.queue, measured.dn)') }}
                else {{ resource_key('DN', 'measured.dn') }}
            end
        ) as resource_key,
        measured.agent_id,
        measured.dn,
        measured.dn_type,
        1 as media_type_key,
        measured.added_ts as start_ts,
        measured.released_ts as end_ts,
        {{ date_time_key('measured.added_ts') }} as start_date_time_key,
        {{ date_time_key('measured.released_ts') }} as end_date_time_key,
        case when measured.ringing_ts is not null then 1 else 0 end as ring_count,
        {{ ms_to_seconds('coalesce(measured.ring_ms, 0)') }} as ring_duration,
        case when measured.dialing_ts is not null then 1 else 0 end as dial_count,
        {{ ms_to_seconds('coalesce(measured.dial_ms, 0)') }} as dial_duration,
        case when measured.established_ts is not null then 1 else 0 end as talk_count,
        {{ ms_to_seconds('coalesce(measured.talk_ms, 0)') }} as talk_duration,
        measured.hold_count,
        {{ ms_to_seconds('measured.hold_ms') }} as hold_duration,
        coalesce(after_call_work.acw_count, 0) as after_call_work_count,
        {{ ms_to_seconds('coalesce(after_call_work.acw_ms, 0)') }} as after_call_work_duration,
        {{ ms_to_seconds('coalesce(mediation.queue_ms, 0)') }} as queue_duration,
        {{ ms_to_seconds('coalesce(mediation.routing_point_ms, 0)') }} as routing_point_duration,
        coalesce(consults_started.cons_init_count, 0) as cons_init_count,
        coalesce(descriptors.technical_descriptor_key, {{ unknown_key() }}) as technical_descriptor_key,
        measured.resource_role,
        measured.technical_result,
        measured.result_reason,
        case
            when mediation.last_vqueue is not null
                then coalesce(renamed_vqueue.resource_key, {{ resource_key('Queue', 'mediation.last_vqueue') }})
            else {{ unknown_key() }}
        end as last_vqueue_resource_key,
        mediation.last_vqueue as last_vqueue_name,
        measured.release_cause,
        case when measured.released_ts is null then 1 else 0 end as active_flag,
        coalesce(measured.ring_ms, 0) as ring_ms,
        coalesce(measured.dial_ms, 0) as dial_ms,
        coalesce(measured.talk_ms, 0) as talk_ms,
        measured.hold_ms,
        coalesce(after_call_work.acw_ms, 0) as after_call_work_ms,
        coalesce(mediation.queue_ms, 0) as queue_ms,
        coalesce(mediation.routing_point_ms, 0) as routing_point_ms,
        greatest(measured.last_landed_at, after_call_work.last_landed_at) as last_landed_at
    from measured
    left join mediation on measured.call_id = mediation.call_id and measured.party_id = mediation.party_id
    left join after_call_work
        on measured.call_id = after_call_work.call_id and measured.party_id = after_call_work.party_id
    left join consults_started
        on measured.call_id = consults_started.call_id and measured.party_id = consults_started.party_id
    left join descriptors
        on
            measured.resource_role = descriptors.resource_role
            and measured.technical_result = descriptors.technical_result
            and measured.result_reason = descriptors.result_reason
    left join renamed as renamed_resource
        on
            measured.resource_type = renamed_resource.resource_type
            and measured.resource_name = renamed_resource.resource_name
            and measured.added_ts >= renamed_resource.valid_from
            and (measured.added_ts < renamed_resource.valid_to or renamed_resource.valid_to is null)
    left join renamed as renamed_vqueue
        on
            renamed_vqueue.resource_type = 'Queue'
            and mediation.last_vqueue = renamed_vqueue.resource_name
            and mediation.last_vqueue_ts >= renamed_vqueue.valid_from
            and (mediation.last_vqueue_ts < renamed_vqueue.valid_to or renamed_vqueue.valid_to is null)
),

{# digital (MEASURES.md "Digital interactions"): one row per offer to an agent; the last queue is
    the one it was offered from; QUEUE_DURATION the segment that ended at its Accepted. Names are
    not resolved through renamings (like the agent-state facts: int_config__seen_resources marks
    digital uses unresolved, so resource_key(type, name) exists) #}
{%- set offer_party_id = digital_party_id('digital_measured.agent_id', 'digital_measured.offered_ts') %}

digital_measured as (
    select
        digital_offers.*,
        {{ ms_between('digital_offers.offered_ts', 'digital_offers.ring_end_ts') }} as ring_ms,
        case
            when digital_offers.accepted_ts is not null
                then coalesce({{ ms_between('digital_offers.accepted_ts', 'digital_offers.end_ts') }}, 0)
        end as talk_ms,
        {{ ms_between('digital_offers.delivering_queued_ts', 'digital_offers.accepted_ts') }} as queue_ms
    from digital_offers
),

digital_irf as (
    select
        {{ infomart_key(['digital_measured.itx_id', offer_party_id]) }} as interaction_resource_id,
        {{ infomart_key(["'Digital'", 'digital_measured.itx_id']) }} as interaction_id,
        digital_measured.itx_id as media_server_ixn_id,
        digital_measured.itx_id as media_server_root_ixn_id,
        {{ offer_party_id }} as party_id,
        {{ resource_key('Agent', 'digital_measured.agent_id') }} as resource_key,
        digital_measured.agent_id,
        cast(null as text) as dn,
        cast(null as text) as dn_type,
        cast(coalesce(media_types.media_type_key, {{ unknown_key() }}) as integer) as media_type_key,
        digital_measured.offered_ts as start_ts,
        digital_measured.end_ts,
        {{ date_time_key('digital_measured.offered_ts') }} as start_date_time_key,
        {{ date_time_key('digital_measured.end_ts') }} as end_date_time_key,
        1 as ring_count,
        {{ ms_to_seconds('coalesce(digital_measured.ring_ms, 0)') }} as ring_duration,
        0 as dial_count,
        {{ ms_to_seconds('0') }} as dial_duration,
        case when digital_measured.accepted_ts is not null then 1 else 0 end as talk_count,
        {{ ms_to_seconds('coalesce(digital_measured.talk_ms, 0)') }} as talk_duration,
        0 as hold_count,
        {{ ms_to_seconds('0') }} as hold_duration,
        0 as after_call_work_count,
        {{ ms_to_seconds('0') }} as after_call_work_duration,
        {{ ms_to_seconds('coalesce(digital_measured.queue_ms, 0)') }} as queue_duration,
        {{ ms_to_seconds('0') }} as routing_point_duration,
        0 as cons_init_count,
        coalesce(descriptors.technical_descriptor_key, {{ unknown_key() }}) as technical_descriptor_key,
        digital_measured.resource_role,
        digital_measured.technical_result,
        digital_measured.result_reason,
        case
            when digital_measured.offered_from_queue is not null
                then {{ resource_key('Queue', 'digital_measured.offered_from_queue') }}
            else {{ unknown_key() }}
        end as last_vqueue_resource_key,
        digital_measured.offered_from_queue as last_vqueue_name,
        cast(null as text) as release_cause,
        case when digital_measured.end_ts is null then 1 else 0 end as active_flag,
        coalesce(digital_measured.ring_ms, 0) as ring_ms,
        0 as dial_ms,
        coalesce(digital_measured.talk_ms, 0) as talk_ms,
        0 as hold_ms,
        0 as after_call_work_ms,
        coalesce(digital_measured.queue_ms, 0) as queue_ms,
        0 as routing_point_ms,
        digital_measured.last_landed_at
    from digital_measured
    left join media_types on digital_measured.media = media_types.media
    left join descriptors
        on
            digital_measured.resource_role = descriptors.resource_role
            and digital_measured.technical_result = descriptors.technical_result
            and digital_measured.result_reason = descriptors.result_reason
),

all_rows as (
    select * from irf
    union all
    select * from digital_irf
)

select
    all_rows.*,
    {{ audit_key_columns() }}
from all_rows
