{{
    config(
        unique_key='media_server_ixn_id',
        incremental_strategy='delete+insert',
        post_hook=[
            "create unique index if not exists {{ this.identifier }}__id on {{ this }} (interaction_resource_id)",
            "create index if not exists {{ this.identifier }}__thread on {{ this }} (media_server_root_ixn_id)",
            "create index if not exists {{ this.identifier }}__start_ts on {{ this }} (start_ts)",
            "create index if not exists {{ this.identifier }}__resource on {{ this }} (resource_key, start_ts)",
            "create index if not exists {{ this.identifier }}__last_landed_at on {{ this }} (last_landed_at)",
            "{{ analyze_if_stale() }}",
        ]
    )
}}

{# INTERACTION_RESOURCE_FACT (MEASURES.md): one row per handling party of a voice call (every
    agent party, every IVR party, every agent-less Extension party) plus one row for a queue
    party where the interaction ended in it (abandoned or cleared in queue). Recomputed per
    call thread: a thread is touched when any of its calls' events, or the after-call work of
    one of its agents, landed since the last run. Rows are replaced per call (every row belongs
    to one call), so a call first seen without its CallCreated, and so without its thread, has
    its provisional rows replaced when the thread becomes known. RESOURCE_KEY (and
    LAST_VQUEUE_RESOURCE_KEY) resolve the agent_id / queue / DN name through the renamed names
    of resource_name_history at the party's added_ts, else resource_key(type, name) (macro
    renamed_resources); the threads using a name whose renaming landed since the last run are
    recomputed too. #}

with recursive

touched_threads as (
    select distinct coalesce(thread_id, call_id) as root_id
    from {{ ref('int_voice__parties') }}
    where {{ since_watermark('last_landed_at') }}
    union
    select distinct coalesce(parties.thread_id, parties.call_id) as root_id
    from {{ ref('int_voice__after_call_work') }} as acw
    inner join {{ ref('int_voice__parties') }} as parties
        on acw.call_id = parties.call_id and acw.party_id = parties.party_id
    where {{ since_watermark('acw.last_landed_at') }}
    union
    select renamed_calls.root_id
    from ({{ calls_with_renamed_names_since_watermark() }}) as renamed_calls
),

thread_parties as (
    select parties.*
    from {{ ref('int_voice__parties') }} as parties
    inner join touched_threads on coalesce(parties.thread_id, parties.call_id) = touched_threads.root_id
),


