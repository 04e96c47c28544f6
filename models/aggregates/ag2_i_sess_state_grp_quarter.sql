{{ config(materialized='view') }}

{#- ag2_i_sess_state_grp per quarter of the reporting time zone (a view: ag2_i_sess_state_grp_month rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('i_sess_state_grp', ref('ag2_i_sess_state_grp_month'), 'quarter', incremental=false) }}
