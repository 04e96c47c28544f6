{{ ag2_table_config('month', 'agent_time') }}

{#- ag2_i_state_rsn per month of the reporting time zone: ag2_i_state_rsn_day rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    months only. -#}

{{ ag2_rollup('i_state_rsn', ref('ag2_i_state_rsn_day'), 'month') }}
