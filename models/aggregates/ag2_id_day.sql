{{ ag2_table_config('day', 'interaction') }}

{#- ag2_id per day of the reporting time zone: ag2_id_hour rolled up (milliseconds
    summed, counts summed, ratios recomputed from the sums); a cycle recomputes the touched
    days only. -#}

{{ ag2_rollup('id', ref('ag2_id_hour'), 'day') }}
