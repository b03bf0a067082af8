"""The buyer's order number in the text (issue 15): export and web customers pay the pro forma
before the invoice exists ("Proforma PF-2025-0012"), accounts payable departments write their own
purchase order ("PO 4500012345"). The ERP keeps that number on the invoice (po_number): it names
the invoice as its own number would, and only when one customer's documents carry it."""

from __future__ import annotations

import json
from datetime import date

import polars as pl

from o2c.models.schemas import OPEN_ITEM_ORDER
from o2c.tasks.reconciliation.engine import reconcile
from tests.tasks.reconciliation.conftest import inputs, item, pairs, tx


def run_with_orders(transactions, items, orders: dict[str, str]):
    """reconcile() with each item's po_number from ``orders`` (invoice_id -> number)."""
    frames = list(inputs(transactions, items))
    frames[1] = (
        frames[1]
        .with_columns(po_number=pl.col("invoice_id").replace_strict(orders, default=None))
        .cast(OPEN_ITEM_ORDER)
    )
    return reconcile(*frames)


def test_a_pro_forma_number_names_the_invoice_paid_before_it_was_issued():
    # FA-2025-0012 is another customer's invoice whose digits the pro forma number shares.
    items = [
        item("FA-2025-0245", "C1", 67_200, issue_date=date(2025, 3, 20)),
        item("FA-2025-0012", "C2", 67_200),
    ]
    t = tx(
        "t1",
        67_200,
        booking_date=date(2025, 3, 18),
        remittance_unstructured="Proforma PF-2025-0012",
    )
    r = run_with_orders([t], items, {"FA-2025-0245": "PF-2025-0012"})
    assert pairs(r) == [("t1", "FA-2025-0245", 67_200, "payment", "invoice_number")]


def test_an_order_number_written_otherwise_still_names_it_and_a_deposit_is_partial():
    items = [item("FB25-00059", "C1", 233_580)]
    for text in ("PF 25 0012 ACOMPTE COMMANDE", "acompte pf250012", "Avance 30% PF25-0012"):
        t = tx("t1", 70_074, remittance_unstructured=text)
        r = run_with_orders([t], items, {"FB25-00059": "PF25-0012"})
        assert pairs(r) == [("t1", "FB25-00059", 70_074, "payment", "invoice_number")], text


def test_an_order_number_two_customers_use_names_nothing():
    items = [item("FA-1", "C1", 50_000), item("FA-2", "C2", 80_000)]
    t = tx("t1", 50_000, remittance_unstructured="PO 4500012345")
    r = run_with_orders([t], items, {"FA-1": "4500012345", "FA-2": "4500012345"})
    assert r.allocations.height == 0
    assert r.exceptions["transaction_id"].to_list() == ["t1"]


def test_a_short_or_wordy_order_number_names_nothing():
    items = [item("FA-1", "C1", 50_000), item("FA-2", "C1", 60_000)]
    t = tx("t1", 50_000, remittance_unstructured="COMMANDE 123 LOT GO")
    r = run_with_orders([t], items, {"FA-1": "COMMANDE", "FA-2": "123"})
    assert r.allocations.height == 0


def test_an_order_with_several_open_documents_is_finances_question_sets_that_fit_first():
    # A yearly engagement number covers many invoices: which were paid, the number does not say.
    items = [item("FA-1", "C1", 30_000), item("FA-2", "C1", 45_000), item("FA-3", "C1", 12_500)]
    t = tx("t1", 42_500, remittance_unstructured="MANDAT 2026-0309 EJ EJ1300060002")
    r = run_with_orders([t], items, dict.fromkeys(("FA-1", "FA-2", "FA-3"), "EJ1300060002"))
    assert r.allocations.height == 0
    (exc,) = r.exceptions.iter_rows(named=True)
    listed = [c["invoice_ids"] for c in json.loads(exc["candidates"])]
    assert listed[0] == ["FA-1", "FA-3"] and sorted(listed[1:]) == [["FA-1"], ["FA-2"], ["FA-3"]]


def test_an_order_with_one_document_open_when_the_money_came_names_it():
    # The engagement's next invoice was issued after the payment: it was not what was paid.
    items = [
        item("FA-1", "C1", 30_000, issue_date=date(2026, 1, 5)),
        item("FA-2", "C1", 30_000, issue_date=date(2026, 4, 5)),
    ]
    t = tx("t1", 30_000, booking_date=date(2026, 3, 2), remittance_unstructured="EJ EJ1300060002")
    r = run_with_orders([t], items, dict.fromkeys(("FA-1", "FA-2"), "EJ1300060002"))
    assert pairs(r) == [("t1", "FA-1", 30_000, "payment", "invoice_number")]


