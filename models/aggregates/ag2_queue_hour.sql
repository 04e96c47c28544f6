{{ ag2_table_config('hour', 'queue') }}

{#- ag2_queue per hour of the reporting time zone: ag2_queue_subhr rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    hours only. -#}

{{ ag2_rollup('queue', ref('ag2_queue_subhr'), 'hour') }}
