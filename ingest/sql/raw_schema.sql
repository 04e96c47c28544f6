-- Raw landing tables: events exactly as they came (jsonb), with where they came from.
-- Applied idempotently by every ingester at start. dbt reads these as sources.
create schema if not exists raw;

-- Day partitions (PostgreSQL declarative partitioning): the event tables below, and the largest
-- facts (dbt, config `partition_by`, macros/partitions.sql), are partitioned by range of one
-- time column into UTC days named <table>_pYYYYMMDD, plus a DEFAULT partition <table>_default
-- for a row whose day has no partition yet (nothing is ever refused for want of a partition).
-- A purge then drops the partitions of whole days (pipeline/maintain.py) instead of deleting
-- rows. Functions are security invoker: a partition belongs to the role that made it.

-- The day partitions of `parent` from the day of `first_ts` to the day of `last_ts` (UTC), and
-- its default partition, where missing; rows of a new day found in the default partition are
-- moved into it first. Returns the number of partitions made; 0 for a table not partitioned.
create or replace function raw.ensure_day_partitions(
    parent regclass, first_ts timestamptz, last_ts timestamptz
) returns integer
language plpgsql as $fn$
declare
    parent_schema text;
    parent_name text;
    key_column text;
    default_part regclass;
    day date;
    part text;
    made integer := 0;
begin
    select n.nspname, c.relname into parent_schema, parent_name
    from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
    where c.oid = parent;
    select a.attname into key_column
    from pg_partitioned_table as p
    join pg_attribute as a on a.attrelid = p.partrelid and a.attnum = p.partattrs[0]
    where p.partrelid = parent;
    if key_column is null then
        return 0;
    end if;
    -- one maker at a time per table (two builds, or a build and the maintenance job)
    perform pg_advisory_xact_lock(parent::oid::bigint);
    select i.inhrelid::regclass into default_part
    from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
    where i.inhparent = parent and pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
    if default_part is null then
        execute format(
            'create table %I.%I partition of %I.%I default',
            parent_schema, parent_name || '_default', parent_schema, parent_name
        );
        default_part := format('%I.%I', parent_schema, parent_name || '_default')::regclass;
        made := made + 1;
    end if;
    if first_ts is null or last_ts is null then
        return made;
    end if;
    for day in
        select d::date from generate_series(
            (first_ts at time zone 'UTC')::date, (last_ts at time zone 'UTC')::date, interval '1 day'
        ) as d
    loop
        part := parent_name || '_p' || to_char(day, 'YYYYMMDD');
        if exists (
            select from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
            where i.inhparent = parent and c.relname = part
        ) then
            continue;
        end if;
        execute format(
            'create table %I.%I (like %I.%I including defaults including constraints)',
            parent_schema, part, parent_schema, parent_name
        );
        execute format(
            'with moved as (delete from %s where %I >= $1 and %I < $2 returning *)'
            ' insert into %I.%I select * from moved',
            default_part, key_column, key_column, parent_schema, part
        ) using (day::timestamp at time zone 'UTC'), ((day + 1)::timestamp at time zone 'UTC');
        execute format(
            'alter table %I.%I attach partition %I.%I for values from (%L) to (%L)',
            parent_schema, parent_name, parent_schema, part,
            (day::timestamp at time zone 'UTC'), ((day + 1)::timestamp at time zone 'UTC')
        );
        made := made + 1;
    end loop;
    return made;
end
$fn$;

-- Names the partitions of `parent` after it (<parent>_pYYYYMMDD, <parent>_default): dbt's full
-- refresh builds a table under a temporary name and renames it, not its partitions.
create or replace function raw.name_partitions(parent regclass) returns integer
language plpgsql as $fn$
declare
    parent_name text;
    child record;
    wanted text;
    renamed integer := 0;
