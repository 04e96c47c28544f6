"""Compare the marts (voice, digital) and the subhr aggregates to the simulator's ledger, row by row.

Used by the tests; also runnable by hand against any database holding a simulated day:
``python -m tests.ledger_compare DSN LEDGER_DIR``.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import yaml


def seconds(ms: int) -> int:
    """MEASURES.md: exact milliseconds rounded half up to seconds once."""
    return (ms + 500) // 1000


def _ledger(ledger_dir: Path, name: str) -> list[dict]:
    return [orjson.loads(line) for line in (ledger_dir / name).read_bytes().splitlines() if line.strip()]


def _ts(value: object) -> str | None:
    if value is None:
        return None
    text = value.isoformat(timespec="milliseconds")  # type: ignore[attr-defined]
    return text.replace("+00:00", "Z")


IRF_FIELDS = {
    # ledger field: (IRF column, transform of the ledger value)
    "agent_id": ("agent_id", None),
    "dn_type": ("dn_type", None),
    "start_ts": ("start_ts", None),
    "end_ts": ("end_ts", None),
    "ring_count": ("ring_count", None),
    "ring_ms": ("ring_ms", None),
    "dial_count": ("dial_count", None),
    "dial_ms": ("dial_ms", None),
    "talk_count": ("talk_count", None),
    "talk_ms": ("talk_ms", None),
    "hold_count": ("hold_count", None),
    "hold_ms": ("hold_ms", None),
    "acw_count": ("after_call_work_count", None),
    "acw_ms": ("after_call_work_ms", None),
    "queue_ms": ("queue_ms", None),
    "routing_point_ms": ("routing_point_ms", None),
    "cons_init_count": ("cons_init_count", None),
    "resource_role": ("resource_role", None),
    "technical_result": ("technical_result", None),
    "result_reason": ("result_reason", None),
    "last_vqueue": ("last_vqueue_name", None),
}
IRF_SECONDS = {
    "ring_ms": "ring_duration",
    "dial_ms": "dial_duration",
    "talk_ms": "talk_duration",
    "hold_ms": "hold_duration",
    "acw_ms": "after_call_work_duration",
    "queue_ms": "queue_duration",
    "routing_point_ms": "routing_point_duration",
}


class Mismatch(AssertionError):
    pass


def compare_irf(dsn: str, ledger_dir: Path) -> int:
    expected = {(r["call_id"], r["party_id"]): r for r in _ledger(ledger_dir, "parties.ndjson")}
    cols = sorted({c for c, _ in IRF_FIELDS.values()} | set(IRF_SECONDS.values()))
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            f"select media_server_ixn_id, party_id, {', '.join(cols)} from infomart.interaction_resource_fact"
            " where media_type_key = 1"
        ).fetchall()
    actual = {(r[0], r[1]): dict(zip(cols, r[2:], strict=True)) for r in rows}
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing or extra:
        raise Mismatch(
            f"IRF rows: {len(actual)} built, {len(expected)} in the ledger; missing {len(missing)} "
            f"(first {missing[:3]}), extra {len(extra)} (first {extra[:3]}: "
            f"{[actual[k] for k in extra[:1]]})"
        )
    for key in sorted(expected):
        exp, act = expected[key], actual[key]
        for field, (col, _) in IRF_FIELDS.items():
            got = act[col]
            if field.endswith("_ts"):
                got = _ts(got)
            if got != exp[field]:
                raise Mismatch(
                    f"IRF {key} {field}: ledger {exp[field]!r}, mart {col}={got!r}"
                    f"\nledger: {exp}\nmart: {act}"
                )
        for field, col in IRF_SECONDS.items():
            if act[col] != seconds(exp[field]):
                raise Mismatch(
                    f"IRF {key} {col}: ledger {exp[field]} ms -> {seconds(exp[field])} s, mart {act[col]}"
                )
    return len(expected)


def compare_msf(dsn: str, ledger_dir: Path) -> int:
    expected = {(r["call_id"], r["party_id"]): r for r in _ledger(ledger_dir, "mediation_segments.ndjson")}
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select media_server_ixn_id, party_id, queue_name, start_ts, end_ts, mediation_duration_ms,"
            " mediation_duration, technical_result, short_abandoned_flag, target_party_id"
            " from infomart.mediation_segment_fact where media_type_key = 1"
        ).fetchall()
    actual = {(r[0], r[1]): r[2:] for r in rows}
    if set(actual) != set(expected):
        raise Mismatch(
            f"MSF rows: {len(actual)} built, {len(expected)} in the ledger; "
            f"missing {sorted(set(expected) - set(actual))[:3]}, "
            f"extra {sorted(set(actual) - set(expected))[:3]}"
        )
    for key in sorted(expected):
        e = expected[key]
        want = (
            e["queue"],
            e["start_ts"],
            e["end_ts"],
            e["duration_ms"],
            seconds(e["duration_ms"]),
            e["technical_result"],
            1 if e["short_abandoned"] else 0,
            e["target_party_id"],
        )
        a = actual[key]
        got = (a[0], _ts(a[1]), _ts(a[2]), *a[3:])
        if got != want:
            raise Mismatch(f"MSF {key}: ledger {want}, mart {got}")
    return len(expected)


DIGITAL_MEDIA = "(select media_type_key from infomart.media_type where media_name_code <> 'VOICE')"


def compare_digital_irf(dsn: str, ledger_dir: Path) -> int:
    """Every ended digital IRF row (one per offer) equals the ledger's offer row (digital_offers),
    keyed by (itx_id, agent_id, START_TS); every ledger row has its IRF row."""
    expected = {
        (r["itx_id"], r["agent_id"], r["start_ts"]): r for r in _ledger(ledger_dir, "digital_offers.ndjson")
    }
    fields = {k: v for k, v in IRF_FIELDS.items() if k not in ("agent_id", "start_ts")}
    cols = sorted({c for c, _ in fields.values()} | set(IRF_SECONDS.values()) | {"media_name_code"})
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            f"select irf.media_server_ixn_id, irf.agent_id, irf.start_ts, {', '.join(cols)}"
            " from infomart.interaction_resource_fact as irf join infomart.media_type using (media_type_key)"
            f" where irf.media_type_key in {DIGITAL_MEDIA} and irf.end_ts is not null"
        ).fetchall()
    actual = {(r[0], r[1], _ts(r[2])): dict(zip(cols, r[3:], strict=True)) for r in rows}
    _same_keys("digital IRF", expected, actual)
    for key in sorted(expected):
        exp, act = expected[key], actual[key]
        if act["media_name_code"].lower() != exp["media_type"]:
            raise Mismatch(f"digital IRF {key} media: ledger {exp['media_type']}, mart {act}")
        for field, (col, _) in fields.items():
            got = _ts(act[col]) if field.endswith("_ts") else act[col]
            if got != exp[field]:
                raise Mismatch(
                    f"digital IRF {key} {field}: ledger {exp[field]!r}, mart {col}={got!r}"
                    f"\nledger: {exp}\nmart: {act}"
                )
        for field, col in IRF_SECONDS.items():
            if act[col] != seconds(exp[field]):
                raise Mismatch(f"digital IRF {key} {col}: ledger {exp[field]} ms, mart {act[col]}: {exp}")
    return len(expected)


def user_data_mapping(project: Path = Path(__file__).resolve().parents[1] / "dbt_project.yml") -> list[dict]:
    """The user-data mapping of dbt_project.yml with the defaults of macros/user_data.sql."""
    entries = yaml.safe_load(project.read_text())["vars"].get("user_data_mapping") or []
    return [
        {
            "key": str(e["key"]),
            "column": e["column"].lower(),
            "kind": e["kind"].lower(),
            "propagation": (e.get("propagation") or "CALL").upper(),
            "max_length": int(e.get("max_length") or (64 if e["kind"].lower() == "dim" else 255)),
        }
        for e in entries
    ]


def user_data_text(value: object) -> str | None:
    """A user-data value as PostgreSQL's jsonb_each_text gives it."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def expected_user_data(row: dict, mapping: list[dict]) -> tuple[dict[str, str | None], dict[str, int]]:
    """One ledger IRF row's user-data columns under the mapping (each key by its rule, cut to its
    length) and the columns whose value was cut (column -> 1)."""
    out: dict[str, str | None] = {}
    cut: dict[str, int] = {}
    for m in mapping:
        source = row["user_data_party"] if m["propagation"] == "PARTY" else row["user_data_call"]
        text = user_data_text(source.get(m["key"]))
        if text is not None and len(text) > m["max_length"]:
            cut[m["column"]] = 1
            text = text[: m["max_length"]]
        out[m["column"]] = text
    return out, cut


