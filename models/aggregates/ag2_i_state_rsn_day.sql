{{ ag2_table_config('day', 'agent_time') }}

{#- ag2_i_state_rsn per day of the reporting time zone: ag2_i_state_rsn_hour rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    days only. -#}

{{ ag2_rollup('i_state_rsn', ref('ag2_i_state_rsn_hour'), 'day') }}
