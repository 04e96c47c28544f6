"""The expectation suites, declared as data: one suite per table, grouped in four areas.

* raw: envelope completeness of every landed row; the rejects rate of the last day.
* staging: one row per event id in every staging model; event times in a sane range.
* marts: no negative durations; talk within the party's lifetime; results and roles in their
  sets (MEASURES.md, seed ``technical_descriptor``).
* aggregates: the ag2_queue identity; occupancy in [0, 1]; states tile sessions (exact ms); the
  newest fact time not far behind the newest landed event.

A suite is named ``<area>.<table>``; every check carries a description, which is what a failure
is reported by. Bounds are constants here, not settings: they say what is sane, not what is
expected of a site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import great_expectations as gx
from great_expectations.expectations import Expectation

from infomart.settings import LOGICAL_TOPICS

#: a landed day may have at most this share of its messages rejected
MAX_REJECT_SHARE = 0.01
#: event times outside this range are typing errors, not contact-center history
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_EVENT = datetime(2100, 1, 1, tzinfo=UTC)
#: the newest fact time may trail the newest landed event by this much (PostgreSQL interval)
FRESHNESS_BOUND = "1 hour"

RAW_TABLES = tuple(t.replace("-", "_") for t in LOGICAL_TOPICS)
#: the topics whose events make facts (the facts' data horizon, DECISIONLOG "ledger" section)
ACTIVITY_TABLES = ("voice_callthread", "voice_agentstate", "digital_itx", "digital_agentstate")

#: interaction_resource_fact's TECHNICAL_DESCRIPTOR parts (seeds/technical_descriptor.csv)
RESOURCE_ROLES = (
    "Received",
    "Initiated",
    "ReceivedTransfer",
    "ReceivedConference",
    "ReceivedConsult",
    "InitiatedConsult",
)
IRF_RESULTS = (
    "Completed",
    "Transferred",
    "Conferenced",
    "Redirected",
    "Rejected",
    "Abandoned",
    "Cleared",
    "Unknown",
)
RESULT_REASONS = (
    "Unspecified",
    "NoAnswer",
    "AbandonedWhileRinging",
    "AbandonedFromHold",
    "AbandonedWhileQueued",
)
#: mediation_segment_fact: how a stay in a virtual queue ended (null while open)
MSF_RESULTS = ("Diverted", "Abandoned", "Cleared")


@dataclass(frozen=True)
class Check:
    """One expectation: its class, its arguments and what it means."""

    expectation: type[Expectation]
    kwargs: Mapping[str, Any]
    description: str

    def build(self) -> Expectation:
        return self.expectation(**self.kwargs, description=self.description)


@dataclass(frozen=True)
class TableSuite:
    """The checks of one table (``schema.table``), in a suite named ``<area>.<table>``."""

    area: str
    schema: str
    table: str
    checks: tuple[Check, ...]
    name: str = field(default="")

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", f"{self.area}.{self.table}")


# ------------------------------------------------------------------ check builders
def not_null(column: str) -> Check:
    return Check(gx.expectations.ExpectColumnValuesToNotBeNull, {"column": column}, f"{column} is set")


def unique(column: str) -> Check:
    return Check(gx.expectations.ExpectColumnValuesToBeUnique, {"column": column}, f"one row per {column}")


def at_least_zero(column: str) -> Check:
    return Check(
        gx.expectations.ExpectColumnValuesToBeBetween,
        {"column": column, "min_value": 0},
        f"{column} is not negative",
    )


def between(column: str, low: Any, high: Any, description: str) -> Check:
    return Check(
        gx.expectations.ExpectColumnValuesToBeBetween,
        {"column": column, "min_value": low, "max_value": high},
        description,
    )


def in_set(column: str, values: tuple[str, ...]) -> Check:
    return Check(
        gx.expectations.ExpectColumnValuesToBeInSet,
        {"column": column, "value_set": list(values)},
        f"{column} is one of {', '.join(values)}",
    )


def no_rows(description: str, query: str) -> Check:
    """Passes when the query (over ``{batch}``, the suite's table) returns no row."""
    return Check(gx.expectations.UnexpectedRowsExpectation, {"unexpected_rows_query": query}, description)


# ------------------------------------------------------------------ raw
ENVELOPE = no_rows(
    "every landed event has its envelope's id, ts and type",
    "select landed_at, archive_file, archive_line, kafka_partition, kafka_offset from {batch}"
    " where payload->>'id' is null or payload->>'ts' is null or payload->>'type' is null",
)

_LANDED_TODAY = " + ".join(
    f"(select count(*) from raw.{t} where landed_at > now() - interval '1 day')" for t in RAW_TABLES
)
REJECTS_RATE = no_rows(
    f"at most {MAX_REJECT_SHARE:.0%} of the messages of the last day rejected",
    "select rejected, landed from ("
    " select (select count(*) from {batch} where rejected_at > now() - interval '1 day') as rejected,"
    f" {_LANDED_TODAY} as landed) as day"
    f" where rejected > {MAX_REJECT_SHARE} * (rejected + landed)",
)


def _raw() -> list[TableSuite]:
    suites = [
        TableSuite("raw", "raw", t, (not_null("payload"), not_null("landed_at"), ENVELOPE))
        for t in RAW_TABLES
    ]
    suites.append(TableSuite("raw", "raw", "rejects", (not_null("topic"), not_null("reason"), REJECTS_RATE)))
    return suites


# ------------------------------------------------------------------ staging
def _staging() -> list[TableSuite]:
    checks = (
        unique("event_id"),
        not_null("event_id"),
        not_null("event_ts"),
        not_null("event_type"),
        between(
            "event_ts",
            EARLIEST_EVENT,
            LATEST_EVENT,
            f"event_ts between {EARLIEST_EVENT:%Y-%m-%d} and {LATEST_EVENT:%Y-%m-%d}",
        ),
    )
    return [TableSuite("staging", "staging", f"stg_events__{t}", checks) for t in RAW_TABLES]


# ------------------------------------------------------------------ marts
def _ends_after_start() -> Check:
    return no_rows("end_ts is not before start_ts", "select * from {batch} where end_ts < start_ts")


IRF_DURATIONS = (
    "ring",
    "dial",
    "talk",
    "hold",
    "after_call_work",
    "queue",
    "routing_point",
)
TALK_WITHIN_LIFETIME = no_rows(
    "talk_duration within the party's lifetime (end_ts - start_ts)",
    "select interaction_resource_id, party_id, start_ts, end_ts, talk_duration from {batch}"
    " where end_ts is not null and talk_duration > round(extract(epoch from end_ts - start_ts))",
)


USER_DATA_OF_EVERY_IRF_ROW = no_rows(
    "every IRF row has its user-data row (IRF_USER_DATA_KEYS)",
    "select irf.interaction_resource_id from infomart.interaction_resource_fact as irf"
    " left join {batch} as user_data using (interaction_resource_id)"
    " where user_data.interaction_resource_id is null",
)


def _marts() -> list[TableSuite]:
    irf = (
        unique("interaction_resource_id"),
        *(at_least_zero(f"{d}_duration") for d in IRF_DURATIONS),
        *(at_least_zero(f"{d}_ms") for d in IRF_DURATIONS),
        _ends_after_start(),
        TALK_WITHIN_LIFETIME,
        in_set("technical_result", IRF_RESULTS),
        in_set("resource_role", RESOURCE_ROLES),
        in_set("result_reason", RESULT_REASONS),
        not_null("technical_descriptor_key"),
    )
    msf = (
        unique("mediation_segment_id"),
        at_least_zero("mediation_duration"),
        at_least_zero("mediation_duration_ms"),
        _ends_after_start(),
        in_set("technical_result", MSF_RESULTS),
    )

    def sm(key: str) -> tuple[Check, ...]:
        return (
            unique(key),
            at_least_zero("total_duration"),
            at_least_zero("total_duration_ms"),
            _ends_after_start(),
        )

    return [
        TableSuite("marts", "infomart", "interaction_resource_fact", irf),
        TableSuite("marts", "infomart", "mediation_segment_fact", msf),
        TableSuite("marts", "infomart", "sm_res_state_fact", sm("sm_res_state_fact_key")),
        TableSuite("marts", "infomart", "sm_res_session_fact", sm("sm_res_session_fact_key")),
        TableSuite(
            "marts",
            "infomart",
            "irf_user_data_keys",
            (
                unique("interaction_resource_id"),
                not_null("user_data_cust_dim_1_key"),
                USER_DATA_OF_EVERY_IRF_ROW,
            ),
        ),
    ]


# ------------------------------------------------------------------ aggregates
QUEUE_IDENTITY = no_rows(
    "entered = accepted + abandoned + abandoned_invite + redirected + cleared + routed_other",
    "select * from {batch} where entered"
    " <> accepted + abandoned + abandoned_invite + redirected + cleared + routed_other",
)
STATES_TILE_SESSIONS = no_rows(
    "ready + not_ready + busy + wrap = active (ms): states tile sessions",
    "select * from {batch}"
    " where ready_time_ms + not_ready_time_ms + busy_time_ms + wrap_time_ms <> active_time_ms",
)
_NEWEST_EVENT = ", ".join(
    f"(select max((payload->>'ts')::timestamptz) from raw.{t})" for t in ACTIVITY_TABLES
)
FRESHNESS = no_rows(
    f"the newest fact time is at most {FRESHNESS_BOUND} behind the newest landed event",
    "select facts, events from ("
    " select greatest((select max(greatest(start_ts, end_ts)) from {batch}),"
    " (select max(greatest(start_ts, end_ts)) from infomart.sm_res_state_fact)) as facts,"
    f" greatest({_NEWEST_EVENT}) as events) as newest"
    f" where events is not null and (facts is null or facts < events - interval '{FRESHNESS_BOUND}')",
)


def _aggregates() -> list[TableSuite]:
    return [
        TableSuite("aggregates", "infomart", "ag2_queue_subhr", (QUEUE_IDENTITY,)),
        TableSuite("aggregates", "infomart", "ag2_queue_day", (QUEUE_IDENTITY,)),
        TableSuite(
            "aggregates",
            "infomart",
            "ag2_i_sess_state_subhr",
            (between("occupancy", 0, 1, "occupancy between 0 and 1"), STATES_TILE_SESSIONS),
        ),
        TableSuite(
            "aggregates", "infomart", "interaction_resource_fact", (FRESHNESS,), name="aggregates.freshness"
        ),
    ]


def all_suites() -> tuple[TableSuite, ...]:
    """Every suite, in area order: raw, staging, marts, aggregates."""
    return (*_raw(), *_staging(), *_marts(), *_aggregates())
