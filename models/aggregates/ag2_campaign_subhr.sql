{{ ag2_table_config('subhr', 'campaign') }}

{#- ag2_campaign per 15 minutes (issue 14; documented in the model YAML like AGGREGATES.md): per
    campaign, the dial attempts anchored at their START_TS (the RecordDialed): attempts, each dial
    result, connected (an agent party took the call), records completed (the record's last attempt
    once its RecordCompleted came), and attempt_time (RecordDialed -> DialResult). -#}

with

attempts as (
    select attempts.*
    from {{ ref('contact_attempt_fact') }} as attempts
    {{ ag2_join_touched_intervals('attempts.start_ts') }}
),

summed as (
    select
        {{ ag2_slot('start_ts') }} as interval_start_ts,
        campaign_key,
        count(*) as attempts,
        count(*) filter (where call_result = 'Answered') as answered,
        count(*) filter (where call_result = 'Busy') as busy,
        count(*) filter (where call_result = 'NoAnswer') as no_answer,
        count(*) filter (where call_result = 'AnsweringMachine') as answering_machine,
        count(*) filter (where call_result = 'Fax') as fax,
        count(*) filter (where call_result = 'SIT') as sit,
        count(*) filter (where call_result = 'Dropped') as dropped,
        count(*) filter (where call_result = 'Abandoned') as abandoned,
        count(*) filter (where interaction_resource_id is not null) as connected,
        count(*) filter (where record_disposition is not null) as records_completed,
        coalesce(sum(attempt_duration_ms), 0) as attempt_time_ms,
        max(last_landed_at) as last_landed_at
    from attempts
    group by {{ ag2_slot('start_ts') }}, campaign_key
)

{{ ag2_final_columns('campaign') }}
