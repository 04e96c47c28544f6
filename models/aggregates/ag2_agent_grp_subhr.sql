{{ ag2_table_config('subhr', 'agent', true) }}

{#- ag2_agent_grp per 15 minutes: ag2_agent by agent group, through the RESOURCE_GROUP_FACT
    membership in force at the IRF row's START_TS (THE attribution rule: start_ts >= the
    membership's start and before its end). An agent in two groups counts in both. -#}

with

handlings as (
    select handled.*
    from {{ ref('int_aggregates__agent_handlings') }} as handled
    {{ ag2_join_touched_intervals('handled.start_ts') }}
),

memberships as (
    select
        resource_key,
        group_key,
        start_ts,
        end_ts
    from {{ ref('resource_group_fact') }}
),

grouped_handlings as (
    select
        handlings.*,
        memberships.group_key
    from handlings
    inner join memberships
        on
            handlings.resource_key = memberships.resource_key
            and handlings.start_ts >= memberships.start_ts
            and (handlings.start_ts < memberships.end_ts or memberships.end_ts is null)
),

summed as (
    {{ ag2_agent_sums(['group_key', 'media_type_key', 'interaction_type_key'], 'grouped_handlings') }}
)

{{ ag2_final_columns('agent_grp') }}
