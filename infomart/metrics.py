"""Prometheus metrics of the pipeline (served by ``infomart run`` on the metrics port)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_LANDED = Counter("infomart_events_landed", "Events landed in the raw tables", ["topic", "origin"])
EVENTS_REJECTED = Counter(
    "infomart_events_rejected", "Messages sent to raw.rejects, by reason category", ["topic", "reason"]
)
KAFKA_LAG = Gauge("infomart_kafka_lag_messages", "Messages between the stored offsets and the partition ends")
TRANSFORM_SECONDS = Histogram(
    "infomart_transform_seconds",
    "Duration of one dbt transform",
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800),
)
TRANSFORM_FAILURES = Counter("infomart_transform_failures", "dbt transforms that failed")
CYCLES = Counter("infomart_cycles", "Completed ingest+transform cycles")
LAST_CYCLE_TS = Gauge("infomart_last_cycle_timestamp_seconds", "Unix time the last cycle completed")
SOURCE_MAX_LOADED_AT = Gauge(
    "infomart_source_max_loaded_at_timestamp_seconds",
    "Latest landed_at of a source table (dbt source freshness), Unix time",
    ["source"],
)
SOURCE_AGE = Gauge(
    "infomart_source_freshness_age_seconds",
    "Time from a source table's latest landed_at to the freshness check",
    ["source"],
)
SOURCE_FRESHER = Gauge(
    "infomart_source_fresher",
    "1 when the last transform built the models of this source table (it had new rows), else 0",
    ["source"],
)
GIM_SERVER_STATE = Gauge(
    "gim_server_state",
    "GIM's server state: 0 starting, 1 running, -1/-2/-3 the last cycle failed once, twice, three or"
    " more times in a row (an outage of PostgreSQL or the broker, or a failed transform)",
)
CYCLE_FAILURES = Counter(
    "infomart_cycle_failures", "Cycles of `infomart run` that failed (and were retried)", ["step"]
)
TRANSFORM_DISCARDS = Gauge(
    "infomart_transform_discards",
    "Raw events the transformation left out (infomart.dq_transform_discards), by raw table and reason",
    ["source_table", "reason"],
)

# ------------------------------------------------------------------ GIM's names (issue 12)
GIM_FAILED_JOBSTEPS = Gauge(
    "gim_failed_jobsteps",
    "Job steps that failed since the service started, by job (ingest, transform, quality, export,"
    " maintenance); a failed step is retried by the next cycle or schedule",
    ["job"],
)
GIM_VERSION = Gauge(
    "gim_version",
    "Always 1; the Info Mart's version and its schema version as labels",
    ["gim_version", "schema_version"],
)
GIM_ISSUES = Counter(
    "gim_issues",
    "Problems met in the data, by issue: rejected (an event failed the contract). Discards and"
    " unknown agents are the gauges infomart_transform_discards and infomart_unknown_agents",
    ["issue"],
)
GIM_KAFKA_TIMESTAMP = Gauge(
    "gim_kafka_timestamp_millis",
    "Kafka timestamp (ms since the epoch) of the newest message landed, per topic and partition",
    ["topic", "partition"],
)
GIM_KAFKA_BEHIND = Gauge(
    "gim_kafka_timestamp_behind",
    "Milliseconds between the newest message landed and the moment it landed, per topic and partition",
    ["topic", "partition"],
)
# modeled on GSP's stream-processing metrics
RECORDS_LAG_MAX = Gauge(
    "infomart_records_lag_max", "The largest lag (messages) of any partition after a cycle"
)
RECORDS_CONSUMED = Counter(
    "infomart_records_consumed", "Kafka records consumed (landed or rejected)", ["topic"]
)
CALLS_CREATED = Counter("infomart_calls_created", "CallCreated events landed (voice)")
# the one GIM lacks: how far the facts are behind the events
FACTS_NEWEST_EVENT_TS = Gauge(
    "infomart_facts_newest_event_timestamp_seconds",
    "Event time (Unix seconds) of the newest event reflected in the facts: after a successful build"
    " every staged event is; freshness is time() minus this",
)
EXPORT_LAST_SUCCESS_TS = Gauge(
    "infomart_export_last_success_timestamp_seconds", "Unix time the last export job succeeded"
)
UNKNOWN_AGENTS = Gauge(
    "infomart_unknown_agents",
    "Agents in events that the configuration does not have (RESOURCE_ rows of type Agent without a"
    " configuration object), after the last build",
)


#: version of the mart's table layout (the dbt project's version; the export manifest's too)
SCHEMA_VERSION = "0.1.0"


def publish_version() -> None:
    """gim_version{gim_version, schema_version} = 1."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("infomart")
    except PackageNotFoundError:
        package = "unknown"
    GIM_VERSION.labels(package, SCHEMA_VERSION).set(1)
