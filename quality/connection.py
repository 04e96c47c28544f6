"""The SQLAlchemy URL of the Info Mart database, from the psycopg DSN the project resolves.

Both DSN forms (URI and key=value) are read by libpq's own parser. A unix-socket host (a folder)
goes into the URL's query, where the psycopg dialect passes it to libpq unchanged (an empty host
in the URL part means the default socket): ``postgresql+psycopg://user@/db?host=/socket/dir``.
"""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import URL

DRIVER = "postgresql+psycopg"


def sqlalchemy_url(dsn: str) -> str:
    """The DSN as a SQLAlchemy URL string, password included (keep it out of files and logs)."""
    info = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    user = info.pop("user", None)
    password = info.pop("password", None)
    database = info.pop("dbname", None)
    host = info.get("host", "")
    port: int | None = None
    if host and not host.startswith("/") and "," not in host:
        info.pop("host")
        port = int(info.pop("port")) if "port" in info else None
    else:
        host = ""
    url = URL.create(
        DRIVER,
        username=user,
        password=password,
        host=host or None,
        port=port,
        database=database,
        query=info,
    )
    return url.render_as_string(hide_password=False)
