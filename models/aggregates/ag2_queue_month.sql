{{ ag2_table_config('month', 'queue') }}

{#- ag2_queue per month of the reporting time zone: ag2_queue_day rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    months only. -#}

{{ ag2_rollup('queue', ref('ag2_queue_day'), 'month') }}
