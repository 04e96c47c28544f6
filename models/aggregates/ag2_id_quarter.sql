{{ config(materialized='view') }}

{#- ag2_id per quarter of the reporting time zone (a view: ag2_id_month rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('id', ref('ag2_id_month'), 'quarter', incremental=false) }}
