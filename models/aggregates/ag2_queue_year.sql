{{ config(materialized='view') }}

{#- ag2_queue per year of the reporting time zone (a view: ag2_queue_month rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('queue', ref('ag2_queue_month'), 'year', incremental=false) }}
