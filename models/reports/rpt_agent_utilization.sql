{#- Agent Utilization report: ag2_i_sess_state (per agent) and ag2_i_sess_state_grp (per agent
    group) at the report levels: logged-in (active), ready, not-ready, busy and wrap time in exact
    milliseconds. Occupancy is recomputed by the report from summed parts:
    (busy + wrap) / (busy + wrap + ready). -#}

with

subject_rows as (
    {{ report_subject_rows('i_sess_state') }}
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
    subject_rows.active_time_ms,
    subject_rows.ready_time_ms,
    subject_rows.not_ready_time_ms,
    subject_rows.busy_time_ms,
    subject_rows.wrap_time_ms,
    subject_rows.occupancy
from subject_rows
left join subjects
    on subject_rows.subject_kind = subjects.subject_kind and subject_rows.subject_key = subjects.subject_key
left join media_types on subject_rows.media_type_key = media_types.media_type_key
