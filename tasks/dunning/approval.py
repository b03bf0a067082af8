"""Finance's approval of the levels that need it: who and what is left out, and why.

The paused dunning run shows a form (models/dunning_approval.py) whose choices are built here
from the communications waiting for approval: one choice per customer, one per invoice. What
finance leaves out becomes an exclusion in the warehouse (a customer: an opt-out until the date
given; an invoice: a dispute until then), recorded and audited by tasks/dunning/exclusions.py,
so the next day's plan leaves them out too; the approval itself is one audit row naming who
decided and which communications go. `approve_all` (the CLI's --approve-all, the demo) is the
same approval with no lines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import duckdb

from o2c.models.dunning import AuditEvent, Communication, ExclusionKind
from o2c.tasks.common.escaping import md_text
from o2c.tasks.common.formatting import format_money
from o2c.tasks.common.language import Lang
from o2c.tasks.dunning import audit
from o2c.tasks.dunning.exclusions import Exclusion, ExclusionError, add_exclusion
from o2c.warehouse import transaction

DEFAULT_HOLD_DAYS = 30  # how long a line of the form holds, unless finance sets its date

_WORDS = {
    "fr": {
        "decided_by": "Décidé par",
        "exclusions": "Ne pas envoyer à (une ligne par client ou facture)",
        "target": "Client ou facture",
        "reason": "Motif",
        "until": "Jusqu'au",
        "customer": "Client",
        "invoice": "Facture",
        "note": "{n} relance(s) attendent votre approbation. Envoyez le formulaire avec votre nom "
        "pour tout approuver, ou ajoutez une ligne par client ou facture à exclure, avec son "
        "motif.",
    },
    "en": {
        "decided_by": "Decided by",
        "exclusions": "Do not send to (one line per customer or invoice)",
        "target": "Customer or invoice",
        "reason": "Reason",
        "until": "Until",
        "customer": "Customer",
        "invoice": "Invoice",
        "note": "{n} reminder(s) wait for your approval. Send the form with your name to approve "
        "them all, or add one line per customer or invoice to leave out, with its reason.",
    },
}


@dataclass(frozen=True)
class Choice:
    """One option of the form: a customer (invoice_id None) or one of its invoices."""

    label: str
    customer_id: str
    invoice_id: str | None = None


@dataclass(frozen=True)
class Approval:
    """What finance decided: who, and the exclusions asked for (empty: approve all)."""

    decided_by: str
    exclusions: tuple[Exclusion, ...] = ()


def words(lang: Lang) -> dict[str, str]:
    return _WORDS.get(lang, _WORDS["en"])


def form_choices(communications: list[Communication], lang: Lang) -> list[Choice]:
    """One choice per customer, then one per invoice, as a person reads them (labels unique)."""
    w = words(lang)
    choices: list[Choice] = []
    seen: set[str] = set()
    for c in communications:
        due = format_money(c.due_cents, c.currency, lang)
        label = f"{w['customer']} {c.customer_id} · {c.customer_name} · {c.level_name} · {due}"
        if c.customer_id not in seen:
            seen.add(c.customer_id)
            choices.append(Choice(" ".join(label.split()), c.customer_id))
    for c in communications:
        for item in c.items:
            amount = format_money(item.open_cents, c.currency, lang)
            label = f"{w['invoice']} {item.invoice_id} · {c.customer_name} · {amount}"
            choices.append(Choice(" ".join(label.split()), c.customer_id, item.invoice_id))
    return choices


def form_note(communications: list[Communication], lang: Lang) -> str:
    """The form's description: what waits, one line per communication (customer text as text)."""
    w = words(lang)
    lines = [w["note"].format(n=len(communications)), ""]
    for c in communications:
        due = format_money(c.due_cents, c.currency, lang)
        ids = ", ".join(i.invoice_id for i in c.items)
        lines.append(f"- {md_text(c.customer_name)} ({md_text(c.customer_id)}) · "
                     f"{md_text(c.level_name)} · {due} · {md_text(ids)}")  # fmt: skip
    return "\n".join(lines)


def default_until(as_of: date) -> date:
    return as_of + timedelta(days=DEFAULT_HOLD_DAYS)


def decision_of(answer: dict[str, Any], choices: list[Choice], as_of: date) -> Approval:
    """The form's answer as exclusions starting on the run's day: each line's choice found by
    its label (the schema already refused anything else)."""
    by_label = {c.label: c for c in choices}
    by = str(answer["decided_by"]).strip()
    asked = []
    for line in answer.get("exclusions") or []:
        choice = by_label[line["target"]]
        until = line["until"]
        until = until if isinstance(until, date) else date.fromisoformat(str(until))
        asked.append(
            Exclusion(
                customer_id=choice.customer_id,
                kind=ExclusionKind.DISPUTE if choice.invoice_id else ExclusionKind.OPT_OUT,
                reason=str(line["reason"]).strip(),
                by=by,
                until=until,
                invoice_id=choice.invoice_id,
                starts_on=as_of,
            )
        )
    return Approval(by, tuple(asked))


def approved(communications: list[Communication], approval: Approval) -> list[Communication]:
    """The communications left once finance's exclusions are taken out: an excluded customer's
    go, an excluded invoice leaves its communication (which goes when nothing is left to ask)."""
    customers = {e.customer_id for e in approval.exclusions if e.invoice_id is None}
    invoices = {e.invoice_id for e in approval.exclusions if e.invoice_id is not None}
    kept = []
    for c in communications:
        if c.customer_id in customers:
            continue
        items = tuple(i for i in c.items if i.invoice_id not in invoices)
        if len(items) != len(c.items):
            if not items:
                continue
            c = replace(c, items=items)  # a new key: another set of items
            if c.due_cents <= 0:
                continue
        kept.append(c)
    return kept


def record_approval(
    con: duckdb.DuckDBPyConnection,
    communications: list[Communication],
    approval: Approval,
    *,
    flow_run_id: str | None = None,
    today: date | None = None,
) -> list[Communication]:
    """Record finance's exclusions (each audited by add_exclusion) and the approval's audit row
    in one transaction; returns the communications that go."""
    going = approved(communications, approval)
    ids, refused = [], []
    with transaction(con):
        for e in approval.exclusions:
            try:
                ids.append(
                    add_exclusion(con, e, origin="approval", flow_run_id=flow_run_id, today=today)
                )
            except ExclusionError as exc:  # held back all the same: finance said not to send
                refused.append(f"{e.customer_id} {e.invoice_id or ''}: {exc}".replace(" :", ":"))
        audit.record(
            con,
            AuditEvent.APPROVAL,
            (communications[0].as_of if communications else today or date.today()).isoformat(),
            {
                "decided_by": approval.decided_by,
                "asked": sorted(c.key for c in communications),
                "approved": sorted(c.key for c in going),
                "exclusion_ids": ids,
                "exclusions_refused": refused,
            },
            flow_run_id=flow_run_id,
        )
    return going
