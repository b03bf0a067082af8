"""A DuckLake catalog on PostgreSQL as the warehouse: how it is named, opened and migrated.

`O2C_DB=ducklake:postgres:dbname=o2c host=db.internal user=o2c` names the catalog (libpq's
key=value string; the password comes from `PGPASSWORD` or `~/.pgpass`, never from a file in the
repository), `O2C_LAKE_DATA_PATH` the folder (or object-store prefix) every machine reads the
Parquet files from, and `O2C_LAKE_SCHEMA` optionally the PostgreSQL schema holding the catalog,
so one database serves several warehouses (entities, test runs). A connection is an in-memory
DuckDB with the catalog attached and in use, so every query of o2c runs unchanged.

DuckLake stores no PRIMARY KEY, UNIQUE or CHECK constraint, no index and no sequence. The
migrations are written for DuckDB and lose those here (`without_constraints`); what they
guarded is kept by o2c itself: keys by the loaders' anti-joins, one writer at a time by the
warehouse's Prefect slot (o2c.concurrency), which every machine shares. That slot is needed, not
only polite: DuckLake lets two transactions append to one table without a conflict, so two
loaders checking "is this line new?" at once would both insert it.

The extension binaries come from the `duckdb-extension-ducklake` and
`duckdb-extension-postgres-scanner` packages (pinned with duckdb), since DuckDB's own extension
site need not be reachable from a worker.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

PREFIX = "ducklake:"
DATA_PATH_ENV = "O2C_LAKE_DATA_PATH"
SCHEMA_ENV = "O2C_LAKE_SCHEMA"
HOME_ENV = "O2C_HOME"
ALIAS = "lake"
_EXTENSIONS = {
    "ducklake": "duckdb_extension_ducklake",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}
_PASSWORD = re.compile(r"(password\s*=\s*)(\S+)", re.IGNORECASE)


class LakeSettingsError(ValueError):
    """The DuckLake warehouse is named without what it needs (its data path)."""


def is_lake(where: str | os.PathLike[str]) -> bool:
    return str(where).startswith(PREFIX)


@dataclass(frozen=True)
class LakeSettings:
    data_path: str  # "" when not set: an error on opening, not on naming
    schema: str  # "" for the catalog's default schema


def settings(where: str) -> LakeSettings:
    """The data path and catalog schema that go with a catalog (from the environment)."""
    data = os.environ.get(DATA_PATH_ENV, "").strip()
    if data and not data.endswith("/"):
        data += "/"
    return LakeSettings(data_path=data, schema=os.environ.get(SCHEMA_ENV, "").strip())


def identity(where: str) -> str:
    """One key per catalog and schema, however many machines open it: 12 hex characters."""
    return hashlib.sha256(f"{where}|{settings(where).schema}".encode()).hexdigest()[:12]


def stand_in(where: str) -> Path:
    """This machine's local file for a lake warehouse: `<O2C_HOME or data>/lake-<id>.ducklake`.

    Never opened as a database: the flock, the `.slot` marker and the folders beside the
    warehouse (reports, mail, letters) hang off it, as they hang off a DuckDB file. Its name
    carries the catalog's identity, so every machine derives the same Prefect slot from it.
    """
    home = Path(os.environ.get(HOME_ENV, "").strip() or "data")
    return home / f"lake-{identity(where)}.ducklake"


def describe(where: str) -> str:
    """The catalog as a person reads it: password hidden, schema and data path said."""
    text = _PASSWORD.sub(r"\1***", where)
    found = settings(where)
    schema = f" schema {found.schema}" if found.schema else ""
    return f"{text}{schema} · data {found.data_path or '(no data path)'}"


def _load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    for name, package in _EXTENSIONS.items():
        binary = _binary(name, package)
        con.execute(f"LOAD '{binary}'" if binary else f"LOAD {name}")


def _binary(name: str, package: str) -> Path | None:
    """The extension file the pinned wheel ships for this DuckDB, or None (then DuckDB's own)."""
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        return None
    found = Path(str(root)) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    return found if found.exists() else None


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open(where: str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the catalog attached as `lake` and in use."""
    found = settings(where)
    if not found.data_path:
        raise LakeSettingsError(
            f"O2C_DB names a DuckLake catalog but {DATA_PATH_ENV} is not set: give the folder"
            " (shared by every machine) where its Parquet files live"
        )
    options = [f"DATA_PATH {_quoted(found.data_path)}"]
    if found.schema:
        options.append(f"METADATA_SCHEMA {_quoted(found.schema)}")
    if read_only:
        options.append("READ_ONLY")
    con = duckdb.connect()
    try:
        _load_extensions(con)
        con.execute(f"ATTACH {_quoted(where)} AS {ALIAS} ({', '.join(options)})")
        con.execute(f"USE {ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


# ----------------------------------------------------------------------------------------------
# The migrations, without what DuckLake cannot store
# ----------------------------------------------------------------------------------------------

_DROPPED_STATEMENTS = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b|^\s*CREATE\s+SEQUENCE\b|^\s*DROP\s+SEQUENCE\b"
    r"|^\s*DROP\s+INDEX\b",
    re.IGNORECASE,
)
_INLINE = re.compile(r"\s+(?:PRIMARY\s+KEY|UNIQUE)\b(?!\s*\()", re.IGNORECASE)
_TABLE_LEVEL = re.compile(
    r",\s*(?:CONSTRAINT\s+\w+\s+)?(?:PRIMARY\s+KEY|UNIQUE|CHECK|FOREIGN\s+KEY)\s*(?=\()",
    re.IGNORECASE,
)
_CHECK = re.compile(r"\s+(?:CONSTRAINT\s+\w+\s+)?CHECK\s*(?=\()", re.IGNORECASE)
_REFERENCES = re.compile(r"\s+REFERENCES\s+\w+\s*(?=\()", re.IGNORECASE)


def without_constraints(sql: str) -> str:
    """The migration for DuckLake: no index, sequence, key, UNIQUE, CHECK or REFERENCES.

    Statements are split on `;` outside quotes and parentheses; a clause's parenthesised part is
    cut with its balanced parentheses, so CHECK (x IN ('a', 'b')) goes whole.
    """
    out = [_one(s) for s in _statements(sql) if not _DROPPED_STATEMENTS.match(s)]
    return ";\n".join(out) + (";\n" if out else "")


_LITERAL = re.compile(r"'(?:[^']|'')*'")
_HELD = re.compile(r"\x00(\d+)\x00")


def _one(statement: str) -> str:
    literals = _LITERAL.findall(statement)  # set aside, so a default's words stay whole
    held = iter(range(len(literals)))
    text = _LITERAL.sub(lambda _: f"\x00{next(held)}\x00", statement)
    text = _cut_with_parens(text, _TABLE_LEVEL)
    text = _cut_with_parens(text, _CHECK)
    text = _cut_with_parens(text, _REFERENCES)
    text = _INLINE.sub("", text)
    return _HELD.sub(lambda m: literals[int(m[1])], text)


def _statements(sql: str) -> list[str]:
    """The statements of a script, comments dropped, split on `;` outside quotes and parens."""
    parts, current, depth, quote, i = [], [], 0, False, 0
    while i < len(sql):
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i) and not quote:
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
            continue
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        elif not quote and depth == 0 and ch == ";":
            parts.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _cut_with_parens(text: str, clause: re.Pattern[str]) -> str:
    """Cut each match of `clause` with the balanced parentheses after it (quotes set aside)."""
    while match := clause.search(text):
        depth, i = 0, match.end()
        while i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0 and text[i] == ")":
                break
            i += 1
        text = text[: match.start()] + text[i + 1 :]
    return text
