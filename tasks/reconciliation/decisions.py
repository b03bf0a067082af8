"""Finance's decisions from the paused run's form: what the form offers, and its answer as lines.

The form (models/decisions.decision_form) shows each open exception as a readable label (date,
amount, payer, text) with its choices: one of its ranked candidates, invoices picked from the
payer's open items, a split over them, or "not a customer payment". Nobody types an id: every
choice is a label the form offers, mapped back here to the decision lines
store.record_decisions applies and reports line by line (the form's line is the exception's
number in it).
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import polars as pl

from o2c.tasks.common.language import Lang, format_date, format_money, label
from o2c.tasks.reconciliation.report import candidate_label

FORM_LIMIT = 30  # exceptions on one form, oldest first; the others on the next run's form
_ITEMS = 40  # of a payer's open items, the oldest this many are offered
_TEXT = 48  # characters of the payer and text shown in a label

# The form's words: the catalog's reconciliation.form.* keys (templates/labels/<lang>.toml).
FORM_WORDS = (
    "later", "not_customer", "chosen", "split", "decided_by", "decision", "invoices",
    "split_lines", "invoice", "amount", "note", "no_payer",
)  # fmt: skip


def word(key: str, lang: Lang, **values: object) -> str:
    """A word of the form: the catalog's ``reconciliation.form.<key>``."""
    return label(f"reconciliation.form.{key}", lang, **values)


def _short(text: object, size: int = _TEXT) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= size else flat[: size - 1].rstrip() + "…"


def _unique(labels: list[str]) -> list[str]:
    """Labels made distinct (a choice is found back by its label): " (2)" on a repeat."""
    seen: dict[str, int] = {}
    out = []
    for text in labels:
        seen[text] = seen.get(text, 0) + 1
        out.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    return out


def form_exceptions(
    con: duckdb.DuckDBPyConnection, lang: Lang, limit: int = FORM_LIMIT
) -> list[dict[str, Any]]:
    """The open exceptions the form offers, oldest first, each as plain data: transaction_id,
    label, candidates [{label, pick}] (pick: "candidate N"), items [{label, invoice_id}]: the
    open items of the payer (by IBAN or learned alias) and of its candidates' customers."""
    rows = con.execute(
        """SELECT e.transaction_id, t.booking_date, t.amount, t.currency, t.counterparty_name,
                  coalesce(t.remittance_unstructured, t.remittance_structured), e.candidates,
                  t.counterparty_iban
           FROM reconciliation_exceptions e JOIN bank_transactions t USING (transaction_id)
           WHERE e.status = 'open'
           ORDER BY t.booking_date, e.transaction_id
           LIMIT ?""",
        [limit],
    ).fetchall()
    out = []
    for tx_id, booked, amount, currency, payer, text, raw, iban in rows:
        candidates = json.loads(raw or "[]")
        shown = " · ".join(
            p
            for p in (
                format_date(booked, lang),
                format_money(amount, currency, lang),
                _short(payer) or word("no_payer", lang),
                _short(text),
            )
            if p
        )
        invoices = sorted(
            {i for c in candidates for i in (c.get("invoice_ids") or []) if ":" not in i}
        )
        out.append(
            {
                "transaction_id": tx_id,
                "label": shown,
                "currency": currency,
                "candidates": [
                    {"label": candidate_label(n, c, currency, lang), "pick": f"candidate {n}"}
                    for n, c in enumerate(candidates, start=1)
                ],
                "items": _payer_items(con, iban, invoices, currency, lang),
            }
        )
    labels = _unique([e["label"] for e in out])
    return [{**e, "label": text} for e, text in zip(out, labels, strict=True)]


