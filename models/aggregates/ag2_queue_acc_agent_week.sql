{{ config(materialized='view') }}

{#- ag2_queue_acc_agent per week of the reporting time zone (a view: ag2_queue_acc_agent_day rolled up,
    milliseconds summed, ratios recomputed from the sums). -#}

{{ ag2_rollup('queue_acc_agent', ref('ag2_queue_acc_agent_day'), 'week', incremental=false) }}
