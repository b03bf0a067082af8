"""A text naming a document already paid is finance's question, never an amount match onto
another item (paid_citations.py); and the cases found beside it on the eighth and ninth
companies (same-day duplicates, a short number with an inexact amount, credit notes)."""

from __future__ import annotations

import json
from datetime import date

from tests.tasks.reconciliation.conftest import item, pairs, tx

DUPONT = "FR1420041010050500013M02606"


def _exceptions(result) -> dict[str, tuple[str, list[list[str]]]]:
    return {
        t: (reason, [c["invoice_ids"] for c in json.loads(candidates)])
        for t, reason, candidates in result.exceptions.iter_rows()
    }


def test_a_transfer_after_a_return_settles_the_invoice_it_names_not_another_of_that_amount(run):
    # The monthly contract's March invoice is collected, the collection returned, then paid by
    # transfer naming it. January's invoice of the same amount is open too: the amount alone
    # would settle January's; the text says March's, which the return has reopened.
    items = [
        item("FC25-000021", "C1", 18_900, issue_date=date(2025, 1, 1)),
        item("FC25-000328", "C1", 18_900, issue_date=date(2025, 4, 1)),
    ]
    collected = tx(
        "t1", 18_900, booking_date=date(2025, 4, 14), end_to_end_id="FC25-000328",
        counterparty_iban=DUPONT,
    )  # fmt: skip
    returned = tx(
        "t2", -18_900, booking_date=date(2025, 4, 21), end_to_end_id="FC25-000328",
        is_reversal=True,
    )  # fmt: skip
    paid = tx(
        "t3", 18_900, booking_date=date(2025, 4, 28), counterparty_iban=DUPONT,
        remittance_unstructured="FACTURE FC25-000328 SUITE REJET PRLV",
    )  # fmt: skip
    r = run([collected, returned, paid], items)
    assert ("t3", "FC25-000328", 18_900, "payment", "invoice_number") in pairs(r)
    assert not [p for p in pairs(r) if p[1] == "FC25-000021"]


def test_a_transfer_naming_a_paid_invoice_is_asked_with_it_as_candidate(run):
    # Last month's transfer copied, number and all: FA-7 is paid, FA-15 open for the same amount.
    items = [item("FA-2026-0015", "C1", 25_000)]
    copied = tx(
        "t1", 25_000, counterparty_iban=DUPONT, remittance_unstructured="Facture FA-2026-0007"
    )
    closed = [{"invoice_id": "FA-2026-0007", "customer_id": "C1"}]
    r = run([copied], items, closed=closed)
    assert pairs(r) == []
    assert _exceptions(r) == {"t1": ("cites_paid_document", [["FA-2026-0007"]])}


def test_the_second_of_a_transfer_sent_twice_the_same_day_is_the_duplicate(run):
    # Same day, same amount, same text: the bank's order (its references) says which came first.
    items = [item("FC25-000600", "C1", 1_010_466)]
    first, second = (
        tx(t, 1_010_466, counterparty_iban=DUPONT, remittance_unstructured="FACTURE FC25-000600",
           bank_reference=ref)
        for t, ref in (("zz-first", "BRC25082500001"), ("aa-second", "BRC25082500002"))
    )  # fmt: skip
    r = run([second, first], items)
    assert pairs(r) == [("zz-first", "FC25-000600", 1_010_466, "payment", "invoice_number")]
    assert _exceptions(r) == {"aa-second": ("cites_paid_document", [["FC25-000600"]])}


def test_a_short_number_and_an_amount_short_by_charges_from_nobody_known_is_no_payment(run):
    # "1 CHQ" is a count of cheques; invoice 1 is 3,00 more than the remittance.
    items = [item("FC25-000001", "C1", 39_000)]
    slip = tx("t1", 38_700, remittance_unstructured="REMISE CHEQUES N 7749680 1 CHQ")
    r = run([slip], items)
    assert pairs(r) == []
    # From the customer's own account, the same short number and amount settle, less charges.
    known = tx("t2", 38_700, counterparty_iban=DUPONT, remittance_unstructured="Facture 1")
    assert pairs(run([known], items)) == [
        ("t2", "FC25-000001", 38_700, "payment", "invoice_number"),
        ("t2", "FC25-000001", 300, "write_off", "short_payment_write_off"),
    ]


