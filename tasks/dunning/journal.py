"""The dunning journal: what the day's run did for each communication, as finance reads it.

One row per communication (customer, level, channel, amount, status), headers and channel names
from the label catalogs (templates/labels), amounts formatted in the company's language; the
same rows feed the `dunning-journal` table artifact, the markdown summary and the workbook
sheet of the day's actions. Customer text stays text: the summary escapes it, the workbook
writes strings, never formulas.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import polars as pl

from o2c.models.dunning import Communication
from o2c.tasks.common.escaping import md_code
from o2c.tasks.common.formatting import format_date, format_money
from o2c.tasks.common.language import Labels, Lang

# Statuses beyond the outbox's own (models.dunning.OutboxStatus)
AWAITING_APPROVAL = "awaiting_approval"  # held: the level needs finance's approval
EXCLUDED = "excluded"  # finance left it out in the approval form
WORKLIST = "worklist"  # a phone call or a litigation hand-over: the collector's worklist
AWAITING_CHANNEL = "awaiting_channel"  # an ERE letter: its channel is issue 18's

_STATUS = {
    "fr": {
        "pending": "en attente d'envoi",
        "sent": "envoyé",
        "failed": "échec temporaire (renvoyé au prochain passage)",
        "bounced": "refusé par le serveur",
        "unknown": "inconnu : à vérifier",
        "cancelled": "annulé",
        AWAITING_APPROVAL: "en attente d'approbation",
        EXCLUDED: "exclu par la finance",
        WORKLIST: "liste de travail",
        AWAITING_CHANNEL: "canal non disponible",
    },
    "en": {
        "pending": "waiting to be sent",
        "sent": "sent",
        "failed": "temporary failure (retried next run)",
        "bounced": "refused by the server",
        "unknown": "unknown: to check",
        "cancelled": "cancelled",
        AWAITING_APPROVAL: "awaiting approval",
        EXCLUDED: "excluded by finance",
        WORKLIST: "worklist",
        AWAITING_CHANNEL: "channel not available",
    },
}


@dataclass(frozen=True)
class Entry:
    """One communication of the day and what became of it."""

    communication: Communication
    status: str
    note: str | None = None  # the server's reply, why it was cancelled


def status_word(status: str, lang: Lang) -> str:
    return _STATUS.get(lang, _STATUS["en"]).get(status, status)


def _headers(lang: Lang) -> dict[str, str]:
    t = Labels(lang)
    fr = lang == "fr"
    return {
        "customer": t("dunning.preview.customer"),
        "level": t("dunning.preview.level"),
        "channel": t("dunning.preview.channel"),
        "amount": t("dunning.preview.due"),
        "status": "Statut" if fr else "Status",
        "customer_id": "N° client" if fr else "Customer id",
        "items": "Factures" if fr else "Invoices",
        "note": "Détail" if fr else "Detail",
    }


def journal_rows(entries: list[Entry], lang: Lang) -> list[dict[str, str]]:
    """The table artifact's rows: customer, level, channel, amount, status first."""
    h, t = _headers(lang), Labels(lang)
    return [
        {
            h["customer"]: e.communication.customer_name,
            h["level"]: f"{e.communication.level} · {e.communication.level_name}",
            h["channel"]: t(f"dunning.channel.{e.communication.channel.value}"),
            h["amount"]: format_money(e.communication.due_cents, e.communication.currency, lang),
            h["status"]: status_word(e.status, lang),
            h["customer_id"]: e.communication.customer_id,
            h["items"]: ", ".join(i.invoice_id for i in e.communication.items),
            h["note"]: e.note or "",
        }
        for e in entries
    ]


