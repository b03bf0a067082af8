"""Invoice numbers keyed by hand with a slip (issue 15, round 3): two neighbouring digits swapped
or one digit wrong. A slip is corrected only when no other reading of the text is as likely:
the number typed is no other document (open or settled before the run; another customer's only
when the company's settings say so), and the named invoice is not paid partly while its
neighbour is open for exactly the amount."""

from __future__ import annotations

import json
from datetime import date

import polars as pl

from o2c.tasks.reconciliation.config import ReconciliationConfig
from o2c.tasks.reconciliation.engine import reconcile
from tests.tasks.reconciliation.conftest import inputs, item, pairs, tx

LAB = "IT82F2076764470673631829144"
CUSTOMERS = [
    {"customer_id": "C1", "name": "Laboratori Analitica Milano S.r.l.", "iban": LAB},
    {"customer_id": "C2", "name": "Laboratoire Morel Biolab SELAS", "iban": None},
]


def test_a_customer_citing_its_own_paid_invoice_is_asked_not_corrected(run):
    # The lab pays F2600392 by its number in March; in June it writes "F2600392" again with
    # exactly what its F2600329 is open for. A number the lab itself was invoiced under is what
    # it wrote (a second payment, a mix-up of its own files): finance decides.
    items = [item("F2600392", "C1", 36_871), item("F2600329", "C1", 1_161_460)]
    first = tx("t1", 36_871, counterparty_iban=LAB, remittance_unstructured="FACTURE F2600392")
    second = tx(
        "t2",
        1_161_460,
        counterparty_iban=LAB,
        booking_date=date(2026, 6, 17),
        remittance_unstructured="FACTURE F2600392",
    )
    r = run([first, second], items, customers=CUSTOMERS)
    assert pairs(r) == [("t1", "F2600392", 36_871, "payment", "invoice_number")]
    exc = r.exceptions.row(0, named=True)
    assert exc["transaction_id"] == "t2" and "F2600329" in exc["candidates"]


def test_another_customers_number_is_asked_with_the_payers_own_invoice_first(run):
    # F2600392 is another lab's invoice, F2600329 the payer's own, open for exactly what came:
    # a slip of two digits, or money meant for the other document? Two readings: finance's
    # call, with the payer's invoice offered first so one click settles it.
    items = [item("F2600392", "C2", 36_871), item("F2600329", "C1", 1_161_460)]
    t = tx("t1", 1_161_460, counterparty_iban=LAB, remittance_unstructured="FACTURE F2600392")
    r = run([t], items, customers=CUSTOMERS)
    assert r.allocations.height == 0
    exc = r.exceptions.row(0, named=True)
    assert exc["transaction_id"] == "t1"
    assert json.loads(exc["candidates"])[0]["invoice_ids"] == ["F2600329"]


def test_a_company_may_choose_to_correct_a_slip_onto_another_customers_number(run):
    # references.slip_onto_another_customers_document = "correct": a payer does not pay someone
    # else's invoice by its number with exactly what its own is open for.
    items = [item("F2600392", "C2", 36_871), item("F2600329", "C1", 1_161_460)]
    t = tx("t1", 1_161_460, counterparty_iban=LAB, remittance_unstructured="FACTURE F2600392")
    config = ReconciliationConfig(correct_slips_onto_other_customers=True)
    assert pairs(run([t], items, customers=CUSTOMERS, config=config)) == [
        ("t1", "F2600329", 1_161_460, "payment", "invoice_number_fuzzy")
    ]


def test_a_number_that_is_no_document_is_corrected_to_the_payers_invoice(run):
    # F2600392 exists nowhere: nothing else was meant; the payer's F2600329 fits to the cent.
    items = [item("F2600329", "C1", 1_161_460)]
    t = tx("t1", 1_161_460, counterparty_iban=LAB, remittance_unstructured="FACTURE F2600392")
    assert pairs(run([t], items, customers=CUSTOMERS)) == [
        ("t1", "F2600329", 1_161_460, "payment", "invoice_number_fuzzy")
    ]


def test_the_payers_own_number_settled_before_this_run_is_asked_not_corrected():
    # The lab's own F2600392 was paid last month (no longer open, so not among the run's items):
    # writing it again is a duplicate as likely as a slip for F2600329.
    frames = inputs(
        [tx("t1", 1_161_460, counterparty_iban=LAB, remittance_unstructured="FACTURE F2600392")],
        [item("F2600329", "C1", 1_161_460)],
        customers=CUSTOMERS,
    )
    closed = pl.DataFrame({"invoice_id": ["F2600392"], "customer_id": ["C1"]})
    assert reconcile(*frames).allocations.height == 1  # without that history: corrected
    r = reconcile(*frames, closed_items=closed)
    assert r.allocations.height == 0
    assert r.exceptions["transaction_id"].to_list() == ["t1"]


def test_a_named_invoice_short_paid_while_its_neighbour_fits_exactly_is_asked(run):
    # "FACTURE F2600206" with 434.85: F2600206 is open for 537.16 (a partial payment?) and
    # F2600260, the same digits with two swapped, for exactly 434.85 (a slip?).
    items = [item("F2600206", "C1", 53_716), item("F2600260", "C1", 43_485)]
    t = tx("t1", 43_485, counterparty_iban=LAB, remittance_unstructured="FACTURE F2600206")
    r = run([t], items, customers=CUSTOMERS)
    assert r.allocations.height == 0
    exc = r.exceptions.row(0, named=True)
    assert exc["reason"] == "reference_amount_mismatch"
    assert "F2600206" in exc["candidates"] and "F2600260" in exc["candidates"]


def test_a_named_invoice_short_paid_with_no_neighbour_fitting_is_a_partial_payment(run):
    items = [item("F2600206", "C1", 53_716), item("F2600777", "C1", 43_485)]
    t = tx("t1", 43_485, counterparty_iban=LAB, remittance_unstructured="FACTURE F2600206")
    assert pairs(run([t], items, customers=CUSTOMERS)) == [
        ("t1", "F2600206", 43_485, "payment", "invoice_number")
    ]
