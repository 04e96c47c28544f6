{{ config(materialized='view') }}

{#- ag2_queue_acc_agent per quarter of the reporting time zone (a view: ag2_queue_acc_agent_month rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('queue_acc_agent', ref('ag2_queue_acc_agent_month'), 'quarter', incremental=false) }}
