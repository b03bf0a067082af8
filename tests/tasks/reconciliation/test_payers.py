"""Rule 5: the payer's name when no IBAN is known."""

from __future__ import annotations

from tests.tasks.reconciliation.conftest import item, pairs, tx

CUSTOMERS = [
    {"customer_id": "C1", "name": "Boulangerie Dupont SARL", "iban": None},
    {"customer_id": "C2", "name": "Transports Martin SAS", "iban": None},
    {"customer_id": "C4", "name": "Transports Martini SAS", "iban": None},
]


def test_similar_name_and_exact_amount(run):
    items = [item("FA-1", "C1", 10_000), item("FA-2", "C2", 10_000)]
    t = tx("t1", 10_000, counterparty_name="STE BOULANGERIE DUPONT")
    r = run([t], items, customers=CUSTOMERS)
    assert pairs(r) == [("t1", "FA-1", 10_000, "payment", "payer_name_amount")]


def test_accents_and_legal_forms_do_not_matter(run):
    items = [item("FA-1", "C1", 10_000)]
    customers = [{"customer_id": "C1", "name": "Crêperie Hélène S.A.R.L.", "iban": None}]
    t = tx("t1", 10_000, counterparty_name="CREPERIE HELENE")
    assert pairs(run([t], items, customers=customers)) == [
        ("t1", "FA-1", 10_000, "payment", "payer_name_amount")
    ]


def test_two_customers_with_alike_names_is_an_exception(run):
    items = [item("FA-2", "C2", 10_000), item("FA-4", "C4", 10_000)]
    t = tx("t1", 10_000, counterparty_name="TRANSPORTS MARTIN")
    r = run([t], items, customers=CUSTOMERS)
    assert r.allocations.height == 0
    exc = r.exceptions.row(0, named=True)
    assert exc["reason"] == "ambiguous_payer"
    assert "C2" in exc["candidates"] and "C4" in exc["candidates"]


def test_dissimilar_name_is_no_match(run):
    items = [item("FA-1", "C1", 10_000)]
    t = tx("t1", 10_000, counterparty_name="PATISSERIE DURAND")
    r = run([t], items, customers=CUSTOMERS)
    assert r.allocations.height == 0
    assert r.exceptions["reason"].to_list() == ["no_match"]


def test_name_is_not_used_when_the_iban_is_known(run):
    # The IBAN says C2; the name says C1: the IBAN rule decides, and C2 has no item of that amount.
    customers = [
        *CUSTOMERS[:1],
        {"customer_id": "C2", "name": "Transports Martin", "iban": "DE89370400440532013000"},
    ]
    items = [item("FA-1", "C1", 10_000)]
    t = tx(
        "t1",
        10_000,
        counterparty_name="BOULANGERIE DUPONT",
        counterparty_iban="DE89370400440532013000",
    )
    r = run([t], items, customers=customers)
    assert r.allocations.height == 0
