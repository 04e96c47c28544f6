{{ ag2_table_config('month', 'agent', True) }}

{#- ag2_agent_grp per month of the reporting time zone: ag2_agent_grp_day rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    months only. -#}

{{ ag2_rollup('agent_grp', ref('ag2_agent_grp_day'), 'month') }}
