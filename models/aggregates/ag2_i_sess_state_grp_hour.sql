{{ ag2_table_config('hour', 'agent_time', True) }}

{#- ag2_i_sess_state_grp per hour of the reporting time zone: ag2_i_sess_state_grp_subhr rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    hours only. -#}

{{ ag2_rollup('i_sess_state_grp', ref('ag2_i_sess_state_grp_subhr'), 'hour') }}
