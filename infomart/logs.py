"""Logs: human-readable by default (rich, on stderr); with ``INFOMART_LOG_FORMAT=json`` one JSON
object per line on stdout, with the tenant and the job, cycle and job run the line belongs to.

The job and cycle come from :func:`log_context`, which the loop (pipeline/cycle.py) and every job
run (pipeline/control.py) enter; a line logged outside them has only the tenant.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

import orjson

_context: ContextVar[dict[str, object]] = ContextVar("infomart_log_context", default={})  # noqa: B039


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add ``fields`` (job, cycle, job_run_id ...) to every line logged inside the block."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, tenant: str) -> None:
        super().__init__()
        self.tenant = tenant

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "tenant": self.tenant,
            **_context.get(),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def use_json_logs(tenant: str, stream: IO[str] | None = None) -> logging.Handler:
    """Replace the root logger's handlers by one writing JSON lines to ``stream`` (stdout)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(tenant))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    return handler
