"""Rules 1-3: structured references and invoice numbers however customers type them."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from o2c.models.schemas import BANK_TRANSACTION, OPEN_ITEM
from o2c.tasks.reconciliation.references import fuzzy_invoice_numbers
from tests.tasks.reconciliation.conftest import item, pairs, tx

DUPONT = "FR1420041010050500013M02606"

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


def test_one_typo_neighbour_fitting_neither_amount_nor_payer_is_no_candidate(run):
    # FA-2024-99999 is one typo away, but it is open for 100,00 (not 40,00) and the payer is
    # unknown: not a candidate, so not an exception naming it either.
    r = run([tx("t1", 4_000, remittance_unstructured="Facture FA 2024 99989")], ITEMS, customers=[])
    assert r.allocations.height == 0
    assert r.exceptions.select("reason", "candidates").rows() == [("no_match", "[]")]


@pytest.mark.parametrize(
    ("text", "amount", "invoice"),
    [
        ("Facture FA 2024 9999", 10_000, "FA-2024-99999"),  # a digit dropped
        ("Facture FA 2024 00142", 30_050, "FA-2024-00124"),  # two digits swapped
    ],
)
def test_dropped_or_swapped_digit_with_the_amount(run, text, amount, invoice):
    r = run([tx("t1", amount, remittance_unstructured=text)], ITEMS, customers=[])
    assert pairs(r) == [("t1", invoice, amount, "payment", "invoice_number_fuzzy")]


def test_one_typo_neighbours_of_the_payers_customer_are_candidates(run):
    # "00130" does not exist; 00131, 00132 (Dupont, who pays) and 00133 (Martin) are one typo
    # away. 300,00 fits none of their amounts: only Dupont's two are candidates, alike.
    items = [
        item("FA-2024-00131", "C1", 50_000),
        item("FA-2024-00132", "C1", 60_000),
        item("FA-2024-00133", "C2", 70_000),
    ]
    t = tx("t1", 30_000, remittance_unstructured="FA 2024 00130", counterparty_iban=DUPONT)
    r = run([t], items)
    assert r.allocations.height == 0
    assert r.exceptions["reason"].to_list() == ["ambiguous_reference"]
    listed = json.loads(r.exceptions["candidates"][0])
    assert [c["invoice_ids"] for c in listed] == [["FA-2024-00131"], ["FA-2024-00132"]]


def test_lone_neighbour_of_the_payers_customer_with_another_amount_is_an_exception(run):
    # "00150" does not exist; FA-2024-00151 (Dupont, who pays) is its only one-typo neighbour,
    # but it is open for 500,00 and 120,00 arrived. A partial payment or a slip of the pen?
    # No guess: an exception that names it, and 500,00 stays open.
    items = [item("FA-2024-00151", "C1", 50_000)]
    t = tx("t1", 12_000, remittance_unstructured="Facture FA 2024 00150", counterparty_iban=DUPONT)
    r = run([t], items)
    assert r.allocations.height == 0
    assert r.exceptions["reason"].to_list() == ["reference_amount_mismatch"]
    listed = json.loads(r.exceptions["candidates"][0])
    assert [(c["invoice_ids"], c["amount_cents"], c["rule"]) for c in listed] == [
        (["FA-2024-00151"], 50_000, "invoice_number_fuzzy")
    ]
    # The same lone neighbour open for exactly what was paid still settles.
    ok = run([t], [item("FA-2024-00151", "C1", 12_000)])
    assert pairs(ok) == [("t1", "FA-2024-00151", 12_000, "payment", "invoice_number_fuzzy")]


def test_exact_amount_from_the_customers_account_beats_a_tolerance_fit(run):
    # Both neighbours fit by amount (00142 is 3,00 over: within the 5,00 tolerance), but only
    # 00141 is open for exactly 200,00 and belongs to the account that paid.
    items = [item("FA-2024-00141", "C1", 20_000), item("FA-2024-00142", "C2", 20_300)]
    t = tx("t1", 20_000, remittance_unstructured="FA 2024 00140", counterparty_iban=DUPONT)
    assert pairs(run([t], items)) == [
        ("t1", "FA-2024-00141", 20_000, "payment", "invoice_number_fuzzy")
    ]


def test_ambiguous_one_typo_lists_ten_candidates_best_first(run):
    # "FA 2024 55550" is one typo away from the 13 invoices below; the payer is Dupont (C1).
    # Scores: base 0.60, +0.20 exact amount or +0.10 within tolerance, +0.15 Dupont's own.
    spec = {
        "55551": ("C1", 10_000),  # exact + payer: 0.95
        "55552": ("C1", 10_000),  # exact + payer: 0.95 (two alike: no automatic choice)
        "55558": ("C1", 10_200),  # tolerance + payer: 0.85
        "55553": ("C3", 10_000),  # exact: 0.80
        "55554": ("C3", 10_000),
        "55555": ("C3", 10_000),
        "55556": ("C1", 90_000),  # payer only: 0.75
        "55557": ("C1", 90_000),
        "55530": ("C3", 10_050),  # tolerance only: 0.70, gap 0,50
        "55510": ("C3", 10_100),  # gap 1,00
        "55520": ("C3", 10_300),  # gap 3,00: 11th, left out
        "55559": ("C3", 10_400),  # gap 4,00: 12th, left out
        "55540": ("C3", 99_000),  # fits neither: never a candidate
    }
    items = [item(f"FA-2024-{n}", c, cents) for n, (c, cents) in spec.items()]
    t = tx("t1", 10_000, remittance_unstructured="Facture FA 2024 55550", counterparty_iban=DUPONT)
    r = run([t], items)
    assert r.allocations.height == 0
    listed = json.loads(r.exceptions["candidates"][0])
    assert [(c["invoice_ids"][0][-5:], c["score"]) for c in listed] == [
        ("55551", 0.95),
        ("55552", 0.95),
        ("55558", 0.85),
        ("55553", 0.8),
        ("55554", 0.8),
        ("55555", 0.8),
        ("55556", 0.75),
        ("55557", 0.75),
        ("55510", 0.7),
        ("55530", 0.7),
    ]


def test_neighbour_search_keeps_only_neighbours_that_fit():
    # 20,000 invoices numbered in a row: "00012347" has dozens of one-typo neighbours, all open
    # for other amounts except FA-00012346, open for the 77,00 paid (the exact number, 12347,
    # is the text rule's business and the fuzzy search leaves it out).
    n = 20_000
    items = pl.DataFrame(
        [item(f"FA-{i:08d}", f"C{i % 50}", 7_700 if i == 12_346 else 50_000 + i) for i in range(n)],
        schema=OPEN_ITEM,
        orient="row",
    )
    transactions = pl.DataFrame(
        [tx("t1", 7_700, remittance_unstructured="FA 00012347")],
        schema=BANK_TRANSACTION,
        orient="row",
    )
    found = fuzzy_invoice_numbers(transactions, items, tolerance_cents=500)
    assert found.select("transaction_id", "invoice_id", "amount_fits", "payer_fits").rows() == [
        ("t1", "FA-00012346", True, False)
    ]


def test_number_truncated_at_the_end_of_the_text(run):
    r = run([tx("t1", 10_000, remittance_unstructured="REGLEMENT FACTURE FA-2024-999")], ITEMS)
    assert pairs(r) == [("t1", "FA-2024-99999", 10_000, "payment", "invoice_number_fuzzy")]


def test_amount_in_text_is_not_an_invoice_number(run):
    items = [item("INV-123456", "C2", 50_000)]
    r = run([tx("t1", 123_456, remittance_unstructured="VIR 1234.56 EUR")], items, customers=[])
    assert r.allocations.height == 0


@pytest.mark.parametrize(
    ("issued", "settled"), [(date(2026, 2, 10), True), (date(2026, 10, 20), False)]
)
def test_a_digit_slip_is_corrected_only_to_an_invoice_that_existed_then(run, issued, settled):
    # A card acquirer's payout "BANCONTACT 260226 TERM 4471203": the date 260226 is one digit
    # short of FV26/01226 and the payout happens to be its amount. An invoice issued months after
    # the money came cannot be what was paid; one issued before may be a customer's slip.
    items = [item("FV26/01226", "C3", 186_649, issue_date=issued)]
    t = tx(
        "t1",
        186_649,
        booking_date=date(2026, 2, 26),
        remittance_unstructured="BANCONTACT/MAESTRO 260226 TERM 4471203",
    )
    r = run([t], items, customers=[])
    assert (
        pairs(r) == [("t1", "FV26/01226", 186_649, "payment", "invoice_number_fuzzy")]
    ) is settled


def test_a_number_written_before_its_invoice_was_issued_is_asked(run):
    # "fact FV26/00091" on January 20th; FV26/00091 was issued on the 25th. The customer could
    # not know that number yet: a payment of something else, a reused pro forma number, a date
    # keyed wrong in the ERP. Finance decides.
    items = [item("FV26/00091", "C1", 94_331, issue_date=date(2026, 1, 25))]
    t = tx("t1", 94_331, booking_date=date(2026, 1, 20), remittance_unstructured="fact FV26/00091")
    r = run([t], items)
    assert r.allocations.height == 0
    assert "FV26/00091" in r.exceptions.row(0, named=True)["candidates"]
    # Issued by then: matched.
    later = tx(
        "t1", 94_331, booking_date=date(2026, 1, 26), remittance_unstructured="fact FV26/00091"
    )
    assert pairs(run([later], items)) == [("t1", "FV26/00091", 94_331, "payment", "invoice_number")]


def test_a_number_two_series_share_names_the_payers_document(run):
    # "Rechnung Nr. 2025-0007" fits FA-2025-0007 (the payer's, known by its IBAN) and
    # LGE-2025-0007 (another customer's) alike: the payer's. Short by a foreign bank's charges
    # beyond the tolerance: a partial payment of it.
    items = [item("FA-2025-0007", "C2", 790_000), item("LGE-2025-0007", "C1", 788_000)]
    t = tx(
        "t1",
        788_000,
        counterparty_iban="DE89370400440532013000",
        remittance_unstructured="Rechnung Nr. 2025-0007",
    )
    assert pairs(run([t], items)) == [("t1", "FA-2025-0007", 788_000, "payment", "invoice_number")]
