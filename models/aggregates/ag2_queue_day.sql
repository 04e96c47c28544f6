{{ ag2_table_config('day', 'queue') }}

{#- ag2_queue per day of the reporting time zone: ag2_queue_hour rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    days only. -#}

{{ ag2_rollup('queue', ref('ag2_queue_hour'), 'day') }}