def compare_user_data(dsn: str, ledger_dir: Path) -> tuple[int, dict[str, int]]:
    """Every IRF row of the ledger (voice parties, ended digital offers) has its rows in
    IRF_USER_DATA_GEN_1, IRF_USER_DATA_CUST_1 and IRF_USER_DATA_KEYS, and its mapped columns (the
    dim ones through USER_DATA_CUST_DIM_1) equal the ledger's values under each key's rule; the
    cut values are counted in dq_user_data_truncations. Returns the rows compared and the cuts."""
    mapping = user_data_mapping()
    by_kind = {k: [m["column"] for m in mapping if m["kind"] == k] for k in ("gen", "cust", "dim")}
    expected: dict[tuple, dict] = {}
    for r in _ledger(ledger_dir, "parties.ndjson"):
        expected[("voice", r["call_id"], r["party_id"])] = r
    for r in _ledger(ledger_dir, "digital_offers.ndjson"):
        expected[("digital", r["itx_id"], r["agent_id"], r["start_ts"])] = r
    selected = (
        [f"gen.{c}" for c in by_kind["gen"]]
        + [f"cust.{c}" for c in by_kind["cust"]]
        + [f"dim.{c}" for c in by_kind["dim"]]
    )
    columns = by_kind["gen"] + by_kind["cust"] + by_kind["dim"]
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select irf.media_type_key, irf.media_server_ixn_id, irf.party_id, irf.agent_id, irf.start_ts"
            + "".join(f", {c}" for c in selected)
            + " from infomart.interaction_resource_fact as irf"
            " join infomart.irf_user_data_gen_1 as gen using (interaction_resource_id)"
            " join infomart.irf_user_data_cust_1 as cust using (interaction_resource_id)"
            " join infomart.irf_user_data_keys as keys using (interaction_resource_id)"
            " join infomart.user_data_cust_dim_1 as dim using (user_data_cust_dim_1_key)"
            " where irf.media_type_key = 1 or irf.end_ts is not null"
        ).fetchall()
        irf_rows = conn.execute("select count(*) from infomart.interaction_resource_fact").fetchone()[0]  # type: ignore[index]
        per_table = {
            t: conn.execute(f"select count(*) from infomart.{t}").fetchone()[0]  # type: ignore[index]
            for t in ("irf_user_data_gen_1", "irf_user_data_cust_1", "irf_user_data_keys")
        }
        reported = dict(
            conn.execute("select column_name, values_cut from infomart.dq_user_data_truncations").fetchall()
        )
    for table, n in per_table.items():
        if n != irf_rows:
            raise Mismatch(
                f"{table} has {n:,} rows, INTERACTION_RESOURCE_FACT {irf_rows:,}: one row per IRF row"
            )
    actual = {}
    for r in rows:
        key = ("voice", r[1], r[2]) if r[0] == 1 else ("digital", r[1], r[3], _ts(r[4]))
        actual[key] = dict(zip(columns, r[5:], strict=True))
    _same_keys("user-data rows", expected, actual)
    cuts: dict[str, int] = {m["column"]: 0 for m in mapping}
    for key in sorted(expected):
        want, cut = expected_user_data(expected[key], mapping)
        for column, n in cut.items():
            cuts[column] += n
        if actual[key] != want:
            diff = {c: (want[c], actual[key][c]) for c in want if want[c] != actual[key][c]}
            raise Mismatch(
                f"user data of IRF row {key}: (ledger, mart) differ in {diff}"
                f"\nledger: CALL {expected[key]['user_data_call']}, PARTY {expected[key]['user_data_party']}"
                f"\nmart: {actual[key]}"
            )
    if reported != cuts:
        raise Mismatch(f"dq_user_data_truncations: reported {reported}, ledger {cuts}")
    return len(expected), cuts


