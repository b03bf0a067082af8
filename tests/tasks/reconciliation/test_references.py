"""Rules 1-3: structured references and invoice numbers however customers type them."""

from __future__ import annotations

import pytest

from tests.tasks.reconciliation.conftest import item, pairs, tx

ITEMS = [
    item("FA-2024-00123", "C1", 120_000, reference="RF18539007547034"),
    item("FA-2024-00124", "C1", 30_050),
    item("AV-2024-00123", "C1", -5_000),
    item("INV-000777", "C2", 77_700),
    item("FA-2024-99999", "C3", 10_000),
]


def test_rf_reference_settles_the_invoice_it_names(run):
    r = run([tx("t1", 120_000, remittance_structured="RF18 5390 0754 7034")], ITEMS)
    assert pairs(r) == [("t1", "FA-2024-00123", 120_000, "payment", "structured_reference")]


def test_end_to_end_id_equal_to_invoice_number(run):
    r = run([tx("t1", 30_050, end_to_end_id="FA-2024-00124")], ITEMS)
    assert pairs(r) == [("t1", "FA-2024-00124", 30_050, "payment", "structured_reference")]


@pytest.mark.parametrize(
    "text",
    [
        "Facture FA-2024-00123",
        "rglt fact. fa 2024 123",  # case, spaces, dropped leading zeros
        "PAIEMENT FA202400123 MERCI",  # missing separators
        "Fact. 2024/123 merci",  # another separator, no letters: digits shared with
        # AV-2024-00123, but only FA-2024-00123 is open for exactly this amount
    ],
)
def test_invoice_number_in_text_however_written(run, text):
    r = run([tx("t1", 120_000, remittance_unstructured=text)], ITEMS)
    assert pairs(r) == [("t1", "FA-2024-00123", 120_000, "payment", "invoice_number")]


def test_grouped_payment_settles_each_invoice_named(run):
    # 1 200,00 + 300,50 - 50,00 (credit note) = 1 450,50
    text = "Rglt FA-2024-00123 FA-2024-00124 AV-2024-00123"
    r = run([tx("t1", 145_050, remittance_unstructured=text)], ITEMS)
    assert pairs(r) == [
        ("t1", "AV-2024-00123", -5_000, "payment", "grouped_invoice_numbers"),
        ("t1", "FA-2024-00123", 120_000, "payment", "grouped_invoice_numbers"),
        ("t1", "FA-2024-00124", 30_050, "payment", "grouped_invoice_numbers"),
    ]


def test_short_number_needs_the_amount_to_agree(run):
    # "777" alone is weak: it settles INV-000777 only when the amount is exactly its open amount.
    ok = run([tx("t1", 77_700, remittance_unstructured="ref 777")], ITEMS, customers=[])
    assert pairs(ok) == [("t1", "INV-000777", 77_700, "payment", "invoice_number")]
    no = run([tx("t1", 12_300, remittance_unstructured="ref 777")], ITEMS, customers=[])
    assert no.allocations.height == 0
    assert no.exceptions["reason"].to_list() == ["no_match"]


def test_same_digits_under_two_prefixes_is_an_exception(run):
    # "2024 00123" fits FA-2024-00123 and AV-2024-00123 alike: no guess.
    r = run([tx("t1", 100_000, remittance_unstructured="paiement 2024-00123")], ITEMS)
    assert r.allocations.height == 0
    exc = r.exceptions.row(0, named=True)
    assert exc["reason"] == "ambiguous_reference"
    assert "AV-2024-00123" in exc["candidates"] and "FA-2024-00123" in exc["candidates"]


def test_one_typo_is_accepted_when_the_amount_confirms_it(run):
    r = run(
        [tx("t1", 10_000, remittance_unstructured="Facture FA 2024 99989")], ITEMS, customers=[]
    )
    assert pairs(r) == [("t1", "FA-2024-99999", 10_000, "payment", "invoice_number_fuzzy")]


def test_one_typo_without_confirmation_is_an_exception(run):
    r = run([tx("t1", 4_000, remittance_unstructured="Facture FA 2024 99989")], ITEMS, customers=[])
    assert r.allocations.height == 0
    assert r.exceptions["reason"].to_list() == ["ambiguous_reference"]


def test_number_truncated_at_the_end_of_the_text(run):
    r = run([tx("t1", 10_000, remittance_unstructured="REGLEMENT FACTURE FA-2024-999")], ITEMS)
    assert pairs(r) == [("t1", "FA-2024-99999", 10_000, "payment", "invoice_number_fuzzy")]


def test_amount_in_text_is_not_an_invoice_number(run):
    items = [item("INV-123456", "C2", 50_000)]
    r = run([tx("t1", 123_456, remittance_unstructured="VIR 1234.56 EUR")], items, customers=[])
    assert r.allocations.height == 0
