{{ config(materialized='view') }}

{#- ag2_i_sess_state_grp per week of the reporting time zone (a view: ag2_i_sess_state_grp_day rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('i_sess_state_grp', ref('ag2_i_sess_state_grp_day'), 'week', incremental=false) }}
