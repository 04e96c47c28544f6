{{ ag2_table_config('month', 'campaign') }}

{#- ag2_campaign per month of the reporting time zone: ag2_campaign_day rolled up (counts and
    milliseconds summed); a cycle recomputes the touched months only. -#}

{{ ag2_rollup('campaign', ref('ag2_campaign_day'), 'month') }}
