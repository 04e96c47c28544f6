{{
    config(
        unique_key=['resource_type', 'resource_name'],
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(resource_names_used_since_watermark()) }}",
        indexes=[
            {'columns': ['resource_type', 'resource_name'], 'unique': true},
            {'columns': ['last_landed_at']},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- Every agent, DN and queue name seen in events, for RESOURCE_: when it was first and last
    used by a voice party (the facts resolve those uses through resource_name_history at the
    party's added_ts), and whether a fact that does not resolve names (agent-state facts,
    digital) used it, so that resource_key(type, name) must exist whatever the configuration
    says. Incremental: the touched keys are the names used in newly landed rows (macro
    resource_names_used_since_watermark); their new uses are merged (min / max / or) with
    their old row, which gives the rows of a full rebuild. -#}

with

uses as (
    {{ resource_uses_since_watermark() }}
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
        where (seen.resource_type, seen.resource_name) in (
            select
                touched.resource_type,
                touched.resource_name
            from {{ touched_keys() }} as touched
        )
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
