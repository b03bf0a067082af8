"""Small hand-written frames for the reconciliation tests."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from o2c.models.schemas import (
    ALLOCATION,
    BANK_TRANSACTION,
    CUSTOMER,
    OPEN_ITEM,
    PAYER_ALIAS,
)
from o2c.tasks.reconciliation.engine import CLOSED_ITEM, DECISION, ReconciliationResult, reconcile
from o2c.tasks.reconciliation.reversals import ORIGIN_COLUMNS


def tx(transaction_id: str, amount_cents: int, **kw: object) -> dict:
    row = {c: None for c in BANK_TRANSACTION}
    row.update(
        transaction_id=transaction_id,
        account_iban="FR7630001007941234567890185",
        currency="EUR",
        booking_date=date(2026, 3, 2),
        amount_cents=amount_cents,
        is_reversal=False,
    )
    row.update(kw)
    return row


def item(invoice_id: str, customer_id: str, open_cents: int, **kw: object) -> dict:
    row = {c: None for c in OPEN_ITEM}
    row.update(
        invoice_id=invoice_id,
        document_type="invoice" if open_cents > 0 else "credit_note",
        customer_id=customer_id,
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        currency="EUR",
        amount_total_cents=open_cents,
        amount_open_cents=open_cents,
    )
    row.update(kw)
    return row


def frame(rows: list[dict], schema: dict) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


CUSTOMERS = [
    {"customer_id": "C1", "name": "Boulangerie Dupont SARL", "iban": "FR1420041010050500013M02606"},
    {"customer_id": "C2", "name": "Transports Martin SAS", "iban": "DE89370400440532013000"},
    {"customer_id": "C3", "name": "Garage Lefebvre", "iban": None},
]


def inputs(
    transactions, items, *, customers=CUSTOMERS, aliases=(), past=(), decisions=()
) -> tuple[pl.DataFrame, ...]:
    """reconcile()'s six positional frames from row dicts, with empty defaults."""
    return (
        frame(list(transactions), BANK_TRANSACTION),
        frame(list(items), OPEN_ITEM),
        frame(list(customers), CUSTOMER),
        frame(list(aliases), PAYER_ALIAS),
        frame(list(past), {**ALLOCATION, **ORIGIN_COLUMNS}),
        frame(list(decisions), DECISION),
    )


@pytest.fixture
def run():
    """reconcile() over row dicts, with sensible empty defaults."""

    def _run(
        transactions,
        items,
        *,
        customers=CUSTOMERS,
        aliases=(),
        past=(),
        decisions=(),
        config=None,
        closed=(),
    ):
        return reconcile(
            *inputs(
                transactions,
                items,
                customers=customers,
                aliases=aliases,
                past=past,
                decisions=decisions,
            ),
            config=config,
            closed_items=frame(list(closed), CLOSED_ITEM),
        )

    return _run


def pairs(result: ReconciliationResult) -> list[tuple]:
    """(transaction, invoice, cents, kind, rule) sorted: what tests compare."""
    return sorted(
        result.allocations.select(
            "transaction_id", "invoice_id", "amount_cents", "kind", "rule"
        ).iter_rows(),
        key=lambda r: (r[0], r[1] or "", r[3]),
    )
