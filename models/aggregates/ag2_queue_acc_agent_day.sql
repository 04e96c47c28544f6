{{ ag2_table_config('day', 'queue') }}

{#- ag2_queue_acc_agent per day of the reporting time zone: ag2_queue_acc_agent_hour rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    days only. -#}

{{ ag2_rollup('queue_acc_agent', ref('ag2_queue_acc_agent_hour'), 'day') }}
