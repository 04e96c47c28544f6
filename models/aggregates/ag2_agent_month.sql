{{ ag2_table_config('month', 'agent') }}

{#- ag2_agent per month of the reporting time zone: ag2_agent_day rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    months only. -#}

{{ ag2_rollup('agent', ref('ag2_agent_day'), 'month') }}
