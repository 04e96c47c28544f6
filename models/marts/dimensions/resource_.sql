{{
    config(
        unique_key='resource_key',
        incremental_strategy='delete+insert',
        post_hook=[
            "create unique index if not exists {{ this.identifier }}__key on {{ this }} (resource_key)",
            "create index if not exists {{ this.identifier }}__name on {{ this }} (resource_type, resource_name)",
            "analyze {{ this }}",
        ]
    )
}}

{# RESOURCE_ (GIM): every agent, DN and queue seen in events, with a deterministic key
    (macro resource_key) so facts can compute it without a lookup, plus the unknown member
    (key -1) for references that resolve to nothing. RESOURCE_NAME is the agent_id, the DN
    number, or the queue name. Names and attributes from configuration come with issue #4. #}

with

voice_parties as (
    select
        agent_id,
        dn,
        dn_type,
        queue
    from {{ ref('int_voice__parties') }}
    where {{ since_watermark('last_landed_at', 'seen_landed_at') }}
),

agent_states as (
    select agent_id
    from {{ ref('stg_events__voice_agentstate') }}
    where {{ since_watermark('landed_at', 'seen_landed_at') }}
    union
    select agent_id
    from {{ ref('stg_events__digital_agentstate') }}
    where {{ since_watermark('landed_at', 'seen_landed_at') }}
),

digital as (
    select
        agent_id,
        to_agent_id,
        queue,
        to_queue
    from {{ ref('stg_events__digital_itx') }}
    where {{ since_watermark('landed_at', 'seen_landed_at') }}
),

seen as (
    select
        'Agent' as resource_type,
        'Agent' as resource_subtype,
        agent_id as resource_name
    from voice_parties
    where agent_id is not null
    union
    select
        'Agent' as resource_type,
        'Agent' as resource_subtype,
        agent_id as resource_name
    from agent_states
    union
    select
        'Agent' as resource_type,
        'Agent' as resource_subtype,
        agent_id as resource_name
    from digital
    where agent_id is not null
    union
    select
        'Agent' as resource_type,
        'Agent' as resource_subtype,
        to_agent_id as resource_name
    from digital
    where to_agent_id is not null
    union
    select
        'Queue' as resource_type,
        'VirtualQueue' as resource_subtype,
        coalesce(queue, dn) as resource_name
    from voice_parties
    where dn_type = 'Queue'
    union
    select
        'Queue' as resource_type,
        'VirtualQueue' as resource_subtype,
        queue as resource_name
    from digital
    where queue is not null
    union
    select
        'Queue' as resource_type,
        'VirtualQueue' as resource_subtype,
        to_queue as resource_name
    from digital
    where to_queue is not null
    union
    select
        'DN' as resource_type,
        dn_type as resource_subtype,
        dn as resource_name
    from voice_parties
    where dn_type in ('RoutingPoint', 'IVR', 'Extension') and dn is not null
),

landing as (
    select max(landed_at) as seen_landed_at
    from {{ ref('stg_events__voice_callthread') }}
),

resources as (
    select
        case
            when seen.resource_type = 'Agent' then {{ resource_key('Agent', 'seen.resource_name') }}
            when seen.resource_type = 'Queue' then {{ resource_key('Queue', 'seen.resource_name') }}
            else {{ resource_key('DN', 'seen.resource_name') }}
        end as resource_key,
        seen.resource_type,
        min(seen.resource_subtype) as resource_subtype,
        seen.resource_name,
        max(landing.seen_landed_at) as seen_landed_at
    from seen
    cross join landing
    group by seen.resource_type, seen.resource_name
    union all
    select
        {{ unknown_key() }} as resource_key,
        'Unknown' as resource_type,
        'Unknown' as resource_subtype,
        'Unknown' as resource_name,
        null as seen_landed_at
)

select * from resources
