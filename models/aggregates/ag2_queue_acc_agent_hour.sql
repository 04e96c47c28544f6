{{ ag2_table_config('hour', 'queue') }}

{#- ag2_queue_acc_agent per hour of the reporting time zone: ag2_queue_acc_agent_subhr rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    hours only. -#}

{{ ag2_rollup('queue_acc_agent', ref('ag2_queue_acc_agent_subhr'), 'hour') }}
