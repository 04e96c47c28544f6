{{ ag2_table_config('day', 'agent_time', True) }}

{#- ag2_i_sess_state_grp per day of the reporting time zone: ag2_i_sess_state_grp_hour rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    days only. -#}

{{ ag2_rollup('i_sess_state_grp', ref('ag2_i_sess_state_grp_hour'), 'day') }}
