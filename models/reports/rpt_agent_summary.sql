{#- Agent Summary report: ag2_agent (per agent) and ag2_agent_grp (per agent group) at the
    report levels, told apart by subject_kind ('agent' or 'agent_group'), with the subject's
    name. Average handle time is recomputed by the report from summed parts: handle_time_ms over
    accepted + initiated (the handled interactions whose time handle_time counts). -#}

with

subject_rows as (
    {{ report_subject_rows('agent') }}
),

subjects as (
    select * from {{ ref('rpt_report_subjects') }}
),

media_types as (
    select * from {{ ref('media_type') }}
)

select
    subject_rows.report_level,
    subject_rows.date_time_key,
    subject_rows.interval_start_ts,
    subject_rows.subject_kind,
    subject_rows.subject_key,
    coalesce(subjects.subject_name, 'unknown') as subject_name,
    subject_rows.media_type_key,
    media_types.media_name,
    subject_rows.offered,
    subject_rows.accepted,
    subject_rows.rejected,
    subject_rows.redirected,
    subject_rows.abandoned_invite,
    subject_rows.initiated,
    subject_rows.invite_time_ms,
    subject_rows.dial_time_ms,
    subject_rows.engage_time_ms,
    subject_rows.hold,
    subject_rows.hold_time_ms,
    subject_rows.wrap,
    subject_rows.wrap_time_ms,
    subject_rows.handle_time_ms,
    subject_rows.transfer_init,
    subject_rows.xfer_received_accepted,
    subject_rows.conf_received_accepted,
    subject_rows.consult_init,
    subject_rows.consult_offered,
    subject_rows.consult_accepted,
    subject_rows.consult_engage_time_ms
from subject_rows
left join subjects
    on subject_rows.subject_kind = subjects.subject_kind and subject_rows.subject_key = subjects.subject_key
left join media_types on subject_rows.media_type_key = media_types.media_type_key