begin
    if parent is null then
        return 0;
    end if;
    select relname into parent_name from pg_class where oid = parent;
    for child in
        select c.oid::regclass as part, c.relname,
            substring(c.relname from '(_p\d{8}|_default)$') as suffix
        from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
        where i.inhparent = parent
    loop
        wanted := parent_name || child.suffix;
        if child.suffix is not null and child.relname <> wanted then
            execute format('alter table %s rename to %I', child.part, wanted);
            renamed := renamed + 1;
        end if;
    end loop;
    return renamed;
end
$fn$;

create table if not exists raw.voice_callthread (
    payload jsonb not null,
    kafka_partition integer,
    kafka_offset bigint,
    archive_file text,
    archive_line bigint,
    landed_at timestamptz not null default now(),
    -- the event's ts (ingest/landing.py): its day partition; null in the default partition
    event_ts timestamptz
) partition by range (event_ts);
create table if not exists raw.voice_agentstate (like raw.voice_callthread including all)
partition by range (event_ts);
create table if not exists raw.digital_itx (like raw.voice_callthread including all)
partition by range (event_ts);
create table if not exists raw.digital_agentstate (like raw.voice_callthread including all)
partition by range (event_ts);
create table if not exists raw.voice_outbound (like raw.voice_callthread including all)
partition by range (event_ts);
create table if not exists raw.gca_cfg (like raw.voice_callthread including all)
partition by range (event_ts);

-- A database made before the tables were partitioned: the column is added (the tables stay
-- unpartitioned, and are purged with DELETE).
alter table raw.voice_callthread add column if not exists event_ts timestamptz;
alter table raw.voice_agentstate add column if not exists event_ts timestamptz;
alter table raw.digital_itx add column if not exists event_ts timestamptz;
alter table raw.digital_agentstate add column if not exists event_ts timestamptz;
alter table raw.voice_outbound add column if not exists event_ts timestamptz;
alter table raw.gca_cfg add column if not exists event_ts timestamptz;

-- BRIN on the landing time: nearly free to maintain on append-only tables, and what the
-- incremental staging models filter on.
create index if not exists voice_callthread_landed_at on raw.voice_callthread using brin (landed_at);
create index if not exists voice_agentstate_landed_at on raw.voice_agentstate using brin (landed_at);
create index if not exists digital_itx_landed_at on raw.digital_itx using brin (landed_at);
create index if not exists digital_agentstate_landed_at on raw.digital_agentstate using brin (landed_at);
create index if not exists voice_outbound_landed_at on raw.voice_outbound using brin (landed_at);
create index if not exists gca_cfg_landed_at on raw.gca_cfg using brin (landed_at);

-- Event days made ahead (the maintenance job keeps INFOMART_MAINTAIN_PARTITIONS_AHEAD_DAYS).
select raw.ensure_day_partitions(to_regclass(name), now() - interval '1 day', now() + interval '14 days')
from unnest(array[
    'raw.voice_callthread', 'raw.voice_agentstate', 'raw.digital_itx', 'raw.digital_agentstate',
    'raw.voice_outbound', 'raw.gca_cfg'
]) as name;

-- Every message that failed the contract (or that PostgreSQL refused), with the reason and the raw bytes.
create table if not exists raw.rejects (
    topic text not null,
    reason text not null,
    raw_bytes bytea,
    kafka_partition integer,
    kafka_offset bigint,
    archive_file text,
    archive_line bigint,
    rejected_at timestamptz not null default now()
);

-- Consumer offsets, committed in the same transaction as the rows they cover.
create table if not exists raw.consumer_offsets (
    consumer text not null,
    topic text not null,
    kafka_partition integer not null,
    next_offset bigint not null,
    updated_at timestamptz not null default now(),
    primary key (consumer, topic, kafka_partition)
);

-- Archive progress by content hash: the archive ingester's offsets.
create table if not exists raw.archive_files (
    sha256 text primary key,
    file_name text not null,
    topic text not null,
    lines_done bigint not null default 0,
    events_landed bigint not null default 0,
    events_rejected bigint not null default 0,
    completed boolean not null default false,
    started_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
