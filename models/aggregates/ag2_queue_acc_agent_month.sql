{{ ag2_table_config('month', 'queue') }}

{#- ag2_queue_acc_agent per month of the reporting time zone: ag2_queue_acc_agent_day rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    months only. -#}

{{ ag2_rollup('queue_acc_agent', ref('ag2_queue_acc_agent_day'), 'month') }}
