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
