"""The standard reports (our GCXI): what each one reads, groups by, measures and charts.

Every aggregate report reads one report view of ``models/reports`` at one level, groups the
chosen rows by its dimensions and computes each measure from summed parts (a ratio or an
average from sums, never an average of the rows' ratios; milliseconds rounded once). The
measures are SQL aggregate expressions over the view's columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MeasureKind = Literal["count", "seconds", "percent", "text"]
Filter = Literal["queue", "agent_group", "agent", "media", "by"]


@dataclass(frozen=True)
class Column:
    """A dimension (grouped by) or measure (aggregated) column of a report."""

    name: str
    label: str
    sql: str
    kind: MeasureKind = "count"
    share_of: str | None = None  # a percentage of the total of that measure (computed from the sums)


@dataclass(frozen=True)
class Chart:
    """The chart of a report: ``measures`` over the intervals or over the values of one dimension."""

    over: str  # "interval" or the name of a dimension
    measures: tuple[str, ...]
    style: Literal["bar", "stacked", "line"] = "bar"
    target_line: bool = False  # the service-level target


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    description: str
    view: str  # a view of schema `reports`
    dimensions: tuple[Column, ...]
    measures: tuple[Column, ...]
    chart: Chart
    filters: tuple[Filter, ...]
    where: str = "true"  # a fixed condition of the report on the view's columns
    reads: tuple[str, ...] = field(default=())  # the aggregates behind the view, for the docs
    kind: Literal["aggregate", "list", "timeline"] = "aggregate"
    agent_column: str = "subject_key"  # the view's agent key (agent and agent-group filters)
    order: str | None = None  # the rows' order (SQL over the groups); default: the dimensions


def seconds(ms_sql: str) -> str:
    """Milliseconds (an aggregate expression) rounded once to whole seconds, half up."""
    return f"round(({ms_sql}) / 1000.0)"


def per(numerator_ms: str, denominator: str) -> str:
    """Average seconds (one decimal) of summed milliseconds over a summed count."""
    return f"round(({numerator_ms}) / 1000.0 / nullif({denominator}, 0), 1)"


def percent(numerator: str, denominator: str) -> str:
    return f"round(100.0 * ({numerator}) / nullif({denominator}, 0), 1)"


INTERVAL = Column("interval", "Interval", "interval_start_ts", "text")
QUEUE = Column("queue_name", "Queue", "queue_name", "text")
SUBJECT = Column("subject_name", "Agent / group", "subject_name", "text")
QUEUE_FILTERS: tuple[Filter, ...] = ("queue", "media")
AGENT_FILTERS: tuple[Filter, ...] = ("by", "agent_group", "agent", "media")

QUEUE_MEASURES = (
    Column("entered", "Entered", "sum(entered)"),
    Column("accepted", "Accepted", "sum(accepted)"),
    Column("abandoned", "Abandoned", "sum(abandoned)"),
    Column("abandoned_short", "Short abandoned", "sum(abandoned_short)"),
    Column("abandoned_invite", "Abandoned while ringing", "sum(abandoned_invite)"),
    Column("asa", "ASA (s)", per("sum(accepted_time_ms)", "sum(accepted)"), "seconds"),
    Column(
        "longest_wait",
        "Longest wait (s)",
        seconds("max(greatest(accepted_time_max_ms, abandoned_time_max_ms))"),
        "seconds",
    ),
    Column("service_level_threshold", "SL threshold (s)", "max(service_level_threshold)", "seconds"),
    Column(
        "service_level", "Service level %", percent("sum(accepted_thr)", "sum(service_level_base)"), "percent"
    ),
)


def _wait_distribution(slug: str, title: str, outcome: str, aggregate: str, description: str) -> Report:
    return Report(
        slug=slug,
        title=title,
        description=description,
        view="rpt_queue_wait_distribution",
        dimensions=(Column("time_range", "Wait", "time_range_name", "text"),),
        measures=(
            Column("segments", title.split()[0] if outcome == "abandoned" else "Accepted", "sum(segments)"),
            Column("share", "Share %", "null", "percent", share_of="segments"),
        ),
        chart=Chart(over="time_range", measures=("segments",)),
        filters=QUEUE_FILTERS,
        where=f"wait_outcome = '{outcome}'",
        reads=(aggregate,),
        order="min(time_range_key)",  # the ranges from the shortest waits up
    )


REPORTS: tuple[Report, ...] = (
    Report(
        slug="queue-summary",
        title="Queue Summary",
        description="Per queue and interval: entered, accepted, abandoned, short abandoned, abandoned while"
        " ringing, average speed of answer, longest wait and service level against the queue's threshold.",
        view="rpt_queue_summary",
        dimensions=(INTERVAL, QUEUE),
        measures=QUEUE_MEASURES,
        chart=Chart(over="interval", measures=("accepted", "abandoned"), style="stacked"),
        filters=QUEUE_FILTERS,
        reads=("ag2_queue_<level>",),
    ),
    Report(
        slug="service-level",
        title="Service Level",
        description="Service level by interval (accepted within the queue's threshold over accepted,"
        " abandoned and abandoned while ringing, short abandons left out), with the target line.",
        view="rpt_queue_summary",
        dimensions=(INTERVAL,),
        measures=(
            Column("entered", "Entered", "sum(entered)"),
            Column("accepted", "Accepted", "sum(accepted)"),
            Column("accepted_thr", "Accepted within threshold", "sum(accepted_thr)"),
            Column("service_level_base", "SL base", "sum(service_level_base)"),
            Column(
                "service_level",
                "Service level %",
                percent("sum(accepted_thr)", "sum(service_level_base)"),
                "percent",
            ),
        ),
        chart=Chart(over="interval", measures=("service_level",), style="line", target_line=True),
        filters=QUEUE_FILTERS,
        reads=("ag2_queue_<level>",),
    ),
    _wait_distribution(
        "abandon-delay",
        "Abandon Delay",
        "abandoned",
        "ag2_queue_abn_<level>",
        "How long customers waited in queue before they abandoned (MEDIATION_DURATION by TIME_RANGE).",
    ),
    _wait_distribution(
        "speed-of-accept",
        "Speed of Accept",
        "accepted",
        "ag2_queue_acc_agent_<level>",
        "How long accepted interactions waited before an agent accepted them (accepted time by TIME_RANGE).",
    ),
    Report(
        slug="agent-summary",
        title="Agent Summary",
        description="Per agent (or agent group) and interval: offered, accepted, average handle time (handle"
        " time over accepted and initiated), hold, wrap, transfers and consultations.",
        view="rpt_agent_summary",
        dimensions=(INTERVAL, SUBJECT),
        measures=(
            Column("offered", "Offered", "sum(offered)"),
            Column("accepted", "Accepted", "sum(accepted)"),
            Column("rejected", "Rejected / RONA", "sum(rejected + redirected)"),
            Column("initiated", "Initiated", "sum(initiated)"),
            Column("aht", "AHT (s)", per("sum(handle_time_ms)", "sum(accepted + initiated)"), "seconds"),
            Column("engage_time", "Talk (s)", seconds("sum(engage_time_ms)"), "seconds"),
            Column("hold", "Holds", "sum(hold)"),
            Column("hold_time", "Hold (s)", seconds("sum(hold_time_ms)"), "seconds"),
            Column("wrap", "Wraps", "sum(wrap)"),
            Column("wrap_time", "Wrap (s)", seconds("sum(wrap_time_ms)"), "seconds"),
            Column("transfer_init", "Transfers", "sum(transfer_init)"),
            Column("consult_init", "Consults", "sum(consult_init)"),
        ),
        chart=Chart(over="subject_name", measures=("offered", "accepted")),
        filters=AGENT_FILTERS,
        reads=("ag2_agent_<level>", "ag2_agent_grp_<level>"),
    ),
    Report(
        slug="agent-utilization",
        title="Agent Utilization",
        description="Per agent (or agent group) and interval: logged-in, ready, not-ready, busy and wrap"
        " time,"
        " and occupancy ((busy + wrap) over (busy + wrap + ready)).",
        view="rpt_agent_utilization",
        dimensions=(INTERVAL, SUBJECT),
        measures=(
            Column("active_time", "Logged in (s)", seconds("sum(active_time_ms)"), "seconds"),
            Column("ready_time", "Ready (s)", seconds("sum(ready_time_ms)"), "seconds"),
            Column("not_ready_time", "Not ready (s)", seconds("sum(not_ready_time_ms)"), "seconds"),
            Column("busy_time", "Busy (s)", seconds("sum(busy_time_ms)"), "seconds"),
            Column("wrap_time", "Wrap (s)", seconds("sum(wrap_time_ms)"), "seconds"),
            Column(
                "occupancy",
                "Occupancy %",
                percent(
                    "sum(busy_time_ms + wrap_time_ms)", "sum(busy_time_ms + wrap_time_ms + ready_time_ms)"
                ),
                "percent",
            ),
        ),
        chart=Chart(
            over="subject_name",
            measures=("ready_time", "not_ready_time", "busy_time", "wrap_time"),
            style="stacked",
        ),
        filters=AGENT_FILTERS,
        reads=("ag2_i_sess_state_<level>", "ag2_i_sess_state_grp_<level>"),
    ),
    Report(
        slug="agent-not-ready-reasons",
        title="Agent Not Ready Reasons",
        description="Per agent, interval and reason: reason time (split exactly across intervals) and the"
        " reason spans that started in the interval.",
        view="rpt_agent_not_ready_reasons",
        dimensions=(
            INTERVAL,
            Column("agent_name", "Agent", "agent_name", "text"),
            Column("state_name", "State", "coalesce(state_name, '')", "text"),
            Column("reason_name", "Reason", "reason_name", "text"),
        ),
        measures=(
            Column("state_reason_count", "Times", "sum(state_reason_count)"),
            Column("state_reason_time", "Time (s)", seconds("sum(state_reason_time_ms)"), "seconds"),
            Column("share", "Share of reason time %", "null", "percent", share_of="state_reason_time"),
        ),
        chart=Chart(over="reason_name", measures=("state_reason_time",)),
        filters=("agent_group", "agent", "media"),
        reads=("ag2_i_state_rsn_<level>",),
        agent_column="agent_key",
    ),
    Report(
        slug="agent-state-details",
        title="Agent State Details",
        description="The state intervals of one agent on one day (the first day of the range), as a timeline:"
        " one lane per media and a lane of the reasons.",
        view="rpt_agent_state_details",
        dimensions=(),
        measures=(),
        chart=Chart(over="lane", measures=()),
        filters=("agent",),
        reads=("sm_res_state_fact", "sm_res_state_reason_fact"),
        agent_column="agent_key",
        kind="timeline",
    ),
    Report(
        slug="interaction-volume",
        title="Interaction Volume",
        description="Interactions (the customer's view) per interval, media and interaction type: entered,"
        " answered, abandoned, transferred, average and longest answer time, handle time. Business"
        " attributes (user data) join here once the user-data marts exist.",
        view="rpt_interaction_volume",
        dimensions=(
            INTERVAL,
            Column("media_name", "Media", "media_name", "text"),
            Column("interaction_type", "Type", "interaction_type", "text"),
        ),
        measures=(
            Column("entered", "Entered", "sum(entered)"),
            Column("answered", "Answered", "sum(answered)"),
            Column("abandoned", "Abandoned", "sum(abandoned)"),
            Column("transferred", "Transferred", "sum(transferred)"),
            Column(
                "answer_time_avg", "Avg answer (s)", per("sum(answer_time_ms)", "sum(answered)"), "seconds"
            ),
            Column("answer_time_max", "Longest answer (s)", seconds("max(answer_time_max_ms)"), "seconds"),
            Column("handle_time", "Handle (s)", seconds("sum(handle_time_ms)"), "seconds"),
        ),
        chart=Chart(over="interval", measures=("answered", "abandoned"), style="stacked"),
        filters=("media",),
        reads=("ag2_id_<level>",),
    ),
    Report(
        slug="abandoned-interactions",
        title="Abandoned Interactions",
        description="One row per abandoned interaction (ended inbound, no agent established): when, the last"
        " queue, where it was abandoned and how long the customer waited.",
        view="rpt_abandoned_interactions",
        dimensions=(
            Column("start_ts", "Started", "start_ts", "text"),
            Column("interaction_id", "Interaction", "interaction_id", "text"),
            Column("media_name", "Media", "media_name", "text"),
            Column("source_address", "From", "source_address", "text"),
            Column("queue_name", "Queue", "coalesce(queue_name, '')", "text"),
            Column("abandoned_where", "Abandoned", "abandoned_where", "text"),
            Column("ringing_agent_name", "Ringing at", "coalesce(ringing_agent_name, '')", "text"),
        ),
        measures=(
            Column("abandoned", "Count", "count(*)"),
            # per row the interaction's own waits; in a total row their averages
            Column("wait", "Wait (s)", per("sum(wait_ms)", "count(*)"), "seconds"),
            Column(
                "queue_wait", "Queue wait (s)", per("sum(queue_wait_ms)", "count(queue_wait_ms)"), "seconds"
            ),
        ),
        chart=Chart(over="abandoned_where", measures=("abandoned",)),
        filters=("queue", "media"),
        reads=("interaction_fact", "interaction_resource_fact", "mediation_segment_fact"),
        kind="list",
    ),
)

BY_SLUG: dict[str, Report] = {r.slug: r for r in REPORTS}
