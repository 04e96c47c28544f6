{{ ag2_table_config('month', 'queue') }}

{#- ag2_queue_abn per month of the reporting time zone: ag2_queue_abn_day rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    months only. -#}

{{ ag2_rollup('queue_abn', ref('ag2_queue_abn_day'), 'month') }}
