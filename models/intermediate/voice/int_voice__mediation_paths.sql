{{
    config(
        unique_key='call_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(calls_with_new_events()) }}",
        indexes=[
            {'columns': ['call_id', 'party_id'], 'unique': True},
            {'columns': ['last_landed_at']},
        ],
        post_hook=["{{ analyze_if_stale() }}"],
    )
}}

{# The mediation path that delivered the call to a party (MEASURES.md, "Delivered to"): walk
    back from the party through delivered_by_party_id (int_voice__parties: the mediation party
    whose Diverted names it, else its initiator when that is a mediation party without a
    Diverted target) while the step is a Queue or RoutingPoint party. Each Queue adds its stay
    (Queued -> Diverted, or -> Released), each RoutingPoint its PartyAdded -> Released; the
    first queue met walking back is the last virtual queue. One row per party with at least one
    mediation step. Recomputed per call (every link is inside one call). #}

with recursive

call_parties as (
    select
        call_id,
        party_id,
        dn,
        dn_type,
        queue,
        added_ts,
        queued_ts,
        diverted_ts,
        released_ts,
        delivered_by_party_id,
        last_landed_at
    from {{ ref('int_voice__parties') }}
    {% if is_incremental() %}
        where call_id in (select touched.call_id from {{ touched_keys() }} as touched)
    {% endif %}
),

mediation_steps as (
    select
        call_id,
        party_id,
        delivered_by_party_id,
        case
            when dn_type = 'Queue'
                then coalesce({{ ms_between('queued_ts', 'coalesce(diverted_ts, released_ts)') }}, 0)
            else 0
        end as queue_ms,
        case
            when dn_type = 'RoutingPoint' then coalesce({{ ms_between('added_ts', 'released_ts') }}, 0)
            else 0
        end as routing_point_ms,
        case when dn_type = 'Queue' then coalesce(queue, dn) end as vqueue,
        case when dn_type = 'Queue' then added_ts end as vqueue_added_ts
    from call_parties
    where dn_type in ('Queue', 'RoutingPoint')
),

walk (
    call_id, party_id, step_party_id, walk_depth, queue_ms, routing_point_ms, last_vqueue, last_vqueue_ts
) as (
    select
        delivered.call_id,
        delivered.party_id,
        step.party_id as step_party_id,
        1 as walk_depth,
        step.queue_ms,
        step.routing_point_ms,
        step.vqueue as last_vqueue,
        step.vqueue_added_ts as last_vqueue_ts
    from call_parties as delivered
    inner join mediation_steps as step
        on delivered.call_id = step.call_id and delivered.delivered_by_party_id = step.party_id
    union all
    select
        walked.call_id,
        walked.party_id,
        step.party_id as step_party_id,
        walked.walk_depth + 1 as walk_depth,
        walked.queue_ms + step.queue_ms as queue_ms,
        walked.routing_point_ms + step.routing_point_ms as routing_point_ms,
        coalesce(walked.last_vqueue, step.vqueue) as last_vqueue,
        case when walked.last_vqueue is not null then walked.last_vqueue_ts else step.vqueue_added_ts end
            as last_vqueue_ts
    from walk as walked
    inner join mediation_steps as previous
        on walked.call_id = previous.call_id and walked.step_party_id = previous.party_id
    inner join mediation_steps as step
        on previous.call_id = step.call_id and previous.delivered_by_party_id = step.party_id
    where walked.walk_depth < 20
),

{# the whole path is the deepest walk row of each party #}
ranked_walks as (
    select
        *,
        row_number() over (partition by call_id, party_id order by walk_depth desc) as depth_rank
    from walk
),

mediation_paths as (
    select
        ranked_walks.call_id,
        ranked_walks.party_id,
        ranked_walks.walk_depth as mediation_steps,
        ranked_walks.queue_ms,
        ranked_walks.routing_point_ms,
        ranked_walks.last_vqueue,
        ranked_walks.last_vqueue_ts,
        call_parties.last_landed_at
    from ranked_walks
    inner join call_parties
        on ranked_walks.call_id = call_parties.call_id and ranked_walks.party_id = call_parties.party_id
    where ranked_walks.depth_rank = 1
)

select * from mediation_paths
