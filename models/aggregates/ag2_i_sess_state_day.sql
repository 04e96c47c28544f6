{{ ag2_table_config(
    'day', 'agent_time', extra_indexes=[{'columns': ['resource_key', 'media_type_key', 'interval_start_ts']}]
) }}

{#- ag2_i_sess_state per day of the reporting time zone: ag2_i_sess_state_hour rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    days only. -#}

{{ ag2_rollup('i_sess_state', ref('ag2_i_sess_state_hour'), 'day') }}
