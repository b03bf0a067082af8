"""The audit log of dunning: every plan, approval, send, status change and exclusion, chained.

A reminder may end up before a judge, so what was sent, when, by which run and from which
template must be provable later. Each row keeps the flow run id, the template's and the rendered
content's sha256, and its own sha256 over the previous row's hash and its canonical content:
changing, inserting or deleting a row breaks the chain from there on, and `verify` names the
first row that no longer fits (the head kept in `audit_head` also catches rows cut off the end).
DuckDB has no triggers, so append-only is a convention the chain makes checkable, not a lock.

`record` appends inside the caller's transaction, so the fact and its audit row land together.
Payloads are plain JSON; a key that names a secret is refused, so no password or token can be
written here by mistake.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl

from o2c.models.dunning import AuditEvent
from o2c.warehouse import first_row, replace_row, transaction

GENESIS = "0" * 64  # the previous hash of the first row
_SECRET_KEY = re.compile(
    r"pass(word|wd)?$|secret|token|api[_-]?key|authori[sz]ation|credential|private[_-]?key",
    re.IGNORECASE,
)


class AuditError(ValueError):
    """A payload the audit log refuses (a secret, or a value JSON cannot hold exactly)."""


@dataclass(frozen=True)
class Entry:
    """One row to append: what `record` takes, for `record_many`."""

    event: AuditEvent
    subject: str
    payload: dict
    flow_run_id: str | None = None
    template_sha256: str | None = None
    content_sha256: str | None = None


@dataclass(frozen=True)
class Verification:
    """What `verify` found: how many rows it checked and, if any, the first broken one."""

    rows: int
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None and self.reason is None


def record(
    con: duckdb.DuckDBPyConnection,
    event: AuditEvent,
    subject: str,
    payload: dict,
    *,
    flow_run_id: str | None = None,
    template_sha256: str | None = None,
    content_sha256: str | None = None,
) -> int:
    """Append one row inside the caller's transaction (or its own); return its sequence number."""
    entry = Entry(event, subject, payload, flow_run_id, template_sha256, content_sha256)
    return record_many(con, [entry])[0]


def record_many(con: duckdb.DuckDBPyConnection, entries: Iterable[Entry]) -> list[int]:
    """Append several rows in one go (one transaction, one insert): a batch of sends is one
    short write, not one statement per email. Returns their sequence numbers in order."""
    entries = list(entries)
    if not entries:
        return []
    payloads = [canonical_payload(e.payload) for e in entries]  # refuse before writing anything
    with transaction(con):
        head = first_row(con, "SELECT seq, row_sha256 FROM audit_head WHERE id = 1")
        seq, prev = (int(head[0]), head[1]) if head else (0, GENESIS)
        now = datetime.now(UTC).replace(tzinfo=None)
        rows = []
        for entry, payload in zip(entries, payloads, strict=True):
            seq += 1
            row = {
                "seq": seq,
                "recorded_at": now,
                "event": AuditEvent(entry.event).value,
                "subject": str(entry.subject),
                "payload": payload,
                "flow_run_id": entry.flow_run_id,
                "template_sha256": entry.template_sha256,
                "content_sha256": entry.content_sha256,
                "prev_sha256": prev,
            }
            row["row_sha256"] = prev = row_hash(row)
            rows.append(row)
        _insert(con, rows)
        replace_row(con, "audit_head", {"id": 1}, {"seq": seq, "row_sha256": prev})
    return [r["seq"] for r in rows]


