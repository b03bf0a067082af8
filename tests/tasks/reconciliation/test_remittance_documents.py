"""The structured remittance as an instruction (issue 15): a SEPA transfer whose camt
RmtInf/Strd/RfrdDocInf names invoices with their RfrdDocAmt/RmtdAmt says how the money is split;
finance expects exactly that split, credit notes netted, whatever the amounts alone suggest."""

from __future__ import annotations

from datetime import date

from tests.tasks.reconciliation.conftest import item, pairs, tx

GUERIN = "FR7610278133065207930901037"  # nobody's known account


def doc(number: str, cents: int | None, doc_type: str = "CINV") -> dict:
    return {
        "doc_number": number,
        "doc_type": doc_type,
        "doc_date": date(2026, 1, 5),
        "amount_cents": cents,
    }


def test_two_invoices_named_with_their_amounts_are_paid_as_named(run):
    # Two open invoices of 960,00 each and a third of the same amount: the amount alone is
    # ambiguous, the remittance advice is not.
    items = [
        item("FA2026-00687", "C1", 96_000),
        item("FA2026-00821", "C1", 96_000),
        item("FA2026-00114", "C1", 96_000),
    ]
    t = tx(
        "t1",
        192_000,
        counterparty_iban=GUERIN,
        remittance_unstructured="VIR SEPA RECU /DE ETABLISSEMENTS GUERIN",
        remittance_documents=[doc("FA2026-00687", 96_000), doc("FA2026-00821", 96_000)],
    )
    r = run([t], items)
    assert pairs(r) == [
        ("t1", "FA2026-00687", 96_000, "payment", "remittance_documents"),
        ("t1", "FA2026-00821", 96_000, "payment", "remittance_documents"),
    ]


def test_a_partial_amount_remitted_on_an_invoice_is_what_it_gets(run):
    # The payer pays 300,00 of a 1 000,00 invoice and 200,00 of another, and says so.
    items = [item("FA-1", "C1", 100_000), item("FA-2", "C1", 20_000)]
    t = tx("t1", 50_000, remittance_documents=[doc("FA-1", 30_000), doc("FA-2", 20_000)])
    r = run([t], items)
    assert pairs(r) == [
        ("t1", "FA-1", 30_000, "payment", "remittance_documents"),
        ("t1", "FA-2", 20_000, "payment", "remittance_documents"),
    ]


def test_a_credit_note_listed_is_netted(run):
    # Invoice 1 000,00 minus credit note 150,00 (written positive by the payer, typed CREN).
    items = [item("FA-1", "C1", 100_000), item("AV-1", "C1", -15_000)]
    t = tx("t1", 85_000, remittance_documents=[doc("FA-1", 100_000), doc("AV-1", 15_000, "CREN")])
    r = run([t], items)
    assert pairs(r) == [
        ("t1", "AV-1", -15_000, "payment", "remittance_documents"),
        ("t1", "FA-1", 100_000, "payment", "remittance_documents"),
    ]


def test_documents_that_do_not_make_the_amount_are_not_taken_as_an_instruction(run):
    # The advice says 500,00 + 200,00 but 600,00 came: the split is not the payer's, so the
    # documents rule leaves it (here nothing else settles it either).
    items = [item("FA-1", "C1", 50_000), item("FA-2", "C1", 20_000)]
    t = tx("t1", 60_000, remittance_documents=[doc("FA-1", 50_000), doc("FA-2", 20_000)])
    r = run([t], items)
    assert [p for p in pairs(r) if p[4] == "remittance_documents"] == []


def test_a_document_remitting_more_than_is_open_is_not_taken(run):
    # FA-1 is open for 100,00 only (paid in part before): 300,00 on it cannot be right.
    items = [item("FA-1", "C1", 10_000), item("FA-2", "C1", 20_000)]
    t = tx("t1", 50_000, remittance_documents=[doc("FA-1", 30_000), doc("FA-2", 20_000)])
    r = run([t], items)
    assert [p for p in pairs(r) if p[4] == "remittance_documents"] == []


def test_a_document_that_is_not_open_stops_the_instruction(run):
    items = [item("FA-1", "C1", 30_000)]
    t = tx("t1", 50_000, remittance_documents=[doc("FA-1", 30_000), doc("FA-9", 20_000)])
    r = run([t], items)
    assert [p for p in pairs(r) if p[4] == "remittance_documents"] == []


def test_bank_charges_taken_off_the_remitted_total_are_written_off(
    run,
):
    # The advice says 1 000,00 for FA-1 but the payer's bank kept 3,00.
    items = [item("FA-1", "C1", 100_000)]
    t = tx("t1", 99_700, remittance_documents=[doc("FA-1", 100_000)])
    r = run([t], items)
    assert pairs(r) == [
        ("t1", "FA-1", 99_700, "payment", "remittance_documents"),
        ("t1", "FA-1", 300, "write_off", "short_payment_write_off"),
    ]


def test_one_document_paid_short_by_a_confirming_banks_fees_is_a_partial_payment(run):
    # The confirming bank lists B-25/0093 for 5,172.75 and keeps 14.54: the document gets what
    # came, the rest stays open for finance to write off or chase.
    items = [item("B-25/0093", "C1", 517_275)]
    t = tx("t1", 515_821, remittance_documents=[doc("B-25/0093", 517_275)])
    assert pairs(run([t], items)) == [
        ("t1", "B-25/0093", 515_821, "payment", "remittance_documents")
    ]


def test_several_documents_paid_short_beyond_the_charges_are_not_an_instruction(run):
    items = [item("FA-1", "C1", 100_000), item("FA-2", "C1", 20_000)]
    t = tx("t1", 100_000, remittance_documents=[doc("FA-1", 100_000), doc("FA-2", 20_000)])
    assert run([t], items).allocations.height == 0