def compare_digital_msf(dsn: str, ledger_dir: Path) -> int:
    """Every ended digital MSF row (one per stay in an interaction queue) equals the ledger's
    (digital_segments), keyed by (itx_id, START_TS); a Diverted row's target is the IRF row of the
    offer the ledger names (agent, Offered)."""
    expected = {(r["itx_id"], r["start_ts"]): r for r in _ledger(ledger_dir, "digital_segments.ndjson")}
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select msf.media_server_ixn_id, msf.start_ts, lower(mt.media_name_code), msf.queue_name,"
            " msf.end_ts, msf.mediation_duration_ms, msf.mediation_duration, msf.technical_result,"
            " msf.short_abandoned_flag, target.agent_id, target.start_ts"
            " from infomart.mediation_segment_fact as msf"
            " join infomart.media_type as mt using (media_type_key)"
            " left join infomart.interaction_resource_fact as target"
            " on target.interaction_resource_id = msf.target_ixn_resource_id"
            f" where msf.media_type_key in {DIGITAL_MEDIA} and msf.end_ts is not null"
        ).fetchall()
    actual = {(r[0], _ts(r[1])): r[2:] for r in rows}
    _same_keys("digital MSF", expected, actual)
    for key in sorted(expected):
        e = expected[key]
        want = (
            e["media_type"],
            e["queue"],
            e["end_ts"],
            e["duration_ms"],
            seconds(e["duration_ms"]),
            e["technical_result"],
            1 if e["short_abandoned"] else 0,
            e["target_agent_id"],
            e["target_offered_ts"],
        )
        a = actual[key]
        got = (a[0], a[1], _ts(a[2]), a[3], a[4], a[5], a[6], a[7], _ts(a[8]))
        if got != want:
            raise Mismatch(f"digital MSF {key}: ledger {want}, mart {got}")
    return len(expected)


