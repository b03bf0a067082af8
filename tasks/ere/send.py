"""Formal notices out through AR24, exactly once: keep, enqueue, send, record.

Order matters, and each step is short: the letter is rendered and kept with no connection open
(store.keep_letter), its order written beside the PDF (tasks/channels/ere.py), the outbox row
written `pending` (a no-op when the dunning run already wrote it), then the outbox sends with the
ERE channel outside any transaction, and AR24's ids are recorded on the letter after. A consumer
without consent to registered e-mail is never sent by ERE: the letter is kept, its outbox row
cancelled with NO_CONSENT, and `letters_needing_attention` puts it on the collector's worklist.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from o2c.models.dunning import Channel, Communication, CustomerKind, OutboxStatus, RenderedMessage
from o2c.tasks.channels.ere import NO_CONSENT, EreSender, EreSettings, LetterOrder, write_order
from o2c.tasks.connectors.ar24 import Ar24Client
from o2c.tasks.dunning import outbox
from o2c.tasks.dunning.customers import dunning_contacts
from o2c.tasks.dunning.outbox import SendSummary
from o2c.tasks.dunning.render import content_sha256
from o2c.tasks.ere import store
from o2c.tasks.ere.letter import template_sha256
from o2c.warehouse import connect, transaction


@dataclass
class NoticeRun:
    """What one `send_formal_notices` did."""

    kept: list[str] = field(default_factory=list)
    no_consent: list[str] = field(default_factory=list)
    summary: SendSummary | None = None
    recorded: list[str] = field(default_factory=list)  # AR24 ids recorded on the letters

    def __str__(self) -> str:
        text = f"{len(self.kept)} notice(s) kept; {self.summary or 'nothing sent'}"
        if self.no_consent:
            text += f"; {len(self.no_consent)} without LRE consent (paper LRAR on the worklist)"
        return text


def notice_message(c: Communication, kept: store.KeptLetter) -> RenderedMessage:
    """The outbox's copy of a notice: its text names the PDF and its SHA-256, so the row's hash
    vouches for the very PDF that will be uploaded."""
    subject = f"Mise en demeure / Formal notice {c.key}"
    text = f"{kept.path.name}\nsha256:{kept.pdf_sha256}\n"
    return RenderedMessage(
        c.key,
        c.language,
        subject,
        text,
        None,
        template_sha256(c.language),
        content_sha256(subject, text, None),
    )


def default_client() -> Ar24Client:
    """The client from O2C_AR24_* (token and key from Prefect Secret blocks if not set)."""
    from o2c.models.settings_ar24 import load_ar24_settings
    from o2c.orchestration import secret_from_block

    return Ar24Client(load_ar24_settings(secret_from_block))


def send_formal_notices(
    db: str | os.PathLike[str] | None,
    communications: list[Communication],
    *,
    flow_run_id: str | None = None,
    client: Ar24Client | None = None,
    settings: EreSettings | None = None,
    recheck: Callable[[duckdb.DuckDBPyConnection, list[Communication]], object] | None = None,
    writer: outbox.Writer | None = None,
) -> NoticeRun:
    """Keep, enqueue and send the ere_letter communications; AR24's ids recorded after.

    `recheck(con, notices)` (the dunning run's `run.recheck`) reads the items again once the rows
    are written: a notice with an item paid since is cancelled, and the `.replaced` notices it
    returns (what is still due) are kept and enqueued in their turn, before anything is sent.
    `writer` (the flow's warehouse lock and slot) is taken around each short write, never
    across a call to AR24."""
    done = NoticeRun()
    notices = [c for c in communications if c.channel == Channel.ERE_LETTER]
    if not notices:
        return done
    folder = store.letters_dir(db)
    _prepare(db, notices, folder, done, flow_run_id, writer)
    if recheck is not None:
        with _opened(db, writer) as con:
            checked = recheck(con, notices)
        replaced = list(getattr(checked, "replaced", []) or [])
        if replaced:
            _prepare(db, replaced, folder, done, flow_run_id, writer)
    with _opened(db, writer) as con:
        status = dict(
            con.execute(
                "SELECT key, status FROM dunning_outbox WHERE list_contains(?, key)",
                [done.no_consent],
            ).fetchall()
        )
        for key in done.no_consent:
            if status.get(key) in outbox.SENDABLE:
                outbox.cancel(con, key, NO_CONSENT, flow_run_id=flow_run_id)
    sender = EreSender(client or default_client(), folder, settings)
    try:
        done.summary = outbox.send_pending(
            db, sender, channel=Channel.ERE_LETTER, flow_run_id=flow_run_id, writer=writer
        )
    finally:
        sender.client.close()
    done.recorded = record_accepted(db, sender, flow_run_id=flow_run_id, writer=writer)
    return done


def _prepare(
    db: str | os.PathLike[str] | None,
    notices: list[Communication],
    folder: Path,
    done: NoticeRun,
    flow_run_id: str | None,
    writer: outbox.Writer | None = None,
) -> None:
    """Each notice rendered and kept (no connection open), its order beside it, then all their
    outbox rows written `pending` in one transaction (a row already there is left alone)."""
    with connect(db, read_only=True) as con:
        contacts = _contacts(con, [c.customer_id for c in notices])
    rendered: list[tuple[Communication, RenderedMessage]] = []
    for c in notices:
        kept = store.keep_letter(c, db=db, flow_run_id=flow_run_id, writer=writer)
        contact = contacts.get(c.customer_id, {})
        kind = contact.get("customer_kind") or c.customer_kind
        consent = bool(contact.get("lre_consent", kind == CustomerKind.BUSINESS))
        emails = [*c.recipients, *(contact.get("emails") or [])]
        order = LetterOrder(
            key=c.key,
            pdf_file=kept.path.name,
            pdf_sha256=kept.pdf_sha256,
            to_email=emails[0] if emails else "",
            customer_kind=str(kind),
            lre_consent=consent and bool(emails),
            to_company=c.customer_name if kind == CustomerKind.BUSINESS else "",
            ref_dossier=c.customer_id,
        )
        write_order(folder, order)
        rendered.append((c, notice_message(c, kept)))
        done.kept.append(c.key)
        if not order.lre_consent:
            done.no_consent.append(c.key)
    with _opened(db, writer) as con, transaction(con):
        for c, m in rendered:
            outbox.enqueue(con, c, m, flow_run_id=flow_run_id)


@contextmanager
def _opened(
    db: str | os.PathLike[str] | None, writer: outbox.Writer | None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for one short write, as the warehouse's one writer when the flow says so."""
    with writer() if writer else nullcontext(), connect(db) as con:
        yield con


def _contacts(con, customer_ids: list[str]) -> dict[str, dict]:
    frame = dunning_contacts(con)
    rows = frame.filter(frame["customer_id"].is_in(customer_ids)).iter_rows(named=True)
    return {r["customer_id"]: r for r in rows}


def record_accepted(
    db: str | os.PathLike[str] | None,
    sender: EreSender,
    *,
    flow_run_id: str | None = None,
    writer: outbox.Writer | None = None,
) -> list[str]:
    """AR24's ids on each letter it holds (sent now, or found after an interrupted run), in one
    short connection after the sends. Only letters the outbox records as sent."""
    if not sender.accepted:
        return []
    with _opened(db, writer) as con:
        sent = {
            r[0]
            for r in con.execute(
                "SELECT key FROM dunning_outbox WHERE status = ? AND list_contains(?, key)",
                [OutboxStatus.SENT.value, list(sender.accepted)],
            ).fetchall()
        }
        recorded = []
        for key in sorted(sent):
            a = sender.accepted[key]
            if store.mark_sent(
                con,
                key,
                mail_id=a.letter.id,
                attachment_id=a.attachment_id,
                ar24_status=a.letter.status,
                state=a.letter.state,
                flow_run_id=flow_run_id,
            ):
                recorded.append(key)
    return recorded


def evidence_dir(db: str | os.PathLike[str] | None, settings: EreSettings | None = None) -> Path:
    """Where proofs are kept: O2C_ERE_EVIDENCE_DIR, else `ere-evidence` beside the warehouse.
    Absolute, because each proof's path is recorded: a relative one would point elsewhere from
    another working directory (`o2c audit verify` would call the proof missing)."""
    from o2c.warehouse import db_path

    chosen = (settings or EreSettings()).evidence_dir
    return Path(chosen or db_path(db).parent / "ere-evidence").resolve()
