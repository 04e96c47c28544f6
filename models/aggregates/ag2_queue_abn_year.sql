{{ config(materialized='view') }}

{#- ag2_queue_abn per year of the reporting time zone (a view: ag2_queue_abn_month rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('queue_abn', ref('ag2_queue_abn_month'), 'year', incremental=false) }}
