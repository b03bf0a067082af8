"""ERE status sync: each letter AR24 holds and that has not reached its end is read again, its new
state recorded and each new proof kept in the evidence store, its SHA-256 in the audit log.

Three steps, so no network call happens inside a write: `letters_to_sync` reads (and releases the
connection), `fetch` asks AR24 and writes the proof files atomically (no connection open), and
`record` writes every change in one short transaction (store.update_status / record_proof, each
with its audit row; recording the same fact twice is a no-op).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from o2c.tasks.channels.ere import NO_CONSENT
from o2c.tasks.common.escaping import md_text
from o2c.tasks.common.formatting import format_date, format_money
from o2c.tasks.common.language import Labels, company_language
from o2c.tasks.connectors.ar24 import Ar24Client, Letter, LetterState
from o2c.tasks.connectors.ar24_signing import parse_paris_date
from o2c.tasks.connectors.http import ConnectorError
from o2c.tasks.ere import store
from o2c.warehouse import connect, transaction

FINAL = tuple(s.value for s in LetterState if s.final)
# Words of the ere-letters artifact until the label catalogs carry an [ere] section (the keys
# below, under `ere.`, win when a catalog has them).
_WORDS = {
    "fr": {
        "customer": "Client",
        "sent_on": "Envoyée le",
        "amount": "Montant réclamé",
        "status": "Statut",
        "proofs": "Preuves",
        "days_waiting": "Jours d'attente",
        "rendered": "Prête, non envoyée",
        "waiting": "Chez AR24, pas encore notifiée",
        "sent": "Notifiée, en attente de réponse",
        "accepted": "Acceptée",
        "refused": "Refusée (vaut notification)",
        "neglected": "Non réclamée en 15 jours (vaut notification)",
        "bounced": "Adresse invalide : non délivrée",
        "description": "Lettres recommandées électroniques au {date}",
    },
    "en": {
        "customer": "Customer",
        "sent_on": "Sent on",
        "amount": "Amount claimed",
        "status": "Status",
        "proofs": "Proofs",
        "days_waiting": "Days waiting",
        "rendered": "Ready, not sent",
        "waiting": "At AR24, not yet notified",
        "sent": "Notified, awaiting an answer",
        "accepted": "Accepted",
        "refused": "Refused (counts as notified)",
        "neglected": "Not claimed within 15 days (counts as notified)",
        "bounced": "Invalid address: not delivered",
        "description": "Electronic registered letters as of {date}",
    },
}


def word(name: str, lang: str, **values: object) -> str:
    """An artifact word: the label catalog's `ere.<name>` if it has one, else ours."""
    lang = lang if lang in _WORDS else "fr"
    text = Labels(lang).words.get(f"ere.{name}", _WORDS[lang][name])
    return text.format(**values) if values else text


@dataclass(frozen=True)
class ToSync:
    key: str
    mail_id: str
    status: str
    ar24_status: str | None
    have: frozenset[str]  # proof kinds already recorded


@dataclass
class Fetched:
    """What AR24 said of one letter, with the proofs now on disk (not yet recorded)."""

    key: str
    letter: Letter | None = None
    proofs: list[tuple[str, Path, str, datetime | None]] = field(default_factory=list)
    error: str | None = None


@dataclass
class SyncResult:
    read: int = 0
    changed: list[str] = field(default_factory=list)  # keys whose state changed
    proofs: list[tuple[str, str]] = field(default_factory=list)  # (key, kind) recorded
    errors: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        text = (
            f"{self.read} letter(s) read, {len(self.changed)} changed, {len(self.proofs)} proof(s)"
        )
        return text + (f", {len(self.errors)} could not be read" if self.errors else "")


def letters_to_sync(con: duckdb.DuckDBPyConnection) -> list[ToSync]:
    """Letters AR24 holds that are not final, or final with a proof still to fetch."""
    rows = con.execute(
        "SELECT l.key, l.ar24_mail_id, l.status, l.ar24_status,"
        " list(p.kind) FILTER (WHERE p.kind IS NOT NULL)"
        " FROM ere_letters l LEFT JOIN ere_proofs p USING (key)"
        " WHERE l.ar24_mail_id IS NOT NULL GROUP BY ALL ORDER BY l.key"
    ).fetchall()
    last_proof = {"accepted": "ar", "refused": "rf", "neglected": "ng", "bounced": "bc"}
    return [
        ToSync(key, mail_id, status, ar24_status, frozenset(kinds or ()))
        for key, mail_id, status, ar24_status, kinds in rows
        if status not in FINAL or last_proof[status] not in (kinds or ())
    ]