def _insert(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """One INSERT for the rows, through a Polars frame (a statement per row is slow in DuckDB)."""
    if len(rows) == 1:
        marks = ", ".join(["?"] * len(_ROW_SCHEMA))
        con.execute(
            f"INSERT INTO audit_log ({', '.join(_ROW_SCHEMA)}) VALUES ({marks})",
            [rows[0][c] for c in _ROW_SCHEMA],
        )
        return
    frame = pl.DataFrame(rows, schema=_ROW_SCHEMA)
    con.register("_audit_rows", frame)
    try:
        con.execute(f"INSERT INTO audit_log ({', '.join(_ROW_SCHEMA)}) SELECT * FROM _audit_rows")
    finally:
        con.unregister("_audit_rows")


_ROW_SCHEMA = {
    "seq": pl.Int64,
    "recorded_at": pl.Datetime("us"),
    "event": pl.String,
    "subject": pl.String,
    "payload": pl.String,
    "flow_run_id": pl.String,
    "template_sha256": pl.String,
    "content_sha256": pl.String,
    "prev_sha256": pl.String,
    "row_sha256": pl.String,
}


def canonical_payload(payload: dict) -> str:
    """The payload as canonical JSON (sorted keys, no spaces): the text the hash covers.

    Dates and Decimals are written as text; a key naming a secret is refused, whatever its value.
    """
    if not isinstance(payload, dict):
        raise AuditError(f"an audit payload is a dict, not {type(payload).__name__}")
    _refuse_secrets(payload, "payload")
    try:
        return json.dumps(
            payload,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_plain,
        )
    except (TypeError, ValueError) as exc:
        raise AuditError(f"audit payload not writable as JSON: {exc}") from None


def row_hash(row: dict[str, Any]) -> str:
    """sha256 over the previous row's hash and this row's canonical content."""
    content = json.dumps(
        [
            row["seq"],
            row["recorded_at"].isoformat(timespec="microseconds"),
            row["event"],
            row["subject"],
            row["payload"],
            row["flow_run_id"],
            row["template_sha256"],
            row["content_sha256"],
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{row['prev_sha256']}\n{content}".encode()).hexdigest()


def verify(con: duckdb.DuckDBPyConnection) -> Verification:
    """Recompute the chain from the first row; name the first row that does not fit.

    A row is broken when its sequence number skips (a row deleted before it), its previous hash
    is not the row before's, or its own hash does not match its content; the log is broken at
    its end when the head does not name the last row (rows cut off or appended off the chain).
    """
    cursor = con.execute(
        "SELECT seq, recorded_at, event, subject, payload, flow_run_id, template_sha256,"
        " content_sha256, prev_sha256, row_sha256 FROM audit_log ORDER BY seq"
    )
    names = [d[0] for d in cursor.description]
    expected_seq, prev, count = 1, GENESIS, 0
    while chunk := cursor.fetchmany(10_000):
        for values in chunk:
            row = dict(zip(names, values, strict=True))
            seq = row["seq"]
            count += 1
            if seq != expected_seq:
                return Verification(count, seq, f"row {expected_seq} is missing before row {seq}")
            if row["prev_sha256"] != prev:
                return Verification(count, seq, f"row {seq} does not follow row {seq - 1}")
            if row_hash(row) != row["row_sha256"]:
                return Verification(count, seq, f"row {seq} was changed after it was written")
            prev, expected_seq = row["row_sha256"], seq + 1
    head = first_row(con, "SELECT seq, row_sha256 FROM audit_head WHERE id = 1")
    head_seq, head_hash = (int(head[0]), head[1]) if head else (0, GENESIS)
    if (head_seq, head_hash) != (expected_seq - 1, prev):
        if head_seq >= expected_seq:
            reason = f"rows {expected_seq} to {head_seq} are missing from the end"
            return Verification(count, expected_seq, reason)
        return Verification(count, head_seq + 1, f"row {head_seq + 1} is past the recorded head")
    return Verification(count)


def _plain(value: object) -> str:
    if isinstance(value, (date, datetime)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        raise TypeError("a set has no stable order: give a sorted list")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _refuse_secrets(value: object, where: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if not isinstance(key, str):
                raise AuditError(f"{where}: key {key!r} is not text")
            if _SECRET_KEY.search(key):
                raise AuditError(f"{where}.{key}: an audit payload never holds a secret")
            _refuse_secrets(inner, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for n, inner in enumerate(value):
            _refuse_secrets(inner, f"{where}[{n}]")
