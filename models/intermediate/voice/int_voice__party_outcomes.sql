{{
    config(
        unique_key='call_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(calls_with_new_events()) }}",
        indexes=[
            {'columns': ['call_id', 'party_id'], 'unique': True},
            {'columns': ['party_key']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=["{{ analyze_if_stale() }}"],
    )
}}

{# The handling parties of a call (the grain of interaction_resource_fact: every agent party,
    every IVR party, every agent-less Extension party, and a queue party where the interaction
    ended in it) with MEASURES.md's technical descriptor: RESOURCE_ROLE from how the party
    joined, TECHNICAL_RESULT and RESULT_REASON from how it ended; where more than one row fits,
    the abandon rows win. A queue party ended in the queue when it delivered the call to no one
    (no Diverted, and no party's initiator names it) and was released. #}

with

call_parties as (
    select *
    from {{ ref('int_voice__parties') }}
    {% if is_incremental() %}
        where call_id in (select touched.call_id from {{ touched_keys() }} as touched)
    {% endif %}
),

handling_parties as (
    select
        *,
        dn_type = 'Queue'
        and queued_ts is not null
        and diverted_ts is null
        and delivered_to_party_id is null
        and released_ts is not null as ended_in_queue
    from call_parties
),

outcomes as (
    select
        call_id,
        party_id,
        party_key,
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
                ended_in_queue
                and (
                    release_cause = 'Abandoned'
                    or (customer_released_ts >= queued_ts and customer_released_ts <= released_ts)
                )
                then 'Abandoned|AbandonedWhileQueued'
            when customer_released_while_ringing then 'Abandoned|AbandonedWhileRinging'
            when customer_released_while_held then 'Abandoned|AbandonedFromHold'
            when ended_in_queue then 'Cleared|Unspecified'
            when release_cause = 'Transferred' then 'Transferred|Unspecified'
            when release_cause = 'Conferenced' then 'Conferenced|Unspecified'
            when established_ts is null and release_cause = 'NoAnswer' then 'Redirected|NoAnswer'
            when release_cause = 'Redirected' then 'Redirected|Unspecified'
            when release_cause = 'Rejected' then 'Rejected|Unspecified'
            when established_ts is not null and release_cause = 'Normal' then 'Completed|Unspecified'
            else 'Unknown|Unspecified'
        end as result_and_reason,
        last_landed_at
    from handling_parties
    where
        agent_id is not null
        or dn_type = 'IVR'
        or dn_type = 'Extension'
        or ended_in_queue
),

party_outcomes as (
    select
        call_id,
        party_id,
        party_key,
        resource_role,
        split_part(result_and_reason, '|', 1) as technical_result,
        split_part(result_and_reason, '|', 2) as result_reason,
        last_landed_at
    from outcomes
)

select * from party_outcomes