def journal_frame(entries: list[Entry], lang: Lang) -> pl.DataFrame:
    """The workbook sheet of the day's actions: amounts as cents (the workbook writes money
    from *_cents columns), everything else as text."""
    h, t = _headers(lang), Labels(lang)
    return pl.DataFrame(
        {
            h["customer"]: [e.communication.customer_name for e in entries],
            h["customer_id"]: [e.communication.customer_id for e in entries],
            h["level"]: [e.communication.level_name for e in entries],
            h["channel"]: [t(f"dunning.channel.{e.communication.channel.value}") for e in entries],
            "currency": [e.communication.currency for e in entries],
            "amount_cents": [e.communication.due_cents for e in entries],
            h["status"]: [status_word(e.status, lang) for e in entries],
            h["items"]: [", ".join(i.invoice_id for i in e.communication.items) for e in entries],
        },
        schema_overrides={"amount_cents": pl.Int64},
    )


def summary_markdown(
    entries: list[Entry], as_of: date, last_bank: date, lang: Lang, mail_folder: str | None
) -> str:
    """The run's summary: counts by status, amounts asked per currency, where messages went."""
    fr = lang == "fr"
    counts = Counter(e.status for e in entries)
    asked: dict[str, int] = {}
    for e in entries:
        if e.status == "sent":
            c = e.communication
            asked[c.currency] = asked.get(c.currency, 0) + c.due_cents
    title = "Relances du" if fr else "Dunning of"
    lines = [
        f"# {title} {format_date(as_of, lang)}",
        "",
        (f"Données bancaires à jour au {format_date(last_bank, lang)}." if fr
         else f"Bank data up to {format_date(last_bank, lang)}."),
        "",
        "| statut | communications |" if fr else "| status | communications |",
        "|---|---|",
    ]  # fmt: skip
    for status, n in sorted(counts.items()):
        lines.append(f"| {status_word(status, lang)} | {n} |")
    if not counts:
        lines.append("| – | 0 |")
    if asked:
        lines += ["", "Montant réclamé par les envois du jour :" if fr else "Asked for today:", ""]
        lines += [f"- {format_money(v, k, lang)}" for k, v in sorted(asked.items())]
    if mail_folder:
        where = md_code(mail_folder)
        note = (
            f"Sans serveur SMTP configuré, chaque message est un fichier .eml dans {where}."
            if fr
            else f"No SMTP server configured: each message is an .eml file in {where}."
        )
        lines += ["", note]
    return "\n".join(lines) + "\n"


def entries(
    communications: list[Communication],
    outbox_rows: dict[str, dict],
    cancelled: dict[str, str],
    asked: set[str],
    decided: bool,
) -> list[Entry]:
    """What became of each communication: its outbox row's status when it has one; else held
    for approval, left out by finance, on the worklist, or waiting for its channel."""
    from o2c.tasks.dunning.render import NOT_SENT

    found = []
    for c in communications:
        row = outbox_rows.get(c.key)
        if row is not None:
            found.append(Entry(c, row["status"], cancelled.get(c.key) or row["reply"]))
        elif c.channel in NOT_SENT:
            found.append(Entry(c, WORKLIST))
        elif c.key in asked:
            found.append(Entry(c, EXCLUDED if decided else AWAITING_APPROVAL))
        else:
            found.append(Entry(c, AWAITING_CHANNEL))
    return found


def counts(found: list[Entry]) -> dict[str, int]:
    return dict(sorted(Counter(e.status for e in found).items()))


def day_actions(con, as_of: date) -> pl.DataFrame:
    """The day's dunning actions for the finance workbook (tasks/aging/workbook.py's "Dunning
    actions" sheet): every communication the outbox holds for `as_of`, what became of it, the
    server's reply. Money as `Amount due_cents` beside its `Currency` (the workbook's rule)."""
    return con.sql(
        """
        SELECT o.customer_id AS "Customer", c.name AS "Name", o.level AS "Level",
               o.level_name AS "Level name", o.channel AS "Channel", o.currency AS "Currency",
               o.due_cents AS "Amount due_cents", o.status AS "Status",
               o.sent_at AS "Sent at", array_to_string(o.recipients, ', ') AS "Recipients",
               coalesce(o.reply, '') AS "Reply", o.key AS "Outbox key"
        FROM dunning_outbox o LEFT JOIN customers c USING (customer_id)
        WHERE o.as_of = $as_of
        ORDER BY o.due_cents DESC, o.customer_id, o.level
        """,
        params={"as_of": as_of},
    ).pl()