def compare_contact_attempts(dsn: str, ledger_dir: Path) -> int:
    """Every CONTACT_ATTEMPT_FACT row equals the ledger's attempt (contact_attempts), keyed by the
    attempt's call_id; the agent party is compared through the IRF row it points at."""
    expected = {r["call_id"]: r for r in _ledger(ledger_dir, "contact_attempts.ndjson")}
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select a.media_server_ixn_id, a.campaign_id, a.record_id, a.chain_id, a.contact_info,"
            " a.attempt_number, a.start_ts, a.end_ts, a.call_result, a.dialing_mode, a.record_disposition,"
            " irf.party_id, a.attempt_duration, a.call_result_key, a.active_flag"
            " from infomart.contact_attempt_fact as a left join infomart.interaction_resource_fact as irf"
            " on irf.interaction_resource_id = a.interaction_resource_id"
        ).fetchall()
        result_keys = dict(conn.execute("select call_result, call_result_key from infomart.call_result"))
    actual = {r[0]: r[1:] for r in rows}
    _same_keys("CONTACT_ATTEMPT_FACT", expected, actual)
    for key in sorted(expected):
        e = expected[key]
        duration = None
        if e["end_ts"] is not None:
            duration = seconds(
                int(
                    (datetime.fromisoformat(e["end_ts"]) - datetime.fromisoformat(e["start_ts"]))
                    / timedelta(milliseconds=1)
                )
            )
        want = (
            e["campaign_id"],
            e["record_id"],
            e["chain_id"],
            e["contact"],
            e["attempt"],
            e["start_ts"],
            e["end_ts"],
            e["call_result"],
            e["dialing_mode"],
            e["record_disposition"],
            e["agent_party_id"],
            duration,
            result_keys.get(e["call_result"], -1),
            1 if e["end_ts"] is None else 0,
        )
        a = actual[key]
        got = (*a[:5], _ts(a[5]), _ts(a[6]), *a[7:])
        if got != want:
            raise Mismatch(f"CONTACT_ATTEMPT_FACT {key}: ledger {want}, mart {got}")
    return len(expected)


