{{ ag2_table_config('subhr', 'state', true) }}

{#- ag2_i_sess_state_grp per 15 minutes: the agent-time spans cut at the agent's group
    membership changes (RESOURCE_GROUP_FACT) as well as at interval boundaries; an agent in two
    groups counts in both. -#}

with

{{ ag2_state_pieces('state') }}

group_spans as (
    {{ ag2_group_spans('spans') }}
),

pieces as (
    {{ ag2_pieces('group_spans', ['group_key', 'media_type_key']) }}
),

summed as (
    {{ ag2_state_sums('pieces', ['group_key', 'media_type_key']) }}
)

{{ ag2_final_columns('i_sess_state_grp') }}
