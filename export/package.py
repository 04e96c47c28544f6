"""One export's files, made from the tables of one database snapshot: per table a UTF-8 CSV (in
``data.zip``) and the same rows as Parquet, and the manifest that lists them.

A table is read once, with PostgreSQL's COPY, into the CSV; the Parquet file is made from that CSV
with the column types of the table (pyarrow's streaming CSV reader), so both hold exactly the same
rows and values. Times are written in ISO 8601 (``2026-03-02T09:15:00.250000Z``, UTC), booleans as
``t``/``f``, NULL as an empty field, an empty string as ``""``.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg import sql

#: PostgreSQL type -> Parquet (Arrow) type; anything else is a string
ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "smallint": pa.int16(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "numeric": pa.decimal128(38, 6),
    "double precision": pa.float64(),
    "real": pa.float32(),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    "timestamp without time zone": pa.timestamp("us"),
}


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str


@dataclass(frozen=True)
class TableExtract:
    """What to read of one table: all of it, or the rows changed in an audit-key range."""

    name: str
    columns: tuple[Column, ...]
    audit_range: tuple[int, int] | None = None  # (low, high]: update_audit_key in it (low 0: up to high)

    @property
    def kind(self) -> str:
        return "full" if self.audit_range is None else "incremental"

    def query(self, schema: str) -> sql.Composable:
        shown = sql.SQL(", ").join(_shown(c) for c in self.columns)
        query = sql.SQL("select {} from {}").format(shown, sql.Identifier(schema, self.name))
        if self.audit_range is not None:
            low, high = self.audit_range
            # the first export (low 0) takes every row up to high, those built by dbt alone (key 0) too
            query += sql.SQL(" where update_audit_key <= {}").format(sql.Literal(high))
            if low > 0:
                query += sql.SQL(" and update_audit_key > {}").format(sql.Literal(low))
        order = sql.SQL(", ").join(sql.Literal(i + 1) for i in range(len(self.columns)))
        return query + sql.SQL(" order by {}").format(order)


def _shown(column: Column) -> sql.Composable:
    name = sql.Identifier(column.name)
    if column.data_type == "timestamp with time zone":
        fmt = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
        return sql.SQL("to_char({} at time zone 'UTC', {}) as {}").format(name, sql.Literal(fmt), name)
    if column.data_type == "timestamp without time zone":
        return sql.SQL("to_char({}, {}) as {}").format(name, sql.Literal('YYYY-MM-DD"T"HH24:MI:SS.US'), name)
    return name


@dataclass
class TableFiles:
    name: str
    kind: str
    rows: int
    csv: Path
    parquet: Path
    columns: tuple[Column, ...]
    csv_sha256: str = ""
    parquet_sha256: str = ""


@dataclass
class Package:
    """The files of one export under a local folder: ``data.zip`` and ``parquet/<table>.parquet``."""

    folder: Path
    tables: list[TableFiles] = field(default_factory=list)

    @property
    def zip_path(self) -> Path:
        return self.folder / "data.zip"

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_table(conn: psycopg.Connection, schema: str, extract: TableExtract, folder: Path) -> TableFiles:
    """The table's rows into ``<folder>/<name>.csv`` and ``<folder>/parquet/<name>.parquet``."""
    csv_path = folder / f"{extract.name}.csv"
    header = ",".join(c.name for c in extract.columns).encode() + b"\n"
    with open(csv_path, "wb") as out:
        out.write(header)
        copy = sql.SQL("copy ({}) to stdout with (format csv)").format(extract.query(schema))
        with conn.cursor().copy(copy) as copying:
            for block in copying:
                out.write(block)
    parquet_path = folder / "parquet" / f"{extract.name}.parquet"
    parquet_path.parent.mkdir(parents=True, exist_ok=True)
    rows = _csv_to_parquet(csv_path, parquet_path, extract.columns)
    return TableFiles(
        extract.name,
        extract.kind,
        rows,
        csv_path,
        parquet_path,
        extract.columns,
        csv_sha256=sha256_of(csv_path),
        parquet_sha256=sha256_of(parquet_path),
    )


def arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    return pa.schema([(c.name, ARROW_TYPES.get(c.data_type, pa.string())) for c in columns])


def _csv_to_parquet(csv_path: Path, parquet_path: Path, columns: tuple[Column, ...]) -> int:
    """The CSV as Parquet with the table's types; the number of rows (a field may hold newlines,
    so the CSV reader counts them, not the line breaks)."""
    schema = arrow_schema(columns)
    reader = pa_csv.open_csv(
        csv_path,
        read_options=pa_csv.ReadOptions(block_size=8 << 20),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=schema,
            true_values=["t"],
            false_values=["f"],
            strings_can_be_null=True,  # an empty unquoted field is NULL, a quoted "" an empty string
            quoted_strings_can_be_null=False,
            timestamp_parsers=["%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S.%f", pa_csv.ISO8601],
        ),
    )
    rows = 0
    with pq.ParquetWriter(parquet_path, schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def zip_csvs(package: Package) -> None:
    """Every table's CSV into ``data.zip`` (deflated), then the loose CSVs removed."""
    with zipfile.ZipFile(package.zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for table in package.tables:
            archive.write(table.csv, arcname=table.csv.name)
    for table in package.tables:
        table.csv.unlink()
