"""The obvious settlements taken before the cascade: only transfers nothing else contests."""

from __future__ import annotations

from datetime import date

import polars as pl

from o2c.models.schemas import BANK_TRANSACTION, CUSTOMER, OPEN_ITEM, PAYER_ALIAS
from o2c.tasks.reconciliation.fast_path import obvious_settlements
from o2c.tasks.reconciliation.payers import known_ibans
from o2c.tasks.reconciliation.references import (
    invoice_keys,
    reference_keys,
    structured_pairs,
    text_hits,
)
from tests.tasks.reconciliation.conftest import CUSTOMERS, frame, item, pairs, tx

ITEMS = [
    item("FA-2024-00001", "C1", 10_000, reference="RF18539007547034"),
    item("FA-2024-00002", "C1", 20_000),
    item("FA-2024-00003", "C2", 30_000),
    item("FA-2024-00004", "C2", 40_000, currency="USD"),
]


def _obvious(transactions: list[dict], items: list[dict] = ITEMS) -> set[tuple[str, str, str]]:
    known = known_ibans(frame(CUSTOMERS, CUSTOMER), frame([], PAYER_ALIAS))
    t = frame(transactions, BANK_TRANSACTION).with_columns(
        t=pl.int_range(pl.len(), dtype=pl.UInt32)
    )
    i = frame(items, OPEN_ITEM).with_columns(i=pl.int_range(pl.len(), dtype=pl.UInt32))
    found = obvious_settlements(
        t,
        i,
        structured_pairs(t, reference_keys(i, carry=("i",)), carry=("t", "i")),
        text_hits(t, invoice_keys(i, carry=("i",)), "t"),
        known,
    )
    return set(found.select("transaction_id", "invoice_id", "rule").iter_rows())


def test_one_number_or_reference_for_exactly_the_open_amount_is_obvious():
    got = _obvious(
        [
            tx("t1", 10_000, remittance_structured="RF18 5390 0754 7034"),
            tx("t2", 20_000, remittance_unstructured="Facture FA 2024 2"),
            tx("t3", 29_000, remittance_unstructured="Facture FA-2024-00003"),  # short: cascade
            tx("t4", 40_000, remittance_unstructured="FA-2024-00004"),  # EUR paid, USD invoice
        ]
    )
    assert got == {
        ("t1", "FA-2024-00001", "structured_reference"),
        ("t2", "FA-2024-00002", "invoice_number"),
    }


def test_contested_invoices_are_left_to_the_cascade():
    # Two texts name FA-2: the cascade decides who came first. FA-3 is named by t3's text and by
    # t4's end-to-end id: rule 1 (t4) goes before rule 2 (t3) there. t5 names two invoices.
    got = _obvious(
        [
            tx("t1", 20_000, remittance_unstructured="FA-2024-00002"),
            tx(
                "t2", 20_000, remittance_unstructured="FA-2024-00002", booking_date=date(2026, 3, 1)
            ),
            tx("t3", 30_000, remittance_unstructured="FA-2024-00003"),
            tx("t4", 1_000, end_to_end_id="FA-2024-00003"),
            tx("t5", 10_000, remittance_unstructured="FA-2024-00001 FA-2024-00002"),
        ]
    )
    assert got == set()


def test_the_engine_settles_the_same_with_or_without_contest(run):
    # t2 is obvious; t1's reference and t3's text both name FA-1, so the cascade decides: rule 1
    # first, so t1 settles FA-1 and t3 finds it paid (finance's question: it names FA-1).
    txs = [
        tx("t1", 10_000, remittance_structured="RF18539007547034", booking_date=date(2026, 3, 5)),
        tx("t2", 20_000, remittance_unstructured="FA-2024-00002"),
        tx("t3", 10_000, remittance_unstructured="FA-2024-00001", booking_date=date(2026, 3, 1)),
    ]
    r = run(txs, ITEMS, customers=[])
    assert pairs(r) == [
        ("t1", "FA-2024-00001", 10_000, "payment", "structured_reference"),
        ("t2", "FA-2024-00002", 20_000, "payment", "invoice_number"),
    ]
    assert dict(r.exceptions.select("transaction_id", "reason").iter_rows()) == {
        "t3": "cites_paid_document"
    }


def test_a_text_paid_from_another_customers_account_is_left_to_the_cascade():
    # C1's account (a group's treasury) paying C2's FA-3 exactly: the cascade asks finance.
    dupont = "FR1420041010050500013M02606"
    got = _obvious(
        [
            tx("t1", 30_000, counterparty_iban=dupont, remittance_unstructured="FA-2024-00003"),
            tx("t2", 20_000, counterparty_iban=dupont, remittance_unstructured="FA-2024-00002"),
        ]
    )
    assert got == {("t2", "FA-2024-00002", "invoice_number")}
    # The same account as a bank may print it, in groups and lower case.
    printed = "fr14 2004 1010 0505 0001 3m02 606"
    assert _obvious([tx("t3", 30_000, counterparty_iban=printed,
                        remittance_unstructured="FA-2024-00003")]) == set()  # fmt: skip