def _payer_items(
    con: duckdb.DuckDBPyConnection, iban: str | None, invoices: list[str], currency: str, lang: Lang
) -> list[dict[str, str]]:
    """Open items (in the payment's currency) of the customers the payer's IBAN or the
    candidates' invoices point to, oldest due first."""
    found = con.execute(
        """WITH who AS (
               SELECT customer_id FROM customers
               WHERE ? IS NOT NULL AND replace(upper(iban), ' ', '') = replace(upper(?), ' ', '')
               UNION SELECT customer_id FROM customer_payer_aliases
               WHERE ? IS NOT NULL
                 AND replace(upper(payer_iban), ' ', '') = replace(upper(?), ' ', '')
               UNION SELECT customer_id FROM invoices WHERE list_contains(?, invoice_id)
           )
           SELECT o.invoice_id, o.due_date, o.amount_open, c.name
           FROM open_items o JOIN who USING (customer_id)
           LEFT JOIN customers c USING (customer_id)
           WHERE o.currency = ? AND o.amount_open > 0
           ORDER BY o.due_date, o.invoice_id
           LIMIT ?""",
        [iban, iban, iban, iban, invoices, currency, _ITEMS],
    ).fetchall()
    labels = [
        f"{inv} · {_short(name, 30)} · {format_money(amount, currency, lang)}"
        f" · {format_date(due, lang)}"
        for inv, due, amount, name in found
    ]
    return [
        {"label": text, "invoice_id": inv}
        for text, (inv, *_) in zip(_unique(labels), found, strict=True)
    ]


def form_lines(
    answer: dict[str, Any], exceptions: list[dict[str, Any]], lang: Lang
) -> pl.DataFrame:
    """The form's answer ({field: {decision, invoices, split, note}}, fields numbered as
    ``exceptions``) as decision lines (transaction_id, invoice_id, amount, note, line, problem):
    the exception's number is its line; an answer the form cannot turn into a decision (no
    invoice ticked, no split line) carries its ``problem`` for record_decisions to report."""
    rows = []
    for n, exc in enumerate(exceptions, start=1):
        got = answer.get(field_name(n)) or {}
        choice = got.get("decision") or word("later", lang)
        note = got.get("note") or None
        base = {"transaction_id": exc["transaction_id"], "note": note, "line": n}
        picks = {c["label"]: c["pick"] for c in exc["candidates"]}
        items = {i["label"]: i["invoice_id"] for i in exc["items"]}
        where = f"decisions (ui) line {n}"  # the report shows the line and the payment
        if choice == word("later", lang):
            continue
        if choice == word("not_customer", lang):
            rows.append({**base, "invoice_id": None, "amount": None, "problem": None})
        elif choice in picks:
            rows.append({**base, "invoice_id": picks[choice], "amount": None, "problem": None})
        elif choice == word("chosen", lang):
            chosen = [items[t] for t in got.get("invoices") or [] if t in items]
            rows += [
                {**base, "invoice_id": inv, "amount": None, "problem": None} for inv in chosen
            ] or [{**base, "invoice_id": None, "amount": None,
                   "problem": f"{where}: {word('no_invoice_ticked', lang)}"}]  # fmt: skip
        elif choice == word("split", lang):
            parts = [p for p in got.get("split") or [] if p.get("invoice") in items]
            rows += [
                {**base, "invoice_id": items[p["invoice"]], "amount": p.get("amount"),
                 "problem": None}
                for p in parts
            ] or [{**base, "invoice_id": None, "amount": None,
                   "problem": f"{where}: {word('no_split_line', lang)}"}]  # fmt: skip
        else:  # the form offered it, so only an out-of-date form gets here
            rows.append(
                {**base, "invoice_id": None, "amount": None,
                 "problem": f"{where}: {word('not_a_choice', lang, choice=repr(choice))}"}
            )  # fmt: skip
    schema = {
        "transaction_id": pl.String,
        "invoice_id": pl.String,
        "amount": pl.String,
        "note": pl.String,
        "line": pl.Int64,
        "problem": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def field_name(n: int) -> str:
    """The form's field of the n-th exception (a stable, plain name; its title is the label)."""
    return f"payment_{n:02d}"


def payment_labels(
    con: duckdb.DuckDBPyConnection, transaction_ids: list[str], lang: Lang
) -> dict[str, str]:
    """transaction_id -> "04/12/2026 · 1 792,91 EUR · DGFIP · REMBOURSEMENT…", for the report."""
    if not transaction_ids:
        return {}
    found = con.execute(
        """SELECT transaction_id, booking_date, amount, currency, counterparty_name,
                  coalesce(remittance_unstructured, remittance_structured)
           FROM bank_transactions WHERE list_contains(?, transaction_id)""",
        [transaction_ids],
    ).fetchall()
    return {
        tx: " · ".join(
            p
            for p in (
                format_date(day, lang),
                format_money(amount, cur, lang),
                _short(payer),
                _short(text),
            )
            if p
        )
        for tx, day, amount, cur, payer, text in found
    }
