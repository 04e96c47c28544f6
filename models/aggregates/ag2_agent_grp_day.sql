{{ ag2_table_config('day', 'agent', True) }}

{#- ag2_agent_grp per day of the reporting time zone: ag2_agent_grp_hour rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    days only. -#}

{{ ag2_rollup('agent_grp', ref('ag2_agent_grp_hour'), 'day') }}
