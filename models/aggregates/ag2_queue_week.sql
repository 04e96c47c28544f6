{{ config(materialized='view') }}

{#- ag2_queue per week of the reporting time zone (a view: ag2_queue_day rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('queue', ref('ag2_queue_day'), 'week', incremental=false) }}
