{{ config(materialized='view') }}

{#- ag2_campaign per year of the reporting time zone (a view: ag2_campaign_month rolled up, counts and
    milliseconds summed). -#}

{{ ag2_rollup('campaign', ref('ag2_campaign_month'), 'year', incremental=false) }}
