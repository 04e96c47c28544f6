{#- What the report filters offer: every queue, agent and agent group (subject_kind 'queue',
    'agent', 'agent_group') with its key and current name; the agent reports label their rows
    with it. -#}

with

resources as (
    select * from {{ ref('resource_') }}
),

agent_groups as (
    select * from {{ ref('group_') }}
)

select
    case resources.resource_type when 'Queue' then 'queue' else 'agent' end as subject_kind,
    resources.resource_key as subject_key,
    resources.resource_name as subject_name
from resources
where resources.resource_type in ('Queue', 'Agent')
union all
select
    'agent_group' as subject_kind,
    agent_groups.group_key as subject_key,
    agent_groups.group_name as subject_name
from agent_groups
where agent_groups.group_key <> -1
