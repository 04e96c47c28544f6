{{ config(materialized='view') }}

{#- ag2_campaign per week of the reporting time zone (a view: ag2_campaign_day rolled up, counts and
    milliseconds summed). -#}

{{ ag2_rollup('campaign', ref('ag2_campaign_day'), 'week', incremental=false) }}