def _utc(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_paris_date(value).astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        return None


def fetch(client: Ar24Client, todo: list[ToSync], evidence: Path) -> list[Fetched]:
    """AR24 asked about each letter; each new proof written whole into `evidence`. A letter that
    cannot be read is reported, never guessed; the others go on."""
    fetched = []
    for item in todo:
        got = Fetched(item.key)
        try:
            got.letter = client.letter(item.mail_id)
            for kind in sorted(set(got.letter.proof_urls) - item.have):
                proof = client.proof(got.letter, kind)
                path = evidence / f"{item.key}_{kind}.pdf"
                store.write_atomically(path, proof.content)
                when = _utc(got.letter.proof_dates.get(kind))
                got.proofs.append((kind, path, proof.sha256, when))
        except ConnectorError as exc:
            got.error = str(exc)
        fetched.append(got)
    return fetched


def record(
    con: duckdb.DuckDBPyConnection,
    fetched: list[Fetched],
    *,
    flow_run_id: str | None = None,
    now: datetime | None = None,
) -> SyncResult:
    """Every state change and proof in one short transaction, each with its audit row."""
    result = SyncResult(read=len(fetched))
    with transaction(con):
        for got in fetched:
            if got.error:
                result.errors[got.key] = got.error
            for kind, path, sha, when in got.proofs:
                if store.record_proof(
                    con, got.key, kind=kind, path=path, sha256=sha, proof_date=when,
                    flow_run_id=flow_run_id, now=now,
                ):  # fmt: skip
                    result.proofs.append((got.key, kind))
            if got.letter is not None and store.update_status(
                con,
                got.key,
                ar24_status=got.letter.status,
                state=got.letter.state,
                flow_run_id=flow_run_id,
                now=now,
            ):
                result.changed.append(got.key)
    return result


def sync_letters(
    db: str | os.PathLike[str] | None,
    client: Ar24Client,
    *,
    evidence: Path | None = None,
    flow_run_id: str | None = None,
) -> SyncResult:
    """Read, release, ask AR24, then record: the whole sync with no call inside a write."""
    from o2c.tasks.ere.send import evidence_dir

    with connect(db, read_only=True) as con:
        todo = letters_to_sync(con)
    if not todo:
        return SyncResult()
    fetched = fetch(client, todo, evidence or evidence_dir(db))
    with connect(db) as con:
        return record(con, fetched, flow_run_id=flow_run_id)


# -- what finance reads -------------------------------------------------------------------------


def letters_table(
    con: duckdb.DuckDBPyConnection, as_of: date, lang: str | None = None
) -> list[dict[str, object]]:
    """The ere-letters artifact: one row per letter, newest first, in the company's language."""
    lang = lang or company_language()
    frame = con.sql(
        "SELECT l.key, coalesce(c.name, l.customer_id) AS customer, l.sent_at, l.claimed_cents,"
        " l.currency, l.status, l.status_at,"
        " (SELECT string_agg(upper(kind), ' ' ORDER BY proof_date, kind) FROM ere_proofs p"
        "  WHERE p.key = l.key) AS proofs"
        " FROM ere_letters l LEFT JOIN customers c USING (customer_id)"
        " ORDER BY l.sent_at DESC NULLS LAST, l.key"
    ).pl()
    rows = []
    for r in frame.iter_rows(named=True):
        waiting = (
            (as_of - r["sent_at"].date()).days
            if r["sent_at"] and r["status"] not in FINAL
            else None
        )
        rows.append(
            {
                word("customer", lang): md_text(r["customer"]),
                word("sent_on", lang): format_date(r["sent_at"].date(), lang)
                if r["sent_at"]
                else "",
                word("amount", lang): format_money(r["claimed_cents"], r["currency"], lang),
                word("status", lang): word(r["status"], lang),
                word("proofs", lang): r["proofs"] or "",
                word("days_waiting", lang): waiting,
            }
        )
    return rows


def letters_needing_attention(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """For the collector's worklist: letters refused, not claimed, bounced, kept without LRE
    consent (a paper LRAR to send by hand), and sends nobody can vouch for (outbox `unknown`)."""
    return con.sql(
        """
        SELECT l.key, l.customer_id, coalesce(c.name, l.customer_id) AS customer_name,
               l.claimed_cents, l.currency,
               CASE WHEN o.status = 'unknown' THEN 'unknown_send'
                    WHEN o.status = 'cancelled' AND o.reply = $no_consent THEN 'no_consent'
                    ELSE l.status END AS reason,
               coalesce(l.status_at, o.updated_at) AS since,
               date_diff('day', coalesce(l.status_at, o.updated_at)::DATE, $as_of) AS days
        FROM ere_letters l
        JOIN dunning_outbox o USING (key)
        LEFT JOIN customers c ON c.customer_id = l.customer_id
        WHERE l.status IN ('refused', 'neglected', 'bounced')
           OR o.status = 'unknown'
           OR (o.status = 'cancelled' AND o.reply = $no_consent)
        ORDER BY l.claimed_cents DESC, since, l.key
        """,
        params={"no_consent": NO_CONSENT, "as_of": as_of},
    ).pl()