def compare_campaign_group_sessions(dsn: str, ledger_dir: Path) -> int:
    expected = {
        (r["campaign_id"], r["start_ts"]): r for r in _ledger(ledger_dir, "campaign_group_sessions.ndjson")
    }
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select campaign_id, start_ts, campaign_group, dialing_mode, end_ts"
            " from infomart.campaign_group_session_fact"
        ).fetchall()
    actual = {(r[0], _ts(r[1])): (r[2], r[3], _ts(r[4])) for r in rows}
    _same_keys("CAMPAIGN_GROUP_SESSION_FACT", expected, actual)
    for key, e in expected.items():
        if actual[key] != (e["group"], e["dialing_mode"], e["end_ts"]):
            raise Mismatch(f"CAMPAIGN_GROUP_SESSION_FACT {key}: ledger {e}, mart {actual[key]}")
    return len(expected)


def _same_keys(what: str, expected: dict, actual: dict) -> None:
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing or extra:
        raise Mismatch(
            f"{what} rows: {len(actual)} built, {len(expected)} in the ledger; missing {len(missing)} "
            f"(first {missing[:3]}), extra {len(extra)} (first {extra[:3]})"
        )


def compare_interactions(dsn: str, ledger_dir: Path, call_timeout_hours: int = 4) -> int:
    """Every INTERACTION_FACT row against the ledger. A thread that lost its CallEnded is closed
    at its last event only once the timeout has passed (MEASURES.md): until then the mart shows
    it active with no end, where the ledger (which knows the call is over) shows it completed."""
    expected = {r["interaction_key"]: r for r in _ledger(ledger_dir, "interactions.ndjson")}
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select f.media_server_root_ixn_id, lower(m.media_name_code), f.start_ts, f.end_ts,"
            " f.source_address, f.target_address, f.status, i.interaction_type"
            " from infomart.interaction_fact f join infomart.media_type m using (media_type_key)"
            " left join infomart.interaction_type i using (interaction_type_key)"
        ).fetchall()
        now = conn.execute("select max(event_ts) from staging.stg_events__voice_callthread").fetchone()[0]  # type: ignore[index]
    actual = {r[0]: r[1:] for r in rows}
    if set(actual) != set(expected):
        raise Mismatch(
            f"INTERACTION_FACT rows: {len(actual)} built, {len(expected)} in the ledger; missing "
            f"{sorted(set(expected) - set(actual))[:3]}, extra {sorted(set(actual) - set(expected))[:3]}"
        )
    for key in sorted(expected):
        e = expected[key]
        end, status = e["end_ts"], e["status"]
        if e["media_type"] == "voice" and e["call_ended"] is False:
            last = actual[key][2]
            if last is None or _ts(last) != end:
                last_event = datetime.fromisoformat(end.replace("Z", "+00:00"))
                if last_event > now - timedelta(hours=call_timeout_hours):
                    end, status = None, "active"
        want = (e["media_type"], e["start_ts"], end, e["source_address"], e["target_address"], status,
                e["interaction_type"])  # fmt: skip
        a = actual[key]
        got = (a[0], _ts(a[1]), _ts(a[2]), a[3], a[4], a[5], a[6])
        if got != want:
            raise Mismatch(f"INTERACTION_FACT {key}: ledger {want}, mart {got}")
    return len(expected)


