"""Partial, over and short payments that name their invoice (issue 15). French customers pay a
deposit ("Acompte 30 % FA...") then the balance ("Solde FA... déduction acompte"), add their own
bank's fees, or let their bank take charges; the payer may be known only by the name on a CFONB
line (no IBAN there). What came goes on the invoice named; a surplus is a credit on the customer;
charges within the tolerance are written off under their own rule."""

from __future__ import annotations

from datetime import date

import polars as pl

from tests.tasks.reconciliation.conftest import item, pairs, tx

PERRIN = [{"customer_id": "C9", "name": "Hôtellerie Perrin SARL", "iban": None}]
OTHERS = [
    {"customer_id": "C8", "name": "Éclairage Leclerc SAS", "iban": None},
    {"customer_id": "C7", "name": "Établissements Leclerc SASU", "iban": None},
]


def test_a_deposit_then_the_balance_from_a_payer_known_by_name(run):
    items = [item("FA2026-00467", "C9", 154_680)]
    deposit = tx(
        "t1",
        77_340,
        booking_date=date(2026, 5, 7),
        counterparty_name="HOTELLERIE PERRIN SARL",
        remittance_unstructured="ACOMPTE 50 FACT FA2026-00467",
    )
    balance = tx(
        "t2",
        77_340,
        booking_date=date(2026, 6, 29),
        counterparty_name="HOTELLERIE PERRIN SARL",
        remittance_unstructured="SOLDE FACT FA2026-00467 DEDUCTION ACOMPTE",
    )
    r = run([deposit, balance], items, customers=PERRIN + OTHERS)
    assert pairs(r) == [
        ("t1", "FA2026-00467", 77_340, "payment", "invoice_number"),
        ("t2", "FA2026-00467", 77_340, "payment", "invoice_number"),
    ]


def test_a_name_two_customers_share_still_lets_the_number_decide(run):
    # "ETABLISSEMENTS LECLERC SAS" fits two customers alike; the invoice it names is C7's.
    items = [item("FA2026-00907", "C7", 236_160), item("FA2026-00908", "C8", 94_464)]
    t = tx(
        "t1",
        94_464,
        counterparty_name="ETABLISSEMENTS LECLERC SAS",
        remittance_unstructured="ACOMPTE FA2026-00907",
    )
    customers = [*OTHERS, {"customer_id": "C6", "name": "Leclerc SA", "iban": None}]
    r = run([t], items, customers=customers)
    assert pairs(r) == [("t1", "FA2026-00907", 94_464, "payment", "invoice_number")]


def test_fees_added_by_the_payer_settle_the_invoice_and_the_surplus_is_a_credit(run):
    items = [item("FA2026-00356", "C9", 1_448_400)]
    t = tx(
        "t1",
        1_448_925,
        counterparty_name="HOTELLERIE PERRIN",
        remittance_unstructured="REGLT FACT FA2026-00356",
    )
    r = run([t], items, customers=PERRIN)
    assert pairs(r) == [
        ("t1", None, 525, "unapplied_credit", "overpayment_credit"),
        ("t1", "FA2026-00356", 1_448_400, "payment", "invoice_number"),
    ]
    credit = r.allocations.filter(pl.col("kind") == "unapplied_credit")
    assert credit["customer_id"].to_list() == ["C9"]


def test_charges_within_the_tolerance_are_written_off_beyond_it_the_rest_stays_open(run):
    items = [item("FA-1", "C9", 80_700), item("FA-2", "C9", 80_700)]
    within = tx("t1", 80_400, counterparty_name="HOTELLERIE PERRIN", remittance_unstructured="FA-1")
    beyond = tx("t2", 79_700, counterparty_name="HOTELLERIE PERRIN", remittance_unstructured="FA-2")
    r = run([within, beyond], items, customers=PERRIN)
    assert pairs(r) == [
        ("t1", "FA-1", 80_400, "payment", "invoice_number"),
        ("t1", "FA-1", 300, "write_off", "short_payment_write_off"),
        ("t2", "FA-2", 79_700, "payment", "invoice_number"),
    ]


def test_invoice_minus_the_credit_note_named_beside_it(run):
    items = [item("FA-10", "C9", 100_000), item("AV-3", "C9", -12_000)]
    t = tx(
        "t1", 88_000, counterparty_name="HOTELLERIE PERRIN", remittance_unstructured="FA-10 AV-3"
    )
    r = run([t], items, customers=PERRIN)
    assert pairs(r) == [
        ("t1", "AV-3", -12_000, "payment", "grouped_invoice_numbers"),
        ("t1", "FA-10", 100_000, "payment", "grouped_invoice_numbers"),
    ]


def test_an_unknown_payer_naming_an_invoice_whose_customer_has_another_of_that_amount(run):
    # "FA-1002" with exactly FA-1001's amount, nobody known: a slip as likely as an overpayment.
    items = [item("FA-1001", "C2", 100_000), item("FA-1002", "C2", 70_000)]
    r = run([tx("t1", 100_000, remittance_unstructured="FA-1002")], items)
    assert r.allocations.height == 0


def test_a_credit_note_deducted_without_being_named_is_netted_when_it_is_the_only_one(run):
    # The customer's accounts payable take the avoir off the invoice and quote only the invoice.
    items = [
        item("FA2026-00172", "C9", 238_361),
        item("AV2026-00003", "C9", -50_000, issue_date=date(2026, 3, 20)),
    ]
    t = tx(
        "t1",
        188_361,
        booking_date=date(2026, 4, 1),
        counterparty_name="HOTELLERIE PERRIN SARL",
        remittance_unstructured="Facture FA2026-00172",
    )
    r = run([t], items, customers=PERRIN)
    assert sorted(p[:4] for p in pairs(r)) == [
        ("t1", "AV2026-00003", -50_000, "payment"),
        ("t1", "FA2026-00172", 238_361, "payment"),
    ]


def test_two_credit_notes_that_could_make_the_amount_net_nothing(run):
    # Which avoir was deducted, nothing says: the invoice takes what came, the avoirs stay open.
    items = [
        item("FA2026-00172", "C9", 238_361),
        item("AV2026-00003", "C9", -50_000),
        item("AV2026-00009", "C9", -50_000),
    ]
    t = tx(
        "t1",
        188_361,
        booking_date=date(2026, 4, 1),
        counterparty_name="HOTELLERIE PERRIN SARL",
        remittance_unstructured="Facture FA2026-00172",
    )
    r = run([t], items, customers=PERRIN)
    assert [p[1] for p in pairs(r) if p[3] == "payment"] == ["FA2026-00172"]
    assert all(not p[1].startswith("AV") for p in pairs(r))


def test_several_invoices_named_and_less_paid_than_they_owe_is_asked(run):
    # "FT25-00833;FT25-00843" with 5,624.54 less than both owe (not bank charges): which invoice
    # the payer shorted, and why, is finance's question; never the oldest paid first.
    items = [item("FT25-00833", "C1", 6_245_921), item("FT25-00843", "C1", 5_003_150)]
    t = tx(
        "t1",
        10_686_617,
        counterparty_iban="FR1420041010050500013M02606",  # C1 Boulangerie Dupont
        remittance_unstructured="PAIEMENT FACT FT25-00833;FT25-00843",
    )
    r = run([t], items)
    assert r.allocations.height == 0
    assert r.exceptions["transaction_id"].to_list() == ["t1"]
