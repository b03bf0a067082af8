"""Dunning's outbox: each communication written down before any channel is called, sent once.

The life of a row, and why each step is its own short transaction:

1. `enqueue` (inside the flow's write): the row `pending`, with its key, items, rendered message
   and hashes, and its audit row. Nothing has left yet.
2. `claim_batch`: up to N sendable rows get `attempt_started_at` and this call's `claim_id`,
   committed BEFORE the send. A pending row without `attempt_started_at` is therefore certainly
   unsent, and safe to send; one with it may have left.
3. the channel sends the batch, with no warehouse connection open (no lock, no transaction).
4. `record_results`: sent (provider id), bounced (the server's reply), failed (temporary
   failures exhausted: certainly unsent, a later run sends it), unknown; one transaction per
   batch, with an audit row per message.

A run that dies between 2 and 4 leaves rows pending with `attempt_started_at` set. The next run
(`resolve_interrupted`) asks the channel about each key before anything else: the .eml channel
can tell (the file is there or not), so such a row is recorded sent or made sendable again; SMTP
cannot, so the row becomes `unknown` and finance decides (`settle`). Nothing is resent blindly.
Re-running the flow is a no-op: the same communication has the same key (models.dunning), and a
key already in the outbox is not written again.

One send of a warehouse's outbox runs at a time (the dunning flow's concurrency limit): a second
one would take the first one's in-flight rows for interrupted ones; they would become `unknown`
(never sent twice), and the first run's result, recorded by its claim, would still replace that.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from o2c.models.dunning import (
    ACTION_HISTORY,
    AuditEvent,
    Channel,
    Communication,
    OutboxStatus,
    RenderedMessage,
)
from o2c.tasks.channels import ChannelUnavailable, Envelope, Found, Sender, SendResult
from o2c.tasks.dunning import audit
from o2c.warehouse import connect, first_row, transaction

SENDABLE = (OutboxStatus.PENDING.value, OutboxStatus.FAILED.value)


class OutboxError(ValueError):
    """A change the outbox refuses (an unknown key, a status that cannot change that way)."""


@dataclass
class SendSummary:
    """What one `send_pending` did: rows by resulting status, batches, interrupted rows found."""

    counts: Counter = field(default_factory=Counter)
    batches: int = 0
    interrupted: Counter = field(default_factory=Counter)  # by what became of them

    def __str__(self) -> str:
        done = ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items())) or "nothing to send"
        text = f"{done} in {self.batches} batch{'es' * (self.batches != 1)}"
        if self.interrupted:
            found = ", ".join(f"{n} {s}" for s, n in sorted(self.interrupted.items()))
            text += f"; from an interrupted run: {found}"
        return text


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def enqueue(
    con: duckdb.DuckDBPyConnection,
    communication: Communication,
    message: RenderedMessage,
    *,
    flow_run_id: str | None = None,
) -> bool:
    """Write the communication `pending` with its items and rendered message, and its audit row,
    in the caller's transaction. False (and nothing written) when its key is already there."""
    return bool(enqueue_many(con, [(communication, message)], flow_run_id=flow_run_id))