{# the mediation path that delivered the call to a party: walk back through
    initiator_party_id while the initiator is a Queue or RoutingPoint party #}
mediation_path (
    call_id, party_id, step_party_id, walk_depth, queue_ms, routing_point_ms, last_vqueue, last_vqueue_ts
) as (
    select
        handled.call_id,
        handled.party_id,
        mediator.party_id as step_party_id,
        1 as walk_depth,
        case
            when mediator.dn_type = 'Queue'
                then
                    coalesce(
                        {{ ms_between('mediator.queued_ts', 'coalesce(mediator.diverted_ts, mediator.released_ts)') }},
                        0
                    )
            else 0
        end as queue_ms,
        case
            when mediator.dn_type = 'RoutingPoint'
                then coalesce({{ ms_between('mediator.added_ts', 'mediator.released_ts') }}, 0)
            else 0
        end as routing_point_ms,
        case when mediator.dn_type = 'Queue' then coalesce(mediator.queue, mediator.dn) end as last_vqueue,
        case when mediator.dn_type = 'Queue' then mediator.added_ts end as last_vqueue_ts
    from thread_parties as handled
    inner join thread_parties as mediator
        on handled.call_id = mediator.call_id and handled.initiator_party_id = mediator.party_id
    where mediator.dn_type in ('Queue', 'RoutingPoint')
    union all
    select
        walked.call_id,
        walked.party_id,
        mediator.party_id as step_party_id,
        walked.walk_depth + 1 as walk_depth,
        walked.queue_ms + case
            when mediator.dn_type = 'Queue'
                then
                    coalesce(
                        {{ ms_between('mediator.queued_ts', 'coalesce(mediator.diverted_ts, mediator.released_ts)') }},
                        0
                    )
            else 0
        end as queue_ms,
        walked.routing_point_ms + case
            when mediator.dn_type = 'RoutingPoint'
                then coalesce({{ ms_between('mediator.added_ts', 'mediator.released_ts') }}, 0)
            else 0
        end as routing_point_ms,
        coalesce(
            walked.last_vqueue, case when mediator.dn_type = 'Queue' then coalesce(mediator.queue, mediator.dn) end
        )
            as last_vqueue,
        case
            when walked.last_vqueue is not null then walked.last_vqueue_ts
            when mediator.dn_type = 'Queue' then mediator.added_ts
        end as last_vqueue_ts
    from mediation_path as walked
    inner join thread_parties as step
        on walked.call_id = step.call_id and walked.step_party_id = step.party_id
    inner join thread_parties as mediator
        on step.call_id = mediator.call_id and step.initiator_party_id = mediator.party_id
    where mediator.dn_type in ('Queue', 'RoutingPoint') and walked.walk_depth < 20
),

mediation as (
    select
        call_id,
        party_id,
        max(queue_ms) as queue_ms,
        max(routing_point_ms) as routing_point_ms,
        (array_agg(last_vqueue order by walk_depth desc))[1] as last_vqueue,
        (array_agg(last_vqueue_ts order by walk_depth desc))[1] as last_vqueue_ts
    from mediation_path
    group by call_id, party_id
),

{# one row per released agent party (int_voice__after_call_work's grain) #}
after_call_work as (
    select
        acw.call_id,
        acw.party_id,
        acw.acw_count,
        acw.acw_ms,
        acw.last_landed_at
    from {{ ref('int_voice__after_call_work') }} as acw
    inner join thread_parties on acw.call_id = thread_parties.call_id and acw.party_id = thread_parties.party_id
),


{# a consultation call is counted on the party its originator held in the same thread while
    it was started (the originator's party with Dialing on the Consult call) #}
consult_origins as (
    select
        call_id as consult_call_id,
        coalesce(thread_id, call_id) as root_id,
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
            origins.root_id = coalesce(parties.thread_id, parties.call_id)
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

handling_parties as (
    select
        *,
        case
            when call_type = 'Consult' and dialing_ts is not null then 'InitiatedConsult'
            when call_type = 'Consult' then 'ReceivedConsult'
            when added_reason = 'Transfer' then 'ReceivedTransfer'
            when added_reason = 'Conference' then 'ReceivedConference'
            when dialing_ts is not null then 'Initiated'
            else 'Received'
        end as resource_role,
        case
            when
                dn_type = 'Queue' and diverted_ts is null and released_ts is not null
                and (
                    release_cause = 'Abandoned'
                    or (customer_released_ts >= queued_ts and customer_released_ts <= released_ts)
                )
                then 'Abandoned|AbandonedWhileQueued'
            when customer_released_while_ringing then 'Abandoned|AbandonedWhileRinging'
            when customer_released_while_held then 'Abandoned|AbandonedFromHold'
            when dn_type = 'Queue' and diverted_ts is null and released_ts is not null then 'Cleared|Unspecified'
            when release_cause = 'Transferred' then 'Transferred|Unspecified'
            when release_cause = 'Conferenced' then 'Conferenced|Unspecified'
            when established_ts is null and release_cause = 'NoAnswer' then 'Redirected|NoAnswer'
            when release_cause = 'Redirected' then 'Redirected|Unspecified'
            when release_cause = 'Rejected' then 'Rejected|Unspecified'
            when established_ts is not null and release_cause = 'Normal' then 'Completed|Unspecified'
            else 'Unknown|Unspecified'
        end as result_and_reason
    from thread_parties
    where
        agent_id is not null
        or dn_type = 'IVR'
        or dn_type = 'Extension'
        or (dn_type = 'Queue' and queued_ts is not null and diverted_ts is null and released_ts is not null)
),

renamed as (
    {{ renamed_resources() }}
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

descriptors as (
    select
        technical_descriptor_key,
        resource_role,
        technical_result || '|' || result_reason as result_and_reason
    from {{ ref('technical_descriptor') }}
),

irf as (
    select
        {{ infomart_key(['measured.call_id', 'measured.party_id']) }} as interaction_resource_id,
        {{ infomart_key(["'Voice'", 'coalesce(measured.thread_id, measured.call_id)']) }} as interaction_id,
        measured.call_id as media_server_ixn_id,
        coalesce(measured.thread_id, measured.call_id) as media_server_root_ixn_id,
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
        split_part(measured.result_and_reason, '|', 1) as technical_result,
        split_part(measured.result_and_reason, '|', 2) as result_reason,
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
            and measured.result_and_reason = descriptors.result_and_reason
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
)

select * from irf
