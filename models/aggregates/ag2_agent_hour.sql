{{ ag2_table_config('hour', 'agent') }}

{#- ag2_agent per hour of the reporting time zone: ag2_agent_subhr rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    hours only. -#}

{{ ag2_rollup('agent', ref('ag2_agent_subhr'), 'hour') }}
