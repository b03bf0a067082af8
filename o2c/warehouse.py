"""The DuckDB warehouse: where the file is, how it is opened, and its numbered migrations.

DuckDB allows one writing process per file, so nothing here keeps a connection open:
every caller opens, works and closes inside one `with connect(...)` block.
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

from o2c.locking import warehouse_lock

DEFAULT_DB = Path("data/o2c.duckdb")
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: the explicit path, else $O2C_DB, else ./data/o2c.duckdb."""
    return Path(explicit or os.environ.get("O2C_DB") or DEFAULT_DB)


@contextmanager
def connect(
    path: str | os.PathLike[str] | None = None, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating its folder), migrated to the latest schema; close it after.

    The warehouse lock (o2c.locking) is held around the connection, shared to read, exclusive
    to write, so a reader waits for a writer instead of failing on DuckDB's own file lock; inside
    `warehouse_writer` the same thread already holds it and goes straight through.
    """
    target = db_path(path)
    if read_only and not target.exists():
        raise FileNotFoundError(f"no warehouse at {target}: run `o2c init` first")
    target.parent.mkdir(parents=True, exist_ok=True)
    with warehouse_lock(target, exclusive=not read_only):
        con = duckdb.connect(str(target), read_only=read_only)
        try:
            if not read_only:
                migrate(con)
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


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations this file has not seen yet, each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()}
    applied = []
    for m in migrations():
        if m.version in done:
            continue
        with transaction(con):
            con.execute(m.sql)
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
    return int(scalar(con, "SELECT nextval('load_batch_seq')"))


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
