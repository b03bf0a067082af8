"""Rule 7: a reversal undoes what its original settled."""

from __future__ import annotations

from datetime import date

from tests.tasks.reconciliation.conftest import item, pairs, tx


def test_reversal_in_the_same_batch_undoes_the_payment(run):
    items = [item("FA-1001", "C1", 100_000)]
    pay = tx("t1", 100_000, remittance_unstructured="FA-1001", end_to_end_id="E2E-42")
    back = tx(
        "t2", -100_000, booking_date=date(2026, 3, 5), end_to_end_id="E2E-42", is_reversal=True
    )
    r = run([back, pay], items)
    assert pairs(r) == [
        ("t1", "FA-1001", 100_000, "payment", "invoice_number"),
        ("t2", "FA-1001", -100_000, "reversal", "reversal"),
    ]
    rev = r.allocations.filter(transaction_id="t2").row(0, named=True)
    assert rev["reverses_allocation_id"] == "t1|FA-1001|payment"


def test_reversal_of_a_past_allocation_with_write_off(run):
    past = [
        {
            "allocation_id": "t0|FA-7|payment",
            "transaction_id": "t0",
            "invoice_id": "FA-7",
            "customer_id": "C1",
            "amount_cents": 9_800,
            "currency": "EUR",
            "kind": "payment",
            "rule": "invoice_number",
            "confidence": 1.0,
            "reverses_allocation_id": None,
            "tx_amount_cents": 9_800,
            "tx_booking_date": date(2026, 2, 1),
            "tx_counterparty_iban": "FR1420041010050500013M02606",
            "tx_end_to_end_id": None,
            "tx_remittance_unstructured": "FA-7",
        },
    ]
    past.append(
        {**past[0], "allocation_id": "t0|FA-7|write_off", "amount_cents": 200, "kind": "write_off"}
    )
    back = tx(
        "t9",
        -9_800,
        counterparty_iban="FR1420041010050500013M02606",
        remittance_unstructured="FA-7",
        is_reversal=True,
    )
    r = run([back], [], past=past)
    assert pairs(r) == [
        ("t9", "FA-7", -9_800, "reversal", "reversal"),
        ("t9", "FA-7", -200, "reversal", "reversal"),
    ]


def test_reversal_without_original_is_an_exception(run):
    back = tx("t9", -5_000, end_to_end_id="E2E-UNKNOWN", is_reversal=True)
    r = run([back], [item("FA-1", "C1", 5_000)])
    assert r.allocations.height == 0
    assert r.exceptions["reason"].to_list() == ["reversal_without_original"]


def test_an_original_is_reversed_once(run):
    items = [item("FA-1001", "C1", 100_000)]
    pay = tx("t1", 100_000, remittance_unstructured="FA-1001", end_to_end_id="E2E-42")
    back1 = tx(
        "t2", -100_000, booking_date=date(2026, 3, 5), end_to_end_id="E2E-42", is_reversal=True
    )
    back2 = tx(
        "t3", -100_000, booking_date=date(2026, 3, 6), end_to_end_id="E2E-42", is_reversal=True
    )
    r = run([pay, back2, back1], items)
    assert [p[0] for p in pairs(r)] == ["t1", "t2"]
    assert r.exceptions["transaction_id"].to_list() == ["t3"]


def test_a_returned_direct_debit_booked_as_a_plain_debit_reopens_its_invoice(run):
    # The bank books an R-transaction (debtor's account closed, AC04) as an ordinary debit whose
    # transaction code says "unpaid direct debit"; no reversal indicator. It carries the
    # collection's end-to-end id, so it undoes the collection and the invoice is open again.
    items = [item("FV26/00122", "C1", 188_796)]
    collected = tx("t1", 188_796, end_to_end_id="FV26/00122", bank_tx_code="PMNT/IDDT/ESDD")
    returned = tx(
        "t2",
        -188_796,
        booking_date=date(2026, 3, 9),
        end_to_end_id="FV26/00122",
        bank_tx_code="PMNT/RDDT/UPDD",
    )
    # A supplier's direct debit on the company's account is no return: it reopens nothing.
    supplier = tx("t3", -188_796, end_to_end_id="FV26/00122", bank_tx_code="PMNT/RDDT/ESDD")
    r = run([collected, returned, supplier], items)
    assert [p[:4] for p in pairs(r)] == [
        ("t1", "FV26/00122", 188_796, "payment"),
        ("t2", "FV26/00122", -188_796, "reversal"),
    ]


def test_a_collection_returned_out_of_a_batch_booked_as_one_line_reopens_its_invoice(run):
    # The bank booked the 20th's SEPA B2B collections as one credit without details (finance
    # allocated it by hand to the three invoices); four days later one lab's collection comes
    # back unpaid, with the end-to-end id the creditor gave it and the invoice in its text.
    def paid(invoice: str, cents: int) -> dict:
        return {
            "allocation_id": f"batch|{invoice}|payment",
            "transaction_id": "batch",
            "invoice_id": invoice,
            "customer_id": "C1",
            "amount_cents": cents,
            "currency": "EUR",
            "kind": "payment",
            "rule": "manual",
            "confidence": 1.0,
            "reverses_allocation_id": None,
            "tx_amount_cents": 25_200 + 196_978 + 29_177,
            "tx_booking_date": date(2026, 2, 20),
            "tx_counterparty_iban": None,
            "tx_end_to_end_id": None,
            "tx_remittance_unstructured": "REMISE PRLV SEPA B2B 3 OPERATIONS",
        }

    past = [paid("F2600050", 25_200), paid("F2600261", 196_978), paid("F2600275", 29_177)]
    back = tx(
        "r1",
        -25_200,
        booking_date=date(2026, 2, 24),
        bank_tx_code="PMNT/IDDT/UPDD",
        end_to_end_id="SDDF2600050",
        remittance_unstructured="RETOUR PRLV PRLV B2B LABORNOVA FACTURE F2600050 RUM LBNC0035",
    )
    r = run([back], [], past=past)
    assert pairs(r) == [("r1", "F2600050", -25_200, "reversal", "reversal")]
    assert r.allocations["reverses_allocation_id"].to_list() == ["batch|F2600050|payment"]
    # The same amount on two of the batch's invoices, and the return names neither: finance's.
    past = [paid("F2600050", 25_200), paid("F2600051", 25_200)]
    r = run(
        [{**back, "end_to_end_id": None, "remittance_unstructured": "RETOUR PRLV"}], [], past=past
    )
    assert r.allocations.height == 0
    assert r.exceptions["reason"].to_list() == ["reversal_without_original"]
