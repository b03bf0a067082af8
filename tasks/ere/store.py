"""The ERE letters in the warehouse: one row per formal notice, its PDF on disk, AR24's ids,
its state and its proofs, each step with its audit row (sql/017_ere_letters.sql).

The PDF is the evidence, so it is kept as sent: `<key>.pdf` in a folder beside the warehouse
(data/ere-letters/ by default), written to a temporary name, synced, then renamed, so a crash
leaves either no file or the whole one, and never rewritten with other bytes. The row keeps its
SHA-256 and `check_files` tells whether the files on disk still match their rows.

Every write here is one short transaction with its audit row (no network call inside: the AR24
client sends or downloads first, then these functions record what happened). Recording the same
fact twice is a no-op, so a retried task changes nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from o2c.models.dunning import AuditEvent, Communication
from o2c.tasks.connectors.ar24 import LetterState
from o2c.tasks.dunning import audit
from o2c.tasks.dunning.policy import load_policy
from o2c.tasks.dunning.settings import SenderSettings
from o2c.tasks.ere.letter import RenderedLetter, debtor_from_warehouse, render_letter
from o2c.warehouse import connect, db_path, first_row, transaction

LETTERS_DIR_NAME = "ere-letters"  # beside the warehouse file
RENDERED = "rendered"  # our status before AR24 has the letter; after, a LetterState value
STATUSES = (RENDERED, *(s.value for s in LetterState))


class LetterStoreError(ValueError):
    """A fact that contradicts what the warehouse holds (another PDF under the same key...)."""


@dataclass(frozen=True)
class FileProblem:
    """A letter or proof file that is missing or no longer has the SHA-256 recorded for it."""

    key: str
    what: str  # "letter" or "proof <kind>"
    path: str
    reason: str


def letters_dir(db: str | os.PathLike[str] | None = None) -> Path:
    """Where the letters' PDFs live: beside the warehouse file."""
    return db_path(db).parent / LETTERS_DIR_NAME


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """The file whole or not at all: written beside, synced, renamed over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def save_pdf(folder: Path, key: str, pdf: bytes) -> Path:
    """Keep a letter's PDF as `<key>.pdf`; the same bytes again is a no-op, other bytes an error
    (a letter that may have been sent is never replaced)."""
    path = folder / f"{key}.pdf"
    if path.exists():
        if sha256_file(path) == hashlib.sha256(pdf).hexdigest():
            return path
        raise LetterStoreError(
            f"{path}: a different PDF is already kept for letter {key}; a letter is never rewritten"
        )
    write_atomically(path, pdf)
    return path


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record_letter(
    con: duckdb.DuckDBPyConnection,
    communication: Communication,
    meta: RenderedLetter,
    pdf_path: Path,
    *,
    flow_run_id: str | None = None,
    now: datetime | None = None,
) -> bool:
    """The rendered letter's row and its audit row (with the PDF's SHA-256). False when the same
    letter is already recorded; an error when the key is recorded with another PDF."""
    when = now or _now()
    with transaction(con):
        row = first_row(con, "SELECT pdf_sha256 FROM ere_letters WHERE key = ?", [meta.key])
        if row is not None:
            if row[0] == meta.content_sha256:
                return False
            raise LetterStoreError(
                f"letter {meta.key} ({communication.customer_id}) is recorded with PDF "
                f"{row[0][:12]}..., not {meta.content_sha256[:12]}...: a letter is never rewritten"
            )
        con.execute(
            """INSERT INTO ere_letters (key, customer_id, as_of, language, currency,
                   claimed_cents, pdf_path, pdf_sha256, template_sha256, status, created_at,
                   updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                meta.key,
                communication.customer_id,
                communication.as_of,
                meta.language,
                communication.currency,
                meta.total_claimed_cents,
                pdf_path.name,
                meta.content_sha256,
                meta.template_sha256,
                RENDERED,
                when,
                when,
            ],
        )
        audit.record(
            con,
            AuditEvent.PLAN,
            meta.key,
            {
                "ere": "letter_rendered",
                "customer_id": communication.customer_id,
                "file": pdf_path.name,
                "pdf_sha256": meta.content_sha256,
                "claimed_cents": meta.total_claimed_cents,
                "currency": communication.currency,
            },
            flow_run_id=flow_run_id,
            template_sha256=meta.template_sha256,
            content_sha256=meta.content_sha256,
        )
    return True


