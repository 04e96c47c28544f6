{{ ag2_table_config('month', 'interaction') }}

{#- ag2_id per month of the reporting time zone: ag2_id_day rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    months only. -#}

{{ ag2_rollup('id', ref('ag2_id_day'), 'month') }}
