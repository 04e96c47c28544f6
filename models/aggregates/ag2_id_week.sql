{{ config(materialized='view') }}

{#- ag2_id per week of the reporting time zone (a view: ag2_id_day rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('id', ref('ag2_id_day'), 'week', incremental=false) }}
