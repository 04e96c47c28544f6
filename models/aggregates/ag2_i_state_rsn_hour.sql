{{ ag2_table_config('hour', 'agent_time') }}

{#- ag2_i_state_rsn per hour of the reporting time zone: ag2_i_state_rsn_subhr rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    hours only. -#}

{{ ag2_rollup('i_state_rsn', ref('ag2_i_state_rsn_subhr'), 'hour') }}
