"""A deduction the payer took and said (issue 15): German buyers pay within ten days less 2 %
Skonto, builders hold a 5 % retention ("retenue de garantie"), on each invoice, rounded per
invoice. Each named invoice takes its own share; a discount is written off, a retention stays
open. Spread oldest first, such a payment would leave the last invoice short by all of it."""

from __future__ import annotations

from tests.tasks.reconciliation.conftest import item, pairs, tx

PAYER = "DE89370400440532013000"  # C2's IBAN in the shared customers


def test_a_skonto_said_pays_each_named_invoice_its_share(run):
    items = [item("FA-2025-0466", "C2", 606_000), item("FA-2025-0518", "C2", 60_313)]
    # 98 % of each, rounded per invoice: 593 880 + 59 107 (59 106,74).
    t = tx(
        "t1",
        652_987,
        counterparty_iban=PAYER,
        remittance_unstructured="Rechnungen FA-2025-0466 und FA-2025-0518 abzgl. 2% Skonto",
    )
    assert pairs(run([t], items)) == [
        ("t1", "FA-2025-0466", 593_880, "payment", "grouped_invoice_numbers"),
        ("t1", "FA-2025-0466", 12_120, "write_off", "short_payment_write_off"),
        ("t1", "FA-2025-0518", 59_107, "payment", "grouped_invoice_numbers"),
        ("t1", "FA-2025-0518", 1_206, "write_off", "short_payment_write_off"),
    ]


def test_a_skonto_without_its_rate_is_read_at_the_usual_rate(run):
    items = [item("FA-2025-0999", "C2", 124_800)]
    t = tx("t1", 122_304, remittance_unstructured="ZAHLUNG RE FA-2025-0999 abzgl. Skonto")
    assert pairs(run([t], items))[0] == ("t1", "FA-2025-0999", 122_304, "payment", "invoice_number")


def test_a_discount_not_said_is_no_discount(run):
    # The same 98 % without the word: a short payment like any other (here a partial payment
    # of the one invoice named), never a discount written off.
    items = [item("FA-2025-0999", "C2", 124_800)]
    t = tx("t1", 122_304, remittance_unstructured="ZAHLUNG RE FA-2025-0999")
    assert all(p[3] != "write_off" for p in pairs(run([t], items)))


def test_a_retention_said_pays_each_invoice_less_it_and_leaves_it_open(run):
    # Works contracts: the buyer holds 5 % "retenue de garantie" until the guarantee year ends;
    # the credit note named is netted whole. The 5 % stays open (no write-off): it will be paid.
    items = [
        item("FT25-00072", "C2", 10_085_752),
        item("FT25-00078", "C2", 9_689_304),
        item("AT25-00001", "C2", -1_008_575),
    ]
    t = tx(
        "t1",
        9_581_464 + 9_204_839 - 1_008_575,
        remittance_unstructured="FACTURES FT25-00072 + FT25-00078 MOINS AVOIR AT25-00001 RG 5% DEDUITE",
    )
    assert pairs(run([t], items)) == [
        ("t1", "AT25-00001", -1_008_575, "payment", "grouped_invoice_numbers"),
        ("t1", "FT25-00072", 9_581_464, "payment", "grouped_invoice_numbers"),
        ("t1", "FT25-00078", 9_204_839, "payment", "grouped_invoice_numbers"),
    ]