# interval-ledger file -> (aggregate table, name column of the resource, key columns besides the interval)
AGGREGATES_COMPARED = {
    "queue_intervals": ("ag2_queue_subhr", "queue", ["service_level_threshold", "short_abandon_threshold"]),
    "agent_intervals": ("ag2_agent_subhr", "agent_id", []),
    "agent_state_intervals": ("ag2_i_sess_state_subhr", "agent_id", []),
}
_RATIOS = ("service_level", "occupancy")
_NOT_COMPARED = (
    "date_time_key",
    "interval_start_ts",
    "interval_start_local",
    "media_type",
    "interaction_type",
)


def aggregate_rows(dsn: str, table: str, name_column: str, extra: list[str]) -> dict[tuple, dict[str, Any]]:
    """Rows of an ag2 subhr table by (media, date_time_key, resource name, interaction type, *extra)."""
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(
            f"select a.*, r.resource_name as {name_column}, it.interaction_type as interaction_type_name,"
            " lower(mt.media_name_code) as media_name"
            f" from infomart.{table} a join infomart.resource_ r using (resource_key)"
            " join infomart.media_type mt on mt.media_type_key = a.media_type_key"
            " left join infomart.interaction_type it"
            f" on it.interaction_type_key = {'a.interaction_type_key' if 'state' not in table else '-99'}"
        )
        names = [d.name for d in cur.description]  # type: ignore[union-attr]
        out = {}
        for values in cur.fetchall():
            row = dict(zip(names, values, strict=True))
            thresholds = tuple(float(row[c]) for c in extra)
            key = (row["media_name"], row["date_time_key"], row[name_column], row["interaction_type_name"])
            out[(*key, *thresholds)] = row
        return out


def compare_aggregates(dsn: str, ledger_dir: Path, ledger_file: str) -> tuple[int, int]:
    """Every row of the ledger file (voice and digital media) equals its ag2 subhr row, cell by
    cell, and the table has no other row. Returns (rows, cells) compared."""
    table, name_column, extra = AGGREGATES_COMPARED[ledger_file]
    want = _ledger(ledger_dir, f"{ledger_file}.ndjson")
    got = aggregate_rows(dsn, table, name_column, extra)
    cells, seen = 0, set()
    for w in want:
        key = (
            w["media_type"], w["date_time_key"], w[name_column], w.get("interaction_type"),
            *(float(w[c]) for c in extra),
        )  # fmt: skip
        row = got.get(key)
        if row is None:
            raise Mismatch(f"{table}: no row for the ledger's {w}")
        seen.add(key)
        for column, value in w.items():
            if column not in row or column in _NOT_COMPARED:
                continue
            if column in _RATIOS:
                ok = (value is None and row[column] is None) or (
                    value is not None and row[column] is not None and abs(value - row[column]) < 1e-9
                )
            else:
                ok = row[column] == value or (value is not None and float(row[column]) == float(value))
            if not ok:
                raise Mismatch(f"{table}.{column} differs:\n ledger {w}\n table  {row}")
            cells += 1
    if set(got) - seen:
        raise Mismatch(f"{table}: rows not in the ledger: {sorted(set(got) - seen)[:3]}")
    return len(want), cells


if __name__ == "__main__":
    dsn, ledger = sys.argv[1], Path(sys.argv[2])
    print("IRF rows equal to the ledger:", compare_irf(dsn, ledger))
    print("MSF rows equal to the ledger:", compare_msf(dsn, ledger))
    print("digital IRF rows equal to the ledger:", compare_digital_irf(dsn, ledger))
    print("digital MSF rows equal to the ledger:", compare_digital_msf(dsn, ledger))
    print("CONTACT_ATTEMPT_FACT rows equal to the ledger:", compare_contact_attempts(dsn, ledger))
    print(
        "CAMPAIGN_GROUP_SESSION_FACT rows equal to the ledger:", compare_campaign_group_sessions(dsn, ledger)
    )
    print("INTERACTION_FACT rows equal to the ledger:", compare_interactions(dsn, ledger))
    for name in AGGREGATES_COMPARED:
        print(
            f"{AGGREGATES_COMPARED[name][0]} rows, cells equal to the ledger:",
            compare_aggregates(dsn, ledger, name),
        )
