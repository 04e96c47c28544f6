{{ ag2_table_config(
    'hour', 'agent_time', extra_indexes=[{'columns': ['resource_key', 'media_type_key', 'interval_start_ts']}]
) }}

{#- ag2_i_sess_state per hour of the reporting time zone: ag2_i_sess_state_subhr rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    hours only. -#}

{{ ag2_rollup('i_sess_state', ref('ag2_i_sess_state_subhr'), 'hour') }}
