{{ ag2_table_config('hour', 'campaign') }}

{#- ag2_campaign per hour of the reporting time zone: ag2_campaign_subhr rolled up (counts and
    milliseconds summed); a cycle recomputes the touched hours only. -#}

{{ ag2_rollup('campaign', ref('ag2_campaign_subhr'), 'hour') }}
