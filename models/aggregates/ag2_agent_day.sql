{{ ag2_table_config('day', 'agent') }}

{#- ag2_agent per day of the reporting time zone: ag2_agent_hour rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    days only. -#}

{{ ag2_rollup('agent', ref('ag2_agent_hour'), 'day') }}