def _letter(con: duckdb.DuckDBPyConnection, key: str) -> tuple:
    row = first_row(
        con,
        "SELECT status, ar24_mail_id, ar24_attachment_id, ar24_status FROM ere_letters"
        " WHERE key = ?",
        [key],
    )
    if row is None:
        raise LetterStoreError(f"no ERE letter with key {key!r} in ere_letters")
    return row


def mark_sent(
    con: duckdb.DuckDBPyConnection,
    key: str,
    *,
    mail_id: str,
    attachment_id: str | None,
    ar24_status: str,
    state: LetterState,
    flow_run_id: str | None = None,
    now: datetime | None = None,
) -> bool:
    """AR24 took the letter: its ids and first state. False when already recorded with those ids;
    an error when the letter is recorded under another AR24 id (it would be two letters)."""
    when = now or _now()
    with transaction(con):
        status, known_mail, _, _ = _letter(con, key)
        if known_mail is not None:
            if known_mail == mail_id:
                return False
            raise LetterStoreError(
                f"letter {key} is recorded as AR24 mail {known_mail}, not {mail_id}: "
                "two AR24 letters for one notice"
            )
        con.execute(
            """UPDATE ere_letters SET ar24_mail_id = ?, ar24_attachment_id = ?, ar24_status = ?,
                   status = ?, sent_at = ?, status_at = ?, updated_at = ? WHERE key = ?""",
            [mail_id, attachment_id, ar24_status, state.value, when, when, when, key],
        )
        audit.record(
            con,
            AuditEvent.SEND,
            key,
            {
                "ere": "letter_sent",
                "ar24_mail_id": mail_id,
                "ar24_attachment_id": attachment_id,
                "ar24_status": ar24_status,
                "status": state.value,
                "previous_status": status,
            },
            flow_run_id=flow_run_id,
        )
    return True


def update_status(
    con: duckdb.DuckDBPyConnection,
    key: str,
    *,
    ar24_status: str,
    state: LetterState,
    flow_run_id: str | None = None,
    now: datetime | None = None,
) -> bool:
    """A state read from AR24: recorded (with an audit row) only when it changed."""
    when = now or _now()
    with transaction(con):
        status, mail_id, _, known_ar24 = _letter(con, key)
        if status == state.value and known_ar24 == ar24_status:
            return False
        con.execute(
            "UPDATE ere_letters SET ar24_status = ?, status = ?, status_at = ?, updated_at = ?"
            " WHERE key = ?",
            [ar24_status, state.value, when, when, key],
        )
        audit.record(
            con,
            AuditEvent.STATUS,
            key,
            {
                "ere": "letter_status",
                "ar24_mail_id": mail_id,
                "ar24_status": ar24_status,
                "status": state.value,
                "previous_status": status,
            },
            flow_run_id=flow_run_id,
        )
    return True