def test_a_document_a_later_transfer_paid_was_still_open_when_the_money_came():
    # FA-2 is paid by its number a month later: on March 2nd the engagement had two open.
    items = [item("FA-1", "C1", 30_000), item("FA-2", "C1", 45_000)]
    by_order = tx(
        "t1", 30_000, booking_date=date(2026, 3, 2), remittance_unstructured="EJ1300060002"
    )
    by_number = tx("t2", 45_000, booking_date=date(2026, 4, 2), remittance_unstructured="FACT FA-2")
    r = run_with_orders(
        [by_order, by_number], items, dict.fromkeys(("FA-1", "FA-2"), "EJ1300060002")
    )
    assert pairs(r) == [("t2", "FA-2", 45_000, "payment", "invoice_number")]
    assert r.exceptions["transaction_id"].to_list() == ["t1"]


# A developer's programme company (SCCV) pays a building site's invoices: the site's name is in
# the order field ("Chantier Les Tilleuls - lot GO"), the payer is not the customer on file.
SITES = {
    "FT-1": "Chantier Les Tilleuls - lot GO",
    "FT-2": "Chantier Les Tilleuls - lot CLOS",
    "FT-3": "Chantier Cœur Balma - lot CLOS",
    "FT-4": "Chantier Quai des Savoirs - lot CLOS",
}


def site_items(*amounts: int) -> list[dict]:
    owners = ("C1", "C1", "C1", "C2")
    return [item(f"FT-{k}", owners[k - 1], cents) for k, cents in enumerate(amounts, start=1)]


def test_a_site_named_in_the_text_pays_the_one_set_of_its_invoices_that_makes_the_amount():
    t = tx(
        "t1",
        70_000,
        counterparty_name="SCCV LES TILLEULS",
        remittance_unstructured="SITUATION 02 LES TILLEULS",
    )
    r = run_with_orders([t], site_items(30_000, 40_000, 70_000, 70_000), SITES)
    assert pairs(r) == [
        ("t1", "FT-1", 30_000, "payment", "grouped_invoice_numbers"),
        ("t1", "FT-2", 40_000, "payment", "grouped_invoice_numbers"),
    ]
    # Accents and ligatures as the bank prints them: "COEUR BALMA" names Cœur Balma's.
    t = tx("t1", 70_000, remittance_unstructured="OPERATION COEUR BALMA ACPTE 1")
    assert pairs(run_with_orders([t], site_items(30_000, 40_000, 70_000, 70_000), SITES)) == [
        ("t1", "FT-3", 70_000, "payment", "invoice_number")
    ]


def test_a_site_with_two_sets_that_make_the_amount_is_finances_question():
    t = tx("t1", 30_000, remittance_unstructured="CHANTIER LES TILLEULS REGLT FOURNITURES")
    r = run_with_orders([t], site_items(30_000, 30_000, 70_000, 70_000), SITES)
    assert r.allocations.height == 0
    assert r.exceptions["reason"].to_list() == ["ambiguous_reference"]


def test_words_every_developer_writes_name_no_site():
    # "CHANTIER" and the lot words are in both developers' order fields: no one's.
    t = tx("t1", 70_000, remittance_unstructured="CHANTIER LOT CLOS")
    assert (
        run_with_orders([t], site_items(30_000, 40_000, 70_000, 70_000), SITES).allocations.height
        == 0
    )


def test_an_order_number_paid_less_the_customers_open_credit_note_nets_it():
    # "Votre pro forma PO 8453": the invoice under that order, less the avoir the customer has
    # open and does not name, is exactly what came.
    items = [item("F2025-01061", "C1", 1_949_848), item("AV2025-0033", "C1", -194_900)]
    t = tx("t1", 1_754_948, remittance_unstructured="Votre pro forma PO 8453")
    r = run_with_orders([t], items, {"F2025-01061": "PO 8453"})
    assert pairs(r) == [
        ("t1", "AV2025-0033", -194_900, "payment", "invoice_number"),
        ("t1", "F2025-01061", 1_949_848, "payment", "invoice_number"),
    ]
