"""Report render benchmark (on demand, not a test):
``python benchmarks/bench_reports.py --dsn "host=/tmp/imtbench-.../pg dbname=... user=postgres"``.

Serves the report app (as `infomart serve` does, through the read-only role) on a loopback port
and times the whole HTTP render of every report (query, chart, table, template): a day of
quarter hours (the target: under 1 s), and a month at day level. Point it at a built mart, e.g.
the one ``bench_transform.py --history 5000000 --keep`` leaves running. Prints the median and the
slowest of ``--repeat`` renders per report, the rows shown, and the query's share.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reporting.access import reader_dsn  # noqa: E402
from reporting.app import ServeConfig, create_app  # noqa: E402
from reporting.catalog import REPORTS  # noqa: E402


def _serve(config: ServeConfig) -> tuple[uvicorn.Server, str]:
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def _render(url: str) -> tuple[float, str]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as resp:
        body = resp.read().decode()
    return time.perf_counter() - started, body


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dsn", required=True, help="the Info Mart's DSN (the reader role is derived from it)")
    p.add_argument("--day", help="the day to report (default: the latest day with interactions)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--zone", default="UTC")
    args = p.parse_args()
    with psycopg.connect(args.dsn) as conn:
        events = conn.execute("select count(*) from staging.stg_events__voice_callthread").fetchone()[0]  # type: ignore[index]
        latest = conn.execute("select max(interval_start_ts) from infomart.ag2_id_day").fetchone()[0]  # type: ignore[index]
    day = date.fromisoformat(args.day) if args.day else latest.date()
    config = ServeConfig(
        reader_dsn(args.dsn), ZoneInfo(args.zone), "bench", 80.0, Path("/nonexistent"), Path("/nonexistent")
    )
    server, base = _serve(config)
    print(f"mart: {events:,} voice call events in staging; day {day}; {args.repeat} renders each")
    views = {
        "a day of quarter hours": f"from={day}&level=subhr",
        "a month by day": f"from={day - timedelta(days=29)}&to={day}&level=day",
    }
    try:
        for label, query in views.items():
            print(f"\n{label} ({query})")
            print(f"{'report':28} {'median s':>9} {'max s':>7} {'rows':>6}")
            for report in REPORTS:
                url = f"{base}/reports/{report.slug}?{query}"
                _render(url)  # warm: connection, plans, plotly figure code
                times, body = [], ""
                for _ in range(args.repeat):
                    seconds, body = _render(url)
                    times.append(seconds)
                rows = max(body.count("<tr>") - 1, 0)
                print(f"{report.title:28} {statistics.median(times):9.3f} {max(times):7.3f} {rows:6d}")
    finally:
        server.should_exit = True


if __name__ == "__main__":
    main()
