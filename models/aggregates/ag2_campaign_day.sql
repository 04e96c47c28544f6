{{ ag2_table_config('day', 'campaign') }}

{#- ag2_campaign per day of the reporting time zone: ag2_campaign_hour rolled up (counts and
    milliseconds summed); a cycle recomputes the touched days only. -#}

{{ ag2_rollup('campaign', ref('ag2_campaign_hour'), 'day') }}
