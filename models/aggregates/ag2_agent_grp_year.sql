{{ config(materialized='view') }}

{#- ag2_agent_grp per year of the reporting time zone (a view: ag2_agent_grp_month rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('agent_grp', ref('ag2_agent_grp_month'), 'year', incremental=false) }}
