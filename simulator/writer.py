"""Write a result to disk: ``<out>/<topic>.ndjson[.gz]`` per topic in delivery order, the ledger
under ``<out>/ledger/<name>.ndjson`` (one JSON object per line), ``<out>/ledger/summary.json``
and the configuration changes (not events: they are for the Configuration Database, see
cfgevents.py) in ``<out>/ledger/config_changes.ndjson``."""

from __future__ import annotations

import gzip as gzip_mod
from pathlib import Path
from typing import IO, TYPE_CHECKING

import orjson

from .emitter import TOPICS

if TYPE_CHECKING:
    from .simulation import SimulationResult


def _open(path: Path, compress: bool) -> IO[bytes]:
    if compress:
        # mtime=0: the same content gives the same bytes
        return gzip_mod.GzipFile(filename="", mode="wb", fileobj=open(path, "wb"), mtime=0)
    return open(path, "wb")


def write_ndjson(result: SimulationResult, out_dir: str | Path, gzip: bool = False) -> dict[str, Path]:
    """Write the archives and the ledger; returns the archive path per topic."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".ndjson.gz" if gzip else ".ndjson"
    paths = {t: out / f"{t}{suffix}" for t in TOPICS}
    files = {t: _open(p, gzip) for t, p in paths.items()}
    try:
        for d in result.deliveries:
            f = files[d.topic]
            f.write(d.value)
            f.write(b"\n")
    finally:
        for f in files.values():
            fileobj = getattr(f, "fileobj", None)
            f.close()
            if fileobj is not None:
                fileobj.close()
    ldir = out / "ledger"
    ldir.mkdir(exist_ok=True)
    for name, rows in result.ledger.files().items():
        with open(ldir / f"{name}.ndjson", "wb") as f:
            for r in rows:
                f.write(orjson.dumps(r))
                f.write(b"\n")
    with open(ldir / "config_changes.ndjson", "wb") as f:
        for c in result.config_changes:
            f.write(orjson.dumps(c.to_json()))
            f.write(b"\n")
    (ldir / "summary.json").write_bytes(orjson.dumps(result.summary, option=orjson.OPT_INDENT_2))
    return paths