def record_proof(
    con: duckdb.DuckDBPyConnection,
    key: str,
    *,
    kind: str,
    path: Path,
    sha256: str,
    proof_date: datetime | None,
    flow_run_id: str | None = None,
    now: datetime | None = None,
) -> bool:
    """A proof downloaded into the evidence store: its row and an audit row with its SHA-256.
    False when that proof is already recorded with the same hash; an error with another."""
    when = now or _now()
    with transaction(con):
        _letter(con, key)
        row = first_row(
            con, "SELECT sha256 FROM ere_proofs WHERE key = ? AND kind = ?", [key, kind]
        )
        if row is not None:
            if row[0] == sha256:
                return False
            raise LetterStoreError(
                f"letter {key}: proof {kind!r} is recorded with SHA-256 {row[0][:12]}..., "
                f"the new file has {sha256[:12]}...; a proof is never replaced"
            )
        con.execute(
            "INSERT INTO ere_proofs VALUES (?, ?, ?, ?, ?, ?)",
            [key, kind, str(path), sha256, proof_date, when],
        )
        audit.record(
            con,
            AuditEvent.STATUS,
            key,
            {
                "ere": "proof_recorded",
                "kind": kind,
                "file": path.name,
                "sha256": sha256,
                "proof_date": proof_date.isoformat() if proof_date else None,
            },
            flow_run_id=flow_run_id,
            content_sha256=sha256,
        )
    return True


@dataclass(frozen=True)
class KeptLetter:
    key: str
    path: Path
    pdf_sha256: str
    recorded: bool  # False when the same letter was already kept (a re-run)


def keep_letter(
    communication: Communication,
    *,
    db: str | os.PathLike[str] | None = None,
    settings: SenderSettings | None = None,
    notice_days: int | None = None,
    flow_run_id: str | None = None,
    writer: Callable[[], AbstractContextManager[object]] | None = None,
) -> KeptLetter:
    """What the ERE step does before calling AR24: read the debtor, render the notice with no
    connection open, keep the PDF beside the warehouse, then record it (and its audit row) in one
    short transaction. `notice_days` defaults to the policy's formal_notice_days."""
    if notice_days is None:
        notice_days = load_policy().formal_notice_days
    with connect(db, read_only=True) as con:
        debtor = debtor_from_warehouse(con, communication.customer_id)
    pdf, sha, meta = render_letter(communication, settings, debtor, notice_days=notice_days)
    path = save_pdf(letters_dir(db), communication.key, pdf)
    # `writer`: the flow's warehouse writer lock and slot, taken for this short write only.
    with writer() if writer else nullcontext(), connect(db) as con:
        recorded = record_letter(con, communication, meta, path, flow_run_id=flow_run_id)
    return KeptLetter(communication.key, path, sha, recorded)


def letters(con: duckdb.DuckDBPyConnection, customer_id: str | None = None) -> pl.DataFrame:
    """The letters (of one customer, or all), oldest first."""
    where, params = ("WHERE customer_id = ?", [customer_id]) if customer_id else ("", [])
    return con.sql(
        f"SELECT * FROM ere_letters {where} ORDER BY as_of, created_at, key", params=params
    ).pl()


def proofs(con: duckdb.DuckDBPyConnection, keys: list[str]) -> pl.DataFrame:
    """The proofs of these letters, by letter then date."""
    return con.sql(
        "SELECT * FROM ere_proofs WHERE list_contains(?, key) ORDER BY key, proof_date, kind",
        params=[keys],
    ).pl()


def check_files(con: duckdb.DuckDBPyConnection, folder: Path) -> list[FileProblem]:
    """Every letter PDF (under `folder`) and proof file whose bytes no longer match the SHA-256
    recorded for it, or that is gone: evidence that cannot be shown intact is named here."""
    problems: list[FileProblem] = []
    entries = [
        (key, "letter", folder / name, sha)
        for key, name, sha in con.execute(
            "SELECT key, pdf_path, pdf_sha256 FROM ere_letters ORDER BY key"
        ).fetchall()
    ] + [
        (key, f"proof {kind}", Path(path), sha)
        for key, kind, path, sha in con.execute(
            "SELECT key, kind, path, sha256 FROM ere_proofs ORDER BY key, kind"
        ).fetchall()
    ]
    for key, what, path, sha in entries:
        if not path.is_file():
            problems.append(FileProblem(key, what, str(path), "missing"))
        elif sha256_file(path) != sha:
            problems.append(FileProblem(key, what, str(path), "SHA-256 differs from the record"))
    return problems
