{{ ag2_table_config('hour', 'agent', True) }}

{#- ag2_agent_grp per hour of the reporting time zone: ag2_agent_grp_subhr rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    hours only. -#}

{{ ag2_rollup('agent_grp', ref('ag2_agent_grp_subhr'), 'hour') }}
