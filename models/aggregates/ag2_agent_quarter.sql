{{ config(materialized='view') }}

{#- ag2_agent per quarter of the reporting time zone (a view: ag2_agent_month rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('agent', ref('ag2_agent_month'), 'quarter', incremental=false) }}
