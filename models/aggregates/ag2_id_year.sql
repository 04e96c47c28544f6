{{ config(materialized='view') }}

{#- ag2_id per year of the reporting time zone (a view: ag2_id_month rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('id', ref('ag2_id_month'), 'year', incremental=false) }}
