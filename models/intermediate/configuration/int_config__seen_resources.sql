{{
    config(
        unique_key=['resource_type', 'resource_name'],
        incremental_strategy='delete+insert',
        post_hook=[
            "create unique index if not exists {{ this.identifier }}__name on {{ this }} (resource_type, resource_name)",
            "create index if not exists {{ this.identifier }}__last_landed_at on {{ this }} (last_landed_at)",
            "{{ analyze_if_stale() }}",
        ]
    )
}}

{#- Every agent, DN and queue name seen in events, for RESOURCE_: when it was first and last
    used by a voice party (the facts resolve those uses through resource_name_history at the
    party's added_ts), and whether a fact that does not resolve names (agent-state facts,
    digital) used it, so that resource_key(type, name) must exist whatever the configuration
    says. Incremental: the names in newly landed events are merged (min / max / or) with their
    row, which gives the rows of a full rebuild. -#}

with

parties as (
    select
        agent_id,
        dn,
        dn_type,
        queue,
        added_ts,
        last_landed_at
    from {{ ref('int_voice__parties') }}
    where {{ since_watermark('last_landed_at') }}
),

uses as (
    select
        'Agent' as resource_type,
        'Agent' as resource_subtype,
        agent_id as resource_name,
        added_ts as used_ts,
        false as unresolved_use,
        last_landed_at as landed_at
    from parties
    where agent_id is not null
    union all
    select
        'Queue' as resource_type,
        'VirtualQueue' as resource_subtype,
        coalesce(queue, dn) as resource_name,
        added_ts as used_ts,
        false as unresolved_use,
        last_landed_at as landed_at
    from parties
    where dn_type = 'Queue' and coalesce(queue, dn) is not null
    union all
    select
        'DN' as resource_type,
        dn_type as resource_subtype,
        dn as resource_name,
        added_ts as used_ts,
        false as unresolved_use,
        last_landed_at as landed_at
    from parties
    where dn_type in ('RoutingPoint', 'IVR', 'Extension') and dn is not null
    union all
    select
        'Agent' as resource_type,
        'Agent' as resource_subtype,
        agent_id as resource_name,
        cast(null as timestamptz) as used_ts,
        true as unresolved_use,
        landed_at
    from {{ ref('stg_events__voice_agentstate') }}
    where agent_id is not null and {{ since_watermark('landed_at') }}
    union all
    select
        'Agent' as resource_type,
        'Agent' as resource_subtype,
        agent_id as resource_name,
        cast(null as timestamptz) as used_ts,
        true as unresolved_use,
        landed_at
    from {{ ref('stg_events__digital_agentstate') }}
    where agent_id is not null and {{ since_watermark('landed_at') }}
    union all
    select
        digital.resource_type,
        digital.resource_subtype,
        digital.resource_name,
        cast(null as timestamptz) as used_ts,
        true as unresolved_use,
        digital.landed_at
    from (
        select
            'Agent' as resource_type,
            'Agent' as resource_subtype,
            agent_id as resource_name,
            landed_at
        from {{ ref('stg_events__digital_itx') }}
        where {{ since_watermark('landed_at') }}
        union all
        select
            'Agent' as resource_type,
            'Agent' as resource_subtype,
            to_agent_id as resource_name,
            landed_at
        from {{ ref('stg_events__digital_itx') }}
        where {{ since_watermark('landed_at') }}
        union all
        select
            'Queue' as resource_type,
            'VirtualQueue' as resource_subtype,
            queue as resource_name,
            landed_at
        from {{ ref('stg_events__digital_itx') }}
        where {{ since_watermark('landed_at') }}
        union all
        select
            'Queue' as resource_type,
            'VirtualQueue' as resource_subtype,
            to_queue as resource_name,
            landed_at
        from {{ ref('stg_events__digital_itx') }}
        where {{ since_watermark('landed_at') }}
    ) as digital
    where digital.resource_name is not null
),

merged as (
    select
        resource_type,
        resource_subtype,
        resource_name,
        used_ts as first_used_ts,
        used_ts as last_used_ts,
        unresolved_use,
        landed_at
    from uses
    {% if is_incremental() %}
        union all
        select
                seen.resource_type,
                seen.resource_subtype,
                seen.resource_name,
                seen.first_used_ts,
                seen.last_used_ts,
                seen.unresolved_use,
                seen.last_landed_at as landed_at
        from {{ this }} as seen
        inner join (select distinct
            resource_type,
            resource_name
        from uses) as touched
            on seen.resource_type = touched.resource_type and seen.resource_name = touched.resource_name
    {% endif %}
),

final as (
    select
        resource_type,
        min(resource_subtype) as resource_subtype,
        resource_name,
        min(first_used_ts) as first_used_ts,
        max(last_used_ts) as last_used_ts,
        bool_or(unresolved_use) as unresolved_use,
        max(landed_at) as last_landed_at
    from merged
    group by resource_type, resource_name
)

select * from final
