{{ config(materialized='view') }}

{#- ag2_agent per week of the reporting time zone (a view: ag2_agent_day rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('agent', ref('ag2_agent_day'), 'week', incremental=false) }}
