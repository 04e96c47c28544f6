{{ config(materialized='view') }}

{#- ag2_i_state_rsn per year of the reporting time zone (a view: ag2_i_state_rsn_month rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('i_state_rsn', ref('ag2_i_state_rsn_month'), 'year', incremental=false) }}