def test_several_invoices_less_an_unnamed_credit_note_only_when_it_is_the_one_open(run):
    items = [
        item("FC25-000035", "C1", 151_590),
        item("FC25-000039", "C1", 38_700),
        item("AV25-00001", "C1", -15_159),
    ]
    paid = tx(
        "t1", 175_131, counterparty_iban=DUPONT,
        remittance_unstructured="FACTURES FC25-000035 ET FC25-000039",
    )  # fmt: skip
    assert len(pairs(run([paid], items))) == 3  # the one open credit note: netted
    other = item("AV25-00009", "C1", -2_835)
    r = run([paid], [*items, other])  # two open: which deduction the payer took is theirs
    assert pairs(r) == []
    assert set(_exceptions(r)) == {"t1"}


def test_a_reference_and_a_credit_note_named_in_the_text_settle_both(run):
    # The RF names the invoice, the text the credit note deducted; another credit note of the
    # same amount is open (empties returned twice), so only the text says which.
    items = [
        item("FA2025-000498", "C1", 14_630, reference="RF91FB25000498"),
        item("AV2025-00028", "C1", -10_800),
        item("AV2025-00031", "C1", -10_800),
    ]
    paid = tx(
        "t1", 3_830, counterparty_iban=DUPONT, remittance_structured="RF91FB25000498",
        remittance_unstructured="FA2025-000498 moins AV 2025-00028",
    )  # fmt: skip
    assert pairs(run([paid], items)) == [
        ("t1", "AV2025-00028", -10_800, "payment", "structured_reference"),
        ("t1", "FA2025-000498", 14_630, "payment", "structured_reference"),
    ]


def test_a_customer_paying_another_customers_invoice_too_is_asked(run):
    # The owner of two cafés pays both from one café's account, naming both invoices.
    items = [item("FA2025-000104", "C1", 51_943), item("FA2025-000027", "C2", 28_537)]
    both = tx(
        "t1", 80_480, counterparty_iban=DUPONT,
        remittance_unstructured="Factures FA2025-000104 + FA2025-000027 (Transports Martin)",
    )  # fmt: skip
    r = run([both], items)
    assert pairs(r) == []
    assert _exceptions(r) == {
        "t1": ("other_customers_documents", [["FA2025-000027", "FA2025-000104"]])
    }
    # Known by its name only, the same.
    by_name = {**both, "counterparty_iban": None, "counterparty_name": "BOULANGERIE DUPONT"}
    assert _exceptions(run([by_name], items))["t1"][0] == "other_customers_documents"
    # A payer that is no customer (a factor, a head office) naming them: their business.
    factor = {**both, "counterparty_iban": None, "counterparty_name": "NORD AFFACTURAGE"}
    assert len(pairs(run([factor], items))) == 2


def test_a_customer_paying_only_another_customers_invoice_from_its_account_is_asked(run):
    # A group's treasury, itself invoiced, pays its subsidiary's invoice to the cent: whose
    # arrangement that is, finance knows; the bank line does not.
    items = [item("FA25-00071", "C2", 3_622_320), item("FA25-00017", "C1", 90_000)]
    group = tx(
        "t1", 3_622_320, counterparty_iban=DUPONT, remittance_unstructured="REGLT FACT FA25-71"
    )
    r = run([group], items)
    assert pairs(r) == []
    assert _exceptions(r) == {"t1": ("other_customers_documents", [["FA25-00071"]])}
    # From an account no customer holds, the number names what is paid.
    head_office = {**group, "counterparty_iban": "FR7630006000011234567890189"}
    assert pairs(run([head_office], items)) == [
        ("t1", "FA25-00071", 3_622_320, "payment", "invoice_number")
    ]
    # A number that names another's document but not the amount is a slip, asked as one with
    # the payer's own invoice of that amount, FA25-00017, as the answer to click.
    slip = tx("t1", 90_000, counterparty_iban=DUPONT, remittance_unstructured="FA25-00071")
    assert _exceptions(run([slip], items)) == {
        "t1": ("reference_amount_mismatch", [["FA25-00017"]])
    }


def test_a_refund_we_send_naming_a_paid_invoice_is_not_asked(run):
    # "REMBOURSEMENT TROP PERCU FA-2026-0007": our own money going out, not a payment to place.
    refund = tx("t1", -169_419, remittance_unstructured="REMBOURSEMENT TROP PERCU FA-2026-0007")
    closed = [{"invoice_id": "FA-2026-0007", "customer_id": "C1"}]
    r = run([refund], [item("FA-2026-0015", "C1", 25_000)], closed=closed)
    assert pairs(r) == [] and r.exceptions.height == 0