def enqueue_many(
    con: duckdb.DuckDBPyConnection,
    planned: Sequence[tuple[Communication, RenderedMessage]],
    *,
    flow_run_id: str | None = None,
) -> list[str]:
    """`enqueue` for a whole plan in one transaction and a few statements (a plan of thousands
    is one short write). Returns the keys written; keys already in the outbox are left alone."""
    for c, m in planned:
        if m.key != c.key:
            raise OutboxError(f"message {m.key} is not communication {c.key}")
    with transaction(con):
        keys = [c.key for c, _ in planned]
        existing = {
            r[0]
            for r in con.execute(
                "SELECT key FROM dunning_outbox WHERE list_contains(?, key)", [keys]
            ).fetchall()
        }
        fresh: dict[str, tuple[Communication, RenderedMessage]] = {}
        for c, m in planned:
            if c.key not in existing:
                fresh.setdefault(c.key, (c, m))
        if not fresh:
            return []
        now = _now()
        todo = list(fresh.values())
        rows_frame = pl.DataFrame(
            {
                "key": [c.key for c, _ in todo],
                "as_of": [c.as_of for c, _ in todo],
                "customer_id": [c.customer_id for c, _ in todo],
                "currency": [c.currency for c, _ in todo],
                "level": [c.level for c, _ in todo],
                "level_name": [c.level_name for c, _ in todo],
                "channel": [Channel(c.channel).value for c, _ in todo],
                "template": [c.template for c, _ in todo],
                "language": [m.language for _, m in todo],
                "recipients": [list(c.recipients) for c, _ in todo],
                "previous_key": [c.previous_key for c, _ in todo],
                "due_cents": [c.due_cents for c, _ in todo],
                "subject": [m.subject for _, m in todo],
                "text_body": [m.text for _, m in todo],
                "html_body": [m.html for _, m in todo],
                "template_sha256": [m.template_sha256 for _, m in todo],
                "content_sha256": [m.content_sha256 for _, m in todo],
            },
            schema=_OUTBOX_ROW,
        )
        items_frame = pl.DataFrame(
            [(c.key, i.invoice_id, i.open_cents) for c, _ in todo for i in (*c.items, *c.credits)],
            schema={"key": pl.String, "invoice_id": pl.String, "open_cents": pl.Int64},
            orient="row",
        )
        con.register("_outbox_rows", rows_frame)
        con.register("_outbox_items", items_frame)
        try:
            con.execute(
                f"INSERT INTO dunning_outbox ({', '.join(_OUTBOX_ROW)}, status, flow_run_id,"
                f" planned_at, updated_at) SELECT *, 'pending', ?, ?, ? FROM _outbox_rows",
                [flow_run_id, now, now],
            )
            con.execute("INSERT INTO dunning_outbox_items SELECT * FROM _outbox_items")
        finally:
            con.unregister("_outbox_rows")
            con.unregister("_outbox_items")
        audit.record_many(
            con,
            [
                audit.Entry(
                    AuditEvent.STATUS,
                    c.key,
                    {
                        "status": OutboxStatus.PENDING.value,
                        "customer_id": c.customer_id,
                        "level": c.level,
                        "channel": Channel(c.channel).value,
                        "currency": c.currency,
                        "due_cents": c.due_cents,
                        "items": {i.invoice_id: i.open_cents for i in (*c.items, *c.credits)},
                        "recipients": list(c.recipients),
                        "as_of": c.as_of,
                    },
                    flow_run_id=flow_run_id,
                    template_sha256=m.template_sha256,
                    content_sha256=m.content_sha256,
                )
                for c, m in todo
            ],
        )
    return list(fresh)


_OUTBOX_ROW = {
    "key": pl.String,
    "as_of": pl.Date,
    "customer_id": pl.String,
    "currency": pl.String,
    "level": pl.Int32,
    "level_name": pl.String,
    "channel": pl.String,
    "template": pl.String,
    "language": pl.String,
    "recipients": pl.List(pl.String),
    "previous_key": pl.String,
    "due_cents": pl.Int64,
    "subject": pl.String,
    "text_body": pl.String,
    "html_body": pl.String,
    "template_sha256": pl.String,
    "content_sha256": pl.String,
}


def history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """ACTION_HISTORY: one row per item of every communication in the outbox, whatever its
    status; acted_on is the communication's as-of day (the day it was planned and sent: the
    flow sends what it plans, and a backfill as of a past date sees its own days)."""
    return (
        con.sql(
            "SELECT o.key, o.customer_id, o.currency, i.invoice_id, o.level, o.channel,"
            " o.status, o.as_of AS acted_on"
            " FROM dunning_outbox o JOIN dunning_outbox_items i USING (key)"
            " ORDER BY o.as_of, o.key, i.invoice_id"
        )
        .pl()
        .cast(ACTION_HISTORY)
    )


