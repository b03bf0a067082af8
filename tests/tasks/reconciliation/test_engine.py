"""The cascade as a whole: order of rules, consumption of open amounts, determinism, decisions."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest

from tests.tasks.reconciliation.conftest import item, pairs, tx

DUPONT = "FR1420041010050500013M02606"
MARTIN = "DE89370400440532013000"


def test_two_transfers_cannot_settle_the_same_cents(run):
    # Both name FA-1 (open 100,00): the earlier booked settles it; the later one finds it paid,
    # and finance is asked about it with FA-1 as its candidate (a duplicate?).
    items = [item("FA-1", "C1", 10_000)]
    a = tx("ta", 10_000, booking_date=date(2026, 3, 3), remittance_unstructured="FA-1")
    b = tx("tb", 10_000, booking_date=date(2026, 3, 2), remittance_unstructured="FA-1")
    r = run([a, b], items)
    assert pairs(r) == [("tb", "FA-1", 10_000, "payment", "invoice_number")]
    [(tx_id, reason, candidates)] = r.exceptions.rows()
    assert (tx_id, reason) == ("ta", "cites_paid_document")
    assert [c["invoice_ids"] for c in json.loads(candidates)] == [["FA-1"]]


def test_two_partial_payments_of_one_invoice_are_both_applied(run):
    items = [item("FA-1", "C1", 10_000)]
    a = tx("ta", 6_000, booking_date=date(2026, 3, 2), remittance_unstructured="FA-1")
    b = tx("tb", 4_000, booking_date=date(2026, 3, 3), remittance_unstructured="FA-1")
    a["counterparty_iban"] = b["counterparty_iban"] = DUPONT
    r = run([b, a], items)
    assert pairs(r) == [
        ("ta", "FA-1", 6_000, "payment", "invoice_number"),
        ("tb", "FA-1", 4_000, "payment", "invoice_number"),
    ]


def test_reference_rule_comes_before_amount_rule(run):
    # The amount fits FA-2 exactly but the text names FA-1: the text wins (partial on FA-1).
    items = [item("FA-1", "C1", 50_000), item("FA-2", "C1", 20_000)]
    r = run([tx("t1", 20_000, counterparty_iban=DUPONT, remittance_unstructured="FA-1")], items)
    assert pairs(r) == [("t1", "FA-1", 20_000, "payment", "invoice_number")]


def _mixed_case():
    items = [
        item("FA-2024-00001", "C1", 10_000),
        item("FA-2024-00002", "C1", 20_000),
        item("FA-2024-00003", "C1", 30_000),
        item("FA-2024-00004", "C2", 40_000),
        item("FA-2024-00005", "C2", 40_000),
        item("FA-2024-00006", "C3", 5_000),
    ]
    txs = [
        tx("t1", 10_000, remittance_unstructured="FA 2024 1"),
        tx("t2", 50_000, counterparty_iban=DUPONT),
        tx("t3", 40_000, counterparty_iban="DE89370400440532013000"),
        tx("t4", 5_000, counterparty_name="GARAGE LEFEBVRE"),
        tx("t5", 4_000, remittance_unstructured="FA-2024-00004", counterparty_iban=MARTIN),
        tx(
            "t6",
            4_000,
            remittance_unstructured="FA-2024-00004",
            counterparty_iban=MARTIN,
            booking_date=date(2026, 3, 1),
        ),
        tx("t7", 999, remittance_unstructured="hello"),
    ]
    return txs, items


def test_same_result_whatever_the_row_order(run):
    txs, items = _mixed_case()
    first = run(txs, items)
    # Seven allocations and one exception (test_mixed_case_figures has them row by row).
    assert (first.allocations.height, first.exceptions.height) == (7, 1)
    rng = random.Random(7)
    for _ in range(5):
        t2, i2 = txs[:], items[:]
        rng.shuffle(t2)
        rng.shuffle(i2)
        again = run(t2, i2)
        assert again.allocations.equals(first.allocations)
        assert again.exceptions.equals(first.exceptions)


def test_mixed_case_figures(run):
    txs, items = _mixed_case()
    r = run(txs, items)
    assert pairs(r) == [
        ("t1", "FA-2024-00001", 10_000, "payment", "invoice_number"),
        ("t2", "FA-2024-00002", 20_000, "payment", "payer_iban_amount_set"),
        ("t2", "FA-2024-00003", 30_000, "payment", "payer_iban_amount_set"),
        ("t3", "FA-2024-00005", 40_000, "payment", "payer_iban_amount"),
        ("t4", "FA-2024-00006", 5_000, "payment", "payer_name_amount"),
        ("t5", "FA-2024-00004", 4_000, "payment", "invoice_number"),
        ("t6", "FA-2024-00004", 4_000, "payment", "invoice_number"),
    ]
    # t3: C2 had two items of 400,00, but t5 and t6 (earlier rule) took 80,00 off FA-4,
    # so only FA-5 is still open for exactly 400,00. t7: nothing fits.
    assert dict(r.exceptions.select("transaction_id", "reason").iter_rows()) == {"t7": "no_match"}
    assert r.stats["settled"] == 6
    assert r.stats["amount_matched_cents"] == 10_000 + 50_000 + 40_000 + 5_000 + 8_000


def test_two_equal_items_for_one_iban_payment_is_an_exception(run):
    items = [item("FA-4", "C2", 40_000), item("FA-5", "C2", 40_000)]
    r = run([tx("t3", 40_000, counterparty_iban="DE89370400440532013000")], items)
    assert r.allocations.height == 0
    assert r.exceptions["reason"].to_list() == ["ambiguous_amount"]


def test_decisions_settle_or_leave_alone(run):
    items = [item("FA-1", "C1", 10_000)]
    txs = [tx("t1", 10_000, remittance_unstructured="??"), tx("t2", -3_000)]
    decisions = [
        {"transaction_id": "t1", "invoice_id": "FA-1", "amount_cents": 10_000, "note": "phoned"},
        {"transaction_id": "t2", "invoice_id": None, "amount_cents": None, "note": "bank fee"},
    ]
    r = run(txs, items, decisions=decisions)
    assert pairs(r) == [("t1", "FA-1", 10_000, "payment", "manual")]
    assert r.exceptions.height == 0
    assert r.stats["left_by_decision"] == 1


def test_duplicate_transaction_ids_are_refused(run):
    with pytest.raises(ValueError, match="t1"):
        run([tx("t1", 1), tx("t1", 2)], [])


def test_debits_that_match_nothing_are_not_exceptions(run):
    # Salaries and bank fees are the company's own spending: left unallocated and counted, with
    # no exception for finance. A refund of a credit note still settles it, a refund that fits
    # two credit notes alike is still an exception, and so is a credit nobody claims.
    items = [
        item("AV-1", "C1", -5_000),
        item("AV-2", "C2", -3_000),
        item("AV-3", "C2", -3_000),
    ]
    txs = [
        tx("salary", -250_000, remittance_unstructured="VIR SALAIRES 03/2026"),
        tx("fee", -1_500, remittance_unstructured="FRAIS TENUE DE COMPTE 03/2026"),
        tx("refund", -5_000, remittance_unstructured="Remboursement avoir AV-1"),
        tx("refund2", -3_000, counterparty_iban=MARTIN),
        tx("stray", 999, remittance_unstructured="hello"),
    ]
    r = run(txs, items)
    assert pairs(r) == [("refund", "AV-1", -5_000, "payment", "invoice_number")]
    assert dict(r.exceptions.select("transaction_id", "reason").iter_rows()) == {
        "refund2": "ambiguous_amount",
        "stray": "no_match",
    }
    assert r.not_customer_debits["transaction_id"].to_list() == ["fee", "salary"]
    assert r.stats["not_customer_debits"] == 2
    assert r.stats["exceptions"] == 2
