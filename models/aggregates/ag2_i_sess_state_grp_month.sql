{{ ag2_table_config('month', 'agent_time', True) }}

{#- ag2_i_sess_state_grp per month of the reporting time zone: ag2_i_sess_state_grp_day rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    months only. -#}

{{ ag2_rollup('i_sess_state_grp', ref('ag2_i_sess_state_grp_day'), 'month') }}
