{{ config(materialized='view') }}

{#- ag2_i_sess_state per year of the reporting time zone (a view: ag2_i_sess_state_month rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('i_sess_state', ref('ag2_i_sess_state_month'), 'year', incremental=false) }}
