{{ config(materialized='view') }}

{#- ag2_queue_abn per week of the reporting time zone (a view: ag2_queue_abn_day rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('queue_abn', ref('ag2_queue_abn_day'), 'week', incremental=false) }}
