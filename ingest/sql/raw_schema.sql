-- Raw landing tables: events exactly as they came (jsonb), with where they came from.
-- Applied idempotently by every ingester at start. dbt reads these as sources.
create schema if not exists raw;

create table if not exists raw.voice_callthread (
    payload jsonb not null,
    kafka_partition integer,
    kafka_offset bigint,
    archive_file text,
    archive_line bigint,
    landed_at timestamptz not null default now()
);
create table if not exists raw.voice_agentstate (like raw.voice_callthread including all);
create table if not exists raw.digital_itx (like raw.voice_callthread including all);
create table if not exists raw.digital_agentstate (like raw.voice_callthread including all);
create table if not exists raw.voice_outbound (like raw.voice_callthread including all);
create table if not exists raw.gca_cfg (like raw.voice_callthread including all);

-- BRIN on the landing time: nearly free to maintain on append-only tables, and what the
-- incremental staging models filter on.
create index if not exists voice_callthread_landed_at on raw.voice_callthread using brin (landed_at);
create index if not exists voice_agentstate_landed_at on raw.voice_agentstate using brin (landed_at);
create index if not exists digital_itx_landed_at on raw.digital_itx using brin (landed_at);
create index if not exists digital_agentstate_landed_at on raw.digital_agentstate using brin (landed_at);
create index if not exists voice_outbound_landed_at on raw.voice_outbound using brin (landed_at);
create index if not exists gca_cfg_landed_at on raw.gca_cfg using brin (landed_at);

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
