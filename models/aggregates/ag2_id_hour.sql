{{ ag2_table_config('hour', 'interaction') }}

{#- ag2_id per hour of the reporting time zone: ag2_id_subhr rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    hours only. -#}

{{ ag2_rollup('id', ref('ag2_id_subhr'), 'hour') }}
