"""What finance reads after reconciliation: matched by rule, amounts, exceptions to decide."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from o2c.models.reconciliation import Rule
from o2c.tasks.common.escaping import md_label
from o2c.tasks.common.formatting import format_count as _n
from o2c.tasks.common.formatting import format_money

# What each rule means, in the words of a credit controller (models/reconciliation.py).
RULE_LABELS = {rule.value: rule.label for rule in Rule}


def _money(cents: int) -> str:
    """Integer cents summed across currencies, so shown without one: "1 234,50"."""
    return format_money(int(cents))


def allocated_lines(stats: dict[str, Any]) -> list[str]:
    """What was allocated to invoices, one line per currency ("- 1 234,50 EUR"): amounts in two
    currencies are never added. Read from ``amount_matched_by_currency`` (currency -> cents);
    stats without it (an engine that gives only the total) get the total, said to be one."""
    by_currency = stats.get("amount_matched_by_currency")
    if by_currency is None:
        return [
            f"Amount allocated to invoices: {_money(stats.get('amount_matched_cents', 0))}"
            " (all currencies added, each allocation in its invoice's currency)"
        ]
    paid = {cur: int(cents) for cur, cents in by_currency.items() if cents}
    if not paid:
        return ["Amount allocated to invoices: none"]
    lines = ["Amount allocated to invoices, per currency:", ""]
    return lines + [f"- {format_money(paid[cur], cur)}" for cur in sorted(paid)]


def summary_markdown(stats: dict[str, Any], decisions: dict[str, int] | None = None) -> str:
    """Counts, the amount allocated per currency, then counts and amounts by rule (amounts by
    rule are summed across currencies only as an indication)."""
    lines = [
        "# Reconciliation",
        "",
        "| | count |",
        "|---|---:|",
        f"| bank transactions considered | {_n(stats.get('transactions', 0))} |",
        f"| settled automatically | {_n(stats.get('settled', 0))} |",
        f"| exceptions for finance | {_n(stats.get('exceptions', 0))} |",
        f"| left alone by decision | {_n(stats.get('left_by_decision', 0))} |",
        f"| debits matching no customer item (suppliers, fees: left alone)"
        f" | {_n(stats.get('not_customer_debits', 0))} |",
        "",
        *allocated_lines(stats),
    ]
    by_rule = stats.get("by_rule") or {}
    if by_rule:
        lines += ["", "## Matched by rule", "", "| rule | meaning | transactions | amount |"]
        lines += ["|---|---|---:|---:|"]
        lines += [
            f"| {rule} | {RULE_LABELS.get(rule, '')} | {_n(v['transactions'])}"
            f" | {_money(v['amount_cents'])} |"
            for rule, v in sorted(by_rule.items())
        ]
    reasons = stats.get("exceptions_by_reason") or {}
    if reasons:
        lines += ["", "## Exceptions by reason", "", "| reason | transactions |", "|---|---:|"]
        lines += [f"| {md_label(r)} | {_n(n)} |" for r, n in sorted(reasons.items())]
        lines += [
            "",
            "Decide them in the table artifact `reconciliation-exceptions`, then feed the"
            " decisions back with `o2c reconcile --decisions FILE.csv` or the paused run's form."
            " In the invoice_id field, `candidate N` takes the N-th candidate listed for the"
            " transaction, its invoices and amounts.",
        ]
    if decisions:
        lines += ["", "## Decisions applied", ""]
        lines += [f"- {md_label(k)}: {v}" for k, v in decisions.items()]
    return "\n".join(lines) + "\n"


def open_exceptions(con: duckdb.DuckDBPyConnection, limit: int = 1000) -> list[dict[str, Any]]:
    """Open exceptions as finance reads them in the artifact, oldest booking first: what the
    payment is (date, amount, payer, text), why it waits, the numbered candidates with what
    points to each (decide with "candidate N"), then the ids."""
    rows = con.execute(
        """
        SELECT t.booking_date, t.amount, t.currency, t.counterparty_name,
               coalesce(t.remittance_structured, t.remittance_unstructured) AS remittance,
               e.reason, e.candidates, e.transaction_id, t.bank_reference, t.counterparty_iban
        FROM reconciliation_exceptions e
        JOIN bank_transactions t USING (transaction_id)
        WHERE e.status = 'open'
        ORDER BY t.booking_date, e.transaction_id
        LIMIT ?
        """,
        [limit],
    ).fetchall()
    return [
        {
            "booking_date": booked,
            "amount": format_money(amount, currency),
            "payer": payer,
            "remittance": remittance,
            "reason": reason,
            "candidates (decide with: candidate N)": candidates_text(raw, currency),
            "transaction_id": tx_id,
            "bank_reference": bank_ref,
            "payer_iban": iban,
        }
        for (
            booked,
            amount,
            currency,
            payer,
            remittance,
            reason,
            raw,
            tx_id,
            bank_ref,
            iban,
        ) in rows
    ]


def candidates_text(raw: str | None, currency: str | None = None) -> str:
    """ "1) FA-2026-0001: 600,00 EUR (score 0.65; invoice number FA-2026-0001 in the text,
    partial: ...) · 2) ..." for a person to read; the numbers are those "candidate N" takes."""
    if not raw:
        return ""
    try:
        candidates = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    parts = []
    for n, c in enumerate(candidates, start=1):
        ids = c.get("invoice_ids") or []
        amounts = c.get("amounts_cents")
        if amounts and len(amounts) == len(ids) and len(ids) > 1:
            what = " + ".join(
                f"{i} {format_money(a, currency)}" for i, a in zip(ids, amounts, strict=True)
            )
        else:
            what = ", ".join(ids)
            if c.get("amount_cents") is not None:
                what += f": {format_money(int(c['amount_cents']), currency)}"
        label = RULE_LABELS.get(c.get("rule") or "", c.get("rule") or "")
        why = "; ".join(c.get("why") or []) or label
        parts.append(f"{n}) {what} (score {c.get('score')}; {why})")
    return " · ".join(parts)
