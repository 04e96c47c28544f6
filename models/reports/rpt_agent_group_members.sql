{#- Agent-group membership for the agent-group filter of the per-agent reports: an agent is
    shown under a group when a RESOURCE_GROUP_FACT span of that membership overlaps the chosen
    dates (an agent in two groups shows under both). -#}

with

memberships as (
    select * from {{ ref('resource_group_fact') }}
)

select
    memberships.resource_key,
    memberships.group_key,
    memberships.group_name,
    memberships.start_ts,
    memberships.end_ts
from memberships
