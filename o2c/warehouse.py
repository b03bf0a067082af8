"""The warehouse: where it is, how it is opened, and its numbered migrations.

Two places, one code path. The embedded default is a DuckDB file, which allows one writing
process, so nothing here keeps a connection open: every caller opens, works and closes inside one
`with connect(...)` block. Past one machine, `O2C_DB=ducklake:postgres:...` names a DuckLake
catalog on PostgreSQL with its data as Parquet files under `O2C_LAKE_DATA_PATH` (o2c.lake), which
processes on several machines open at once. Every query is the same on both; the migrations are
written for DuckDB and lose, on the lake, the constraints DuckLake cannot store (o2c.lake).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb

from o2c import lake
from o2c.locking import warehouse_lock

DEFAULT_DB = Path("data/o2c.duckdb")
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def location(explicit: str | os.PathLike[str] | None = None) -> str:
    """Where the warehouse is: the explicit value, else $O2C_DB, else ./data/o2c.duckdb."""
    return str(explicit or os.environ.get("O2C_DB") or DEFAULT_DB)


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file, or for a DuckLake catalog the local stand-in file (o2c.lake): the
    lock, the slot marker and the folders beside the warehouse (reports, mail, letters) hang
    off this path either way."""
    where = location(explicit)
    return lake.stand_in(where) if lake.is_lake(where) else Path(where)


def describe(explicit: str | os.PathLike[str] | None = None) -> str:
    """The warehouse as a person reads it, with no password."""
    where = location(explicit)
    return lake.describe(where) if lake.is_lake(where) else str(Path(where))


@contextmanager
def connect(
    path: str | os.PathLike[str] | None = None, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating its folder), migrated to the latest schema; close it after.

    The warehouse lock (o2c.locking) is held around the connection, shared to read, exclusive
    to write, so a reader waits for a writer instead of failing on DuckDB's own file lock; inside
    `warehouse_writer` the same thread already holds it and goes straight through.
    """
    where = location(path)
    target = db_path(where)
    on_lake = lake.is_lake(where)
    if read_only and not on_lake and not target.exists():
        raise FileNotFoundError(f"no warehouse at {target}: run `o2c init` first")
    target.parent.mkdir(parents=True, exist_ok=True)
    if on_lake:
        target.touch()  # the stand-in says "a warehouse is here" as a DuckDB file would
    with warehouse_lock(target, exclusive=not read_only):
        con = (
            lake.open(where, read_only=read_only)
            if on_lake
            else duckdb.connect(str(target), read_only=read_only)
        )
        try:
            if not read_only:
                migrate(con, on_lake=on_lake)
            yield con
        finally:
            con.close()


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The numbered files of sql/, in order."""
    found = []
    for entry in resources.files("o2c.sql").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def migrate(con: duckdb.DuckDBPyConnection, *, on_lake: bool = False) -> list[int]:
    """Apply the migrations this warehouse has not seen yet, each in its own transaction."""
    ledger = (
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    con.execute(lake.without_constraints(ledger) if on_lake else ledger)
    done = {row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()}
    applied = []
    for m in migrations():
        if m.version in done:
            continue
        with transaction(con):
            con.execute(lake.without_constraints(m.sql) if on_lake else m.sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)", [m.version, m.name, datetime.now()]
            )
        applied.append(m.version)
    return applied


def first_row(
    con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None
) -> tuple | None:
    """The first row of a query, reading the result to its end.

    DuckDB 2 refuses the next statement on a connection whose last result was not read
    to the end, so `fetchone()` is a trap; this is the one place that works around it.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None):
    row = first_row(con, sql, params)
    return row[0] if row else None


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    return int(scalar(con, "SELECT max(version) FROM schema_version") or 0)


def new_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    return next_number(con, "load_batch")


def next_number(con: duckdb.DuckDBPyConnection, counter: str) -> int:
    """The next number of a counter (sql/021): a row rather than a sequence, which DuckLake has
    not. Inside a transaction the number is the caller's alone: a second writer's update of the
    same row waits (DuckDB file) or fails its commit (DuckLake), never hands it out twice."""
    with transaction(con):
        con.execute("UPDATE counters SET value = value + 1 WHERE name = ?", [counter])
        value = scalar(con, "SELECT value FROM counters WHERE name = ?", [counter])
    if value is None:
        raise KeyError(f"no counter {counter!r} in the warehouse (sql/021)")
    return int(value)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB transaction around the block: committed at its end, rolled back if it raises.

    Every load and write is all-or-nothing; this is the one place that says how, so no caller
    hand-writes BEGIN/COMMIT/ROLLBACK (and forgets the ROLLBACK on an interrupt). DuckDB has no
    nested transactions, so an inner block joins the outer one: a caller can make one fact out of
    two writers' work (a load and its cursor move), and either both land or neither.
    """
    if id(con) in _IN_TRANSACTION:
        yield con
        return
    con.execute("BEGIN TRANSACTION")
    _IN_TRANSACTION.add(id(con))
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        _IN_TRANSACTION.discard(id(con))


# Connections inside `transaction` (by id: DuckDB connections take no attributes or weak refs).
_IN_TRANSACTION: set[int] = set()


def replace_row(
    con: duckdb.DuckDBPyConnection, table: str, key: dict[str, object], values: dict[str, object]
) -> None:
    """Put one row in place of the row with this key (if any), in one transaction: the upsert
    both warehouses run, DuckLake having no key for ON CONFLICT. Names are the caller's own
    constants, never input."""
    row = {**key, **values}
    with transaction(con):
        where = " AND ".join(f"{k} = ?" for k in key)
        con.execute(f"DELETE FROM {table} WHERE {where}", list(key.values()))
        con.execute(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            list(row.values()),
        )


def has_tables(con: duckdb.DuckDBPyConnection, *names: str) -> bool:
    """Whether all these tables exist: commands that read a feature's tables (dunning, letters)
    say "nothing yet" on a warehouse where that feature never ran, instead of failing."""
    found = scalar(
        con,
        "SELECT count(DISTINCT table_name) FROM information_schema.tables"
        " WHERE table_name IN (SELECT unnest($names))",
        {"names": list(names)},
    )
    return found == len(set(names))