def rows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The outbox as finance reads it (the dunning journal): one row per communication."""
    return con.sql(
        "SELECT key, as_of, customer_id, currency, level, level_name, channel, due_cents,"
        " status, attempts, provider_id, reply, sent_at, updated_at"
        " FROM dunning_outbox ORDER BY as_of, customer_id, level, key"
    ).pl()


def cancel(
    con: duckdb.DuckDBPyConnection, key: str, reason: str, *, flow_run_id: str | None = None
) -> None:
    """Drop a communication not yet sent (paid since the plan, excluded, refused by finance)."""
    _change(con, key, OutboxStatus.CANCELLED, reason, flow_run_id, allowed=SENDABLE)


def settle(
    con: duckdb.DuckDBPyConnection,
    key: str,
    *,
    sent: bool,
    by: str,
    reason: str,
    flow_run_id: str | None = None,
) -> None:
    """Finance's answer about an `unknown` row: it did leave (sent), or it did not (pending
    again, sent by the next run). `by` and `reason` go to the audit log."""
    status = OutboxStatus.SENT if sent else OutboxStatus.PENDING
    _change(con, key, status, f"{by}: {reason}", flow_run_id, allowed=(OutboxStatus.UNKNOWN,))


def _change(con, key, status, reason, flow_run_id, *, allowed) -> None:
    with transaction(con):
        row = first_row(con, "SELECT status FROM dunning_outbox WHERE key = ?", [key])
        if row is None:
            raise OutboxError(f"no communication {key} in the outbox")
        if row[0] not in {str(a) for a in allowed}:
            raise OutboxError(f"communication {key} is {row[0]}: it cannot become {status}")
        now = _now()
        con.execute(
            "UPDATE dunning_outbox SET status = ?, reply = ?, updated_at = ?,"
            " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END,"
            " attempt_started_at = CASE WHEN ? = 'pending' THEN NULL ELSE attempt_started_at END"
            " WHERE key = ?",
            [status.value, reason, now, status.value, now, status.value, key],
        )
        audit.record(
            con,
            AuditEvent.STATUS,
            key,
            {"status": status.value, "was": row[0], "reason": reason},
            flow_run_id=flow_run_id,
        )


# -- sending ------------------------------------------------------------------------------------


# What makes a short write the warehouse's one writer (the flow passes its writer lock and
# slot); alone, as in tests and scripts, a plain connection.
Writer = Callable[[], AbstractContextManager[object]]


@contextmanager
def _opened(
    db: str | os.PathLike[str] | None, writer: Writer | None
) -> Iterator[duckdb.DuckDBPyConnection]:
    with writer() if writer else nullcontext(), connect(db) as con:
        yield con


def send_pending(
    db: str | os.PathLike[str] | None,
    sender: Sender | None = None,
    *,
    channel: Channel = Channel.EMAIL,
    batch_size: int | None = None,
    flow_run_id: str | None = None,
    limit: int | None = None,
    send_batch: Callable[[Sender, Sequence[Envelope]], list[SendResult]] | None = None,
    writer: Writer | None = None,
) -> SendSummary:
    """Send what the outbox holds for `channel`: interrupted rows first resolved, then batches
    claimed, sent with no warehouse connection open, and recorded, one short write each.

    `send_batch` is where the flow puts one Prefect task per batch; by default the sender's own.
    `writer` makes each short write the warehouse's one writer (the flow's lock and slot), taken
    and let go around it, never across a send.
    Raises ChannelUnavailable (after recording that batch `failed`) when the channel cannot be
    reached at all: the rest stays pending for the next run.
    """
    if sender is None:
        from o2c.tasks.channels.email import SmtpSettings, email_sender

        settings = SmtpSettings()
        sender = email_sender(settings, db=db)
        batch_size = batch_size or settings.batch_size
    batch_size = batch_size or 200
    run = send_batch or (lambda s, envelopes: s.send_batch(envelopes))
    summary = SendSummary(
        interrupted=resolve_interrupted(db, sender, channel, flow_run_id, writer=writer)
    )
    claim_id = uuid.uuid4().hex
    done = 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        envelopes, cancelled = claim_batch(
            db, channel, size, claim_id, flow_run_id=flow_run_id, writer=writer
        )
        summary.counts[OutboxStatus.CANCELLED.value] += cancelled
        if not envelopes:
            break
        summary.batches += 1
        try:
            results = run(sender, envelopes)
        except ChannelUnavailable as exc:
            failed = [SendResult(e.key, OutboxStatus.FAILED, None, str(exc), 0) for e in envelopes]
            record_results(
                db, failed, claim_id, channel=channel, flow_run_id=flow_run_id, writer=writer
            )
            summary.counts[OutboxStatus.FAILED.value] += len(failed)
            raise
        record_results(
            db, results, claim_id, channel=channel, flow_run_id=flow_run_id, writer=writer
        )
        summary.counts.update(r.status.value for r in results)
        done += len(results)
    if not summary.counts[OutboxStatus.CANCELLED.value]:
        del summary.counts[OutboxStatus.CANCELLED.value]
    return summary


def resolve_interrupted(
    db: str | os.PathLike[str] | None,
    sender: Sender,
    channel: Channel = Channel.EMAIL,
    flow_run_id: str | None = None,
    *,
    writer: Writer | None = None,
) -> Counter:
    """Rows a dead run claimed and never recorded: asked of the channel (outside the lock), then
    recorded sent, made sendable again, or `unknown` for finance. Returns counts by outcome."""
    with _opened(db, writer) as con:
        keys = [
            r[0]
            for r in con.execute(
                "SELECT key FROM dunning_outbox WHERE status = 'pending' AND channel = ?"
                " AND attempt_started_at IS NOT NULL ORDER BY key",
                [channel.value],
            ).fetchall()
        ]
    if not keys:
        return Counter()
    answers = {key: sender.lookup(key) for key in keys}
    outcome: Counter = Counter()
    with _opened(db, writer) as con, transaction(con):
        now = _now()
        entries = []
        for key, (found, provider_id) in answers.items():
            if found is Found.SENT:
                status, reply = OutboxStatus.SENT, "found at the provider after an interrupted run"
            elif found is Found.NOT_SENT:
                status, reply = OutboxStatus.PENDING, "not at the provider: sendable again"
            else:
                status = OutboxStatus.UNKNOWN
                reply = "interrupted after the send began; the provider cannot be asked"
            con.execute(
                "UPDATE dunning_outbox SET status = ?, provider_id = coalesce(?, provider_id),"
                " reply = ?, updated_at = ?,"
                " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END,"
                " attempt_started_at = CASE WHEN ? = 'pending' THEN NULL"
                "  ELSE attempt_started_at END"
                " WHERE key = ? AND status = 'pending' AND attempt_started_at IS NOT NULL",
                [status.value, provider_id, reply, now, status.value, now, status.value, key],
            )
            entries.append(
                audit.Entry(
                    AuditEvent.STATUS,
                    key,
                    {"status": status.value, "was": "pending", "provider_id": provider_id,
                     "reason": reply},
                    flow_run_id=flow_run_id,
                )
            )  # fmt: skip
            outcome[status.value] += 1
        audit.record_many(con, entries)
    return outcome


def claim_batch(
    db: str | os.PathLike[str] | None,
    channel: Channel,
    size: int,
    claim_id: str,
    *,
    flow_run_id: str | None = None,
    writer: Writer | None = None,
) -> tuple[list[Envelope], int]:
    """Up to `size` sendable rows, marked as being sent (committed before any send), as
    envelopes; rows whose stored message no longer matches its hash are cancelled, not sent.
    Returns the envelopes and how many were cancelled so."""
    from o2c.tasks.dunning.render import content_sha256

    with _opened(db, writer) as con, transaction(con):
        picked = con.execute(
            "SELECT key, language, subject, text_body, html_body, template_sha256,"
            " content_sha256, recipients, previous_key FROM dunning_outbox"
            " WHERE channel = ? AND status IN (?, ?) AND attempt_started_at IS NULL"
            " AND claim_id IS DISTINCT FROM ?"  # a row failed in this run waits for the next
            " ORDER BY planned_at, key LIMIT ?",
            [channel.value, *SENDABLE, claim_id, size],
        ).fetchall()
        if not picked:
            return [], 0
        envelopes, tampered = [], []
        for key, lang, subject, text, html, t_sha, c_sha, recipients, previous in picked:
            if content_sha256(subject, text, html) != c_sha:
                tampered.append(key)
                continue
            message = RenderedMessage(key, lang, subject, text, html, t_sha, c_sha)
            envelopes.append(Envelope(message, tuple(recipients), previous))
        now = _now()
        if envelopes:
            con.execute(
                "UPDATE dunning_outbox SET attempt_started_at = ?, claim_id = ?,"
                " status = 'pending', attempts = attempts + 1, updated_at = ?"
                " WHERE list_contains(?, key)",
                [now, claim_id, now, [e.key for e in envelopes]],
            )
    for key in tampered:
        with _opened(db, writer) as con:
            cancel(
                con,
                key,
                "the stored message no longer matches the hash it was planned with",
                flow_run_id=flow_run_id,
            )
    return envelopes, len(tampered)


# The rows a batch's results may still change: this claim's, not yet settled by another run.
_HELD_BY_CLAIM = "o.key = r.key AND o.claim_id = $claim AND o.status IN ('pending', 'unknown')"


def record_results(
    db: str | os.PathLike[str] | None,
    results: Sequence[SendResult],
    claim_id: str,
    *,
    channel: Channel = Channel.EMAIL,
    flow_run_id: str | None = None,
    writer: Writer | None = None,
) -> None:
    """One short transaction for a batch's results, each with its audit row. Only rows this
    claim holds change (a row another run marked `unknown` meanwhile gets the real answer); every
    result is audited, recorded on its row or not."""
    if not results:
        return
    frame = pl.DataFrame(
        {
            "key": [r.key for r in results],
            "status": [r.status.value for r in results],
            "provider_id": [r.provider_id for r in results],
            "reply": [r.reply for r in results],
        },
        schema=dict.fromkeys(["key", "status", "provider_id", "reply"], pl.String),
    )
    with _opened(db, writer) as con, transaction(con):
        now = _now()
        con.register("_send_results", frame)
        try:
            # Which rows this claim still holds, read before the update in the same
            # transaction (DuckLake has no UPDATE ... RETURNING).
            recorded = dict(
                con.execute(
                    "SELECT o.key, r.status FROM dunning_outbox o, _send_results r"
                    f" WHERE {_HELD_BY_CLAIM}",
                    {"claim": claim_id},
                ).fetchall()
            )
            con.execute(
                "UPDATE dunning_outbox o SET status = r.status,"
                " provider_id = coalesce(r.provider_id, o.provider_id), reply = r.reply,"
                " updated_at = $now,"
                " sent_at = CASE WHEN r.status = 'sent' THEN $now ELSE o.sent_at END,"
                " attempt_started_at = CASE WHEN r.status = 'failed' THEN NULL"
                "  ELSE o.attempt_started_at END"
                f" FROM _send_results r WHERE {_HELD_BY_CLAIM}",
                {"now": now, "claim": claim_id},
            ).fetchall()
            hashes = {
                key: (t_sha, c_sha)
                for key, t_sha, c_sha in con.execute(
                    "SELECT o.key, o.template_sha256, o.content_sha256"
                    " FROM dunning_outbox o JOIN _send_results r USING (key)"
                ).fetchall()
            }
        finally:
            con.unregister("_send_results")
        audit.record_many(
            con,
            [
                audit.Entry(
                    AuditEvent.SEND,
                    r.key,
                    {
                        "status": r.status.value,
                        "channel": channel.value,
                        "provider_id": r.provider_id,
                        "reply": r.reply,
                        "attempts": r.attempts,
                        # False: the row had changed hands (settled, another claim) meanwhile;
                        # the send still happened and is on record here
                        "recorded": r.key in recorded,
                    },
                    flow_run_id=flow_run_id,
                    template_sha256=hashes.get(r.key, (None, None))[0],
                    content_sha256=hashes.get(r.key, (None, None))[1],
                )
                for r in results
            ],
        )


def mail_folder(db: str | os.PathLike[str] | None) -> Path:
    """Where the .eml default writes, beside the warehouse (for the flow's summary)."""
    from o2c.tasks.channels.email import MAIL_DIR_NAME, SmtpSettings
    from o2c.warehouse import db_path

    return SmtpSettings().mail_dir or db_path(db).parent / MAIL_DIR_NAME
