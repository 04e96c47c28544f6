-- The Info Mart's control tables (GIM's CTL_*) and their ADMIN_* views, in schema ctl.
-- Written by the jobs (pipeline/control.py), never by dbt; read by operators and the export job.

-- not `create schema if not exists`: that needs CREATE on the database even when the schema exists,
-- which the transform role (`infomart roles init` makes ctl its own) does not have
do $ctl$ begin
    if to_regnamespace('ctl') is null then
        create schema ctl;
    end if;
end $ctl$;

-- one row per transform (a dbt build) or export run: its audit key is stamped on the fact rows
-- it created or changed (CREATE_AUDIT_KEY / UPDATE_AUDIT_KEY), so the export job can find them
create table if not exists ctl.ctl_audit_log (
    audit_key bigint generated always as identity primary key,
    job_name text not null,
    status text not null check (status in ('running', 'succeeded', 'failed')),
    started_at timestamptz not null default clock_timestamp(),
    ended_at timestamptz,
    -- the event-time range of the raw rows landed since the previous audit row (the cycle's data)
    min_data_ts timestamptz,
    max_data_ts timestamptz
);

-- every job run: ingest, transform, quality, export, maintenance
create table if not exists ctl.ctl_etl_history (
    job_run_id bigint generated always as identity primary key,
    job_name text not null,
    audit_key bigint references ctl.ctl_audit_log (audit_key),
    status text not null check (status in ('running', 'succeeded', 'failed')),
    started_at timestamptz not null default clock_timestamp(),
    ended_at timestamptz,
    row_count bigint,
    error_message text,
    host_name text,
    process_id integer
);
create index if not exists ctl_etl_history_job_started on ctl.ctl_etl_history (job_name, started_at);

-- high-water marks of what was extracted: per source (Kafka topic and partition, archive file)
-- as the ingesters store them, and per exported table (the audit key exported up to)
create table if not exists ctl.ctl_extract_history (
    extract_id bigint generated always as identity primary key,
    job_run_id bigint references ctl.ctl_etl_history (job_run_id),
    source_kind text not null check (source_kind in ('kafka', 'archive', 'export')),
    source_name text not null,
    source_part text not null default '',
    high_water_mark bigint not null,
    max_data_ts timestamptz,
    row_count bigint not null default 0,
    recorded_at timestamptz not null default clock_timestamp()
);
create index if not exists ctl_extract_history_source
    on ctl.ctl_extract_history (source_kind, source_name, source_part, recorded_at);

create or replace view ctl.admin_etl_job_history as
select
    history.job_run_id,
    history.job_name,
    history.status,
    history.started_at,
    history.ended_at,
    extract(epoch from history.ended_at - history.started_at)::numeric(12, 3) as duration_seconds,
    history.row_count,
    history.error_message,
    history.audit_key,
    audit.min_data_ts,
    audit.max_data_ts,
    history.host_name,
    history.process_id
from ctl.ctl_etl_history as history
left join ctl.ctl_audit_log as audit on history.audit_key = audit.audit_key;

create or replace view ctl.admin_extract_history as
select distinct on (extract.source_kind, extract.source_name, extract.source_part)
    extract.source_kind,
    extract.source_name,
    extract.source_part,
    extract.high_water_mark,
    extract.max_data_ts,
    extract.row_count,
    extract.recorded_at,
    extract.job_run_id
from ctl.ctl_extract_history as extract
order by extract.source_kind, extract.source_name, extract.source_part, extract.recorded_at desc;

