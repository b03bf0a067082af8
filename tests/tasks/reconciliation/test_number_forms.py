"""How invoice numbers reach the text (issue 15, round 3): a bank's fixed-width label zones cut a
long remittance and the parts come back joined with a space, next to a dash; numbers with two
letter series ("LNV-FR-26-10025", its credit note "LNV-AV-26-10025") are told apart by the
series letters written just before the digits."""

from __future__ import annotations

from datetime import date

from tests.tasks.reconciliation.conftest import item, pairs, tx

HOSPITAL = [{"customer_id": "C12", "name": "Centre Hospitalier de Toulouse", "iban": None}]


def test_a_number_cut_beside_its_dash_is_still_read(run):
    # A Chorus mandate's text spread over 70-column CFONB label records: "LNV-FR-26" ends one,
    # "-10025" starts the next, and the two come back joined with a space. (The credit notes
    # of the same sequence numbers make "10025" alone say nothing.)
    items = [
        item("F2600344", "C12", 84_532),
        item("LNV-FR-26-10025", "C12", 106_800),
        item("LNV-AV-26-10025", "C12", -9_000),
        item("LNV-FR-26-10646", "C12", 1_761_480),
        item("LNV-AV-26-10646", "C12", -4_000),
    ]
    text = (
        "/MANDAT 2026-082885 FACT F2600344 DU 26062026 FACT LNV-FR-26 -10025 DU 04072026"
        " FACT LNV-FR-26-106 46 DU 16072026 CHU"
    )
    t = tx("t1", 84_532 + 106_800 + 1_761_480, remittance_unstructured=text)
    assert [p[1:3] for p in pairs(run([t], items, customers=HOSPITAL))] == [
        ("F2600344", 84_532),
        ("LNV-FR-26-10025", 106_800),
        ("LNV-FR-26-10646", 1_761_480),
    ]


def test_typed_forms_with_spaces_around_the_dash(run):
    # Last year's FA2025-00123 makes the bare sequence "00123" say nothing.
    items = [item("FA2026-00123", "C12", 50_000), item("FA2025-00123", "C12", 50_000)]
    t = tx("t1", 50_000, remittance_unstructured="Facture FA 2026 - 00123")
    assert pairs(run([t], items, customers=HOSPITAL)) == [
        ("t1", "FA2026-00123", 50_000, "payment", "invoice_number")
    ]


def test_the_series_letters_tell_an_invoice_from_its_credit_note_namesake(run):
    # The ERP numbers invoices and credit notes in two series with the same digits: the payer's
    # "LNV-FR-26-10661 LNV-AV-26-10039" is the invoice 10661 less the credit note 10039, not
    # the credit note 10661 or the invoice 10039.
    items = [
        item("LNV-FR-26-10661", "C12", 77_166),
        item("LNV-AV-26-10661", "C12", -12_000),
        item("LNV-FR-26-10039", "C12", 38_400),
        item("LNV-AV-26-10039", "C12", -3_858),
    ]
    t = tx(
        "t1", 77_166 - 3_858, remittance_unstructured="PAGO FRAS LNV-FR-26-10661 LNV-AV-26-10039"
    )
    assert [p[1:3] for p in pairs(run([t], items, customers=HOSPITAL))] == [
        ("LNV-AV-26-10039", -3_858),
        ("LNV-FR-26-10661", 77_166),
    ]


def test_the_sequence_after_the_year_of_a_number_written_in_one_run(run):
    # The DRFIP pays for a hospital and writes "FACTURE 447" for F2600447 (invoice 447 of 2026):
    # a short number, so it counts only because the amount is exactly what it names.
    items = [item("F2600447", "C12", 171_258), item("F2600448", "C12", 50_000)]
    text = "/MANDAT 2026-051266 BORD 6424 FACTURE 447 UNIVERSITE ANNECY ALPES"
    t = tx(
        "t1", 171_258, counterparty_name="DRFIP AUVERGNE RHONE ALPES", remittance_unstructured=text
    )
    assert pairs(run([t], items, customers=HOSPITAL)) == [
        ("t1", "F2600447", 171_258, "payment", "invoice_number")
    ]
    # Another amount: a short number alone names nothing.
    t = tx(
        "t1", 99_999, counterparty_name="DRFIP AUVERGNE RHONE ALPES", remittance_unstructured=text
    )
    assert run([t], items, customers=HOSPITAL).allocations.height == 0


def test_a_number_two_documents_share_names_the_one_issued_when_the_money_came(run):
    # "RGT FACT 00352" in June: FT25-00352 was issued in May, FB25-00352 (Barcelona's series)
    # only in December. The payer is nobody on file; the number and the amount say it.
    items = [
        item("FT25-00352", "C1", 479_158, issue_date=date(2025, 5, 6)),
        item("FB25-00352", "C2", 479_158, issue_date=date(2025, 12, 8)),
    ]
    t = tx("t1", 479_158, booking_date=date(2025, 6, 25), remittance_unstructured="RGT FACT 00352")
    assert pairs(run([t], items)) == [("t1", "FT25-00352", 479_158, "payment", "invoice_number")]


def test_a_short_number_with_a_few_cents_more_settles_and_keeps_the_rest_as_credit(run):
    # "Facture 270" from the customer's own account, 0.01 more than F2025-00270 owes.
    items = [item("F2025-00270", "C1", 171_000)]
    t = tx(
        "t1",
        171_001,
        counterparty_iban="FR1420041010050500013M02606",  # C1's own
        remittance_unstructured="Facture 270",
    )
    assert pairs(run([t], items)) == [
        ("t1", None, 1, "unapplied_credit", "overpayment_credit"),
        ("t1", "F2025-00270", 171_000, "payment", "invoice_number"),
    ]


def test_a_number_written_with_its_year_short_names_its_invoice(run):
    # "FA24-011271" is FA2024-011271; "AV25-00275" the credit note AV2025-00275 deducted.
    items = [
        item("FA2024-011271", "C1", 46_740),
        item("FA2025-000608", "C1", 32_351),
        item("AV2025-00231", "C1", -3_000),
        item("AV2025-00275", "C1", -10_200),
    ]
    over = tx("t1", 120_840, remittance_unstructured="FACT FA24-011271")
    listed = tx(
        "t2", 19_151, remittance_unstructured="Fact FA2025000608 - AV-2025-00231 - AV25-00275"
    )
    got = pairs(run([over, listed], items))
    assert ("t1", "FA2024-011271", 46_740, "payment", "invoice_number") in got
    assert [p[1:3] for p in got if p[0] == "t2"] == [
        ("AV2025-00231", -3_000),
        ("AV2025-00275", -10_200),
        ("FA2025-000608", 32_351),
    ]


def test_the_series_letters_say_which_document_even_when_it_is_paid(run):
    # "REMBOURSEMENT TROP PERCU FA2025-000113": the invoice, paid (by its RF, rule 1); the
    # credit note AV2025-00113 shares its digits but is not what the text names.
    items = [
        item("FA2025-000113", "C1", 4_800, reference="RF18539007547034"),
        item("AV2025-00113", "C1", -4_800),
    ]
    paid = tx("t1", 4_800, remittance_structured="RF18539007547034")
    refund = tx(
        "t2", -169_419, booking_date=date(2026, 3, 9),
        remittance_unstructured="REMBOURSEMENT TROP PERCU FA2025-000113",
    )  # fmt: skip
    got = pairs(run([paid, refund], items))
    assert got == [("t1", "FA2025-000113", 4_800, "payment", "structured_reference")]


def test_a_sequence_then_its_year_names_the_invoice_and_a_month_then_a_year_does_not(run):
    # Italian and Spanish customers: "Acconto fattura n. 28/2024" is a part of FA24-00028.
    items = [
        item("FA24-00028", "C1", 90_480),
        item("FA25-00007", "C1", 2_000),
        item("AV25-0011", "C1", -5_390),
    ]
    part = tx("t1", 27_144, remittance_unstructured="Acconto fattura n. 28/2024")
    month = tx(
        "t2", 768_000, counterparty_iban="FR7630004000031234567890143",
        remittance_unstructured="REGLEMENT RELEVE FIN 07 2025",
    )  # fmt: skip
    insurance = tx("t3", -134_852, remittance_unstructured="PRLV ASSURANCE FLOTTE 11 2025")
    r = run([part, month, insurance], items)
    assert pairs(r) == [("t1", "FA24-00028", 27_144, "payment", "invoice_number")]


def test_an_invoice_number_of_one_to_twelve_before_its_year_is_no_month(run):
    # January's invoices are 1 to 12 too: "fattura n. 2/2025" names invoice 2, with "n." saying
    # number; "FACT 03/2025" alone is March's bill (an energy supplier's), no invoice of ours.
    items = [
        item("FA25-00002", "C1", 106_575),
        item("FA24-00005", "C1", 41_250),
        item("AV24-0005", "C1", -14_438),
        item("AV25-0003", "C1", -4_082),
    ]
    instalment = tx("t1", 53_288, remittance_unstructured="1a rata fattura n. 2/2025")
    # The invoice's number, not the credit note's that shares sequence and year.
    balance = tx("t2", 41_250, remittance_unstructured="Saldo fattura n. 5/2024")
    energy = tx("t3", -708_030, remittance_unstructured="PRLV EDF CONTRAT 4471 FACT 03/2025")
    assert pairs(run([instalment, balance, energy], items)) == [
        ("t1", "FA25-00002", 53_288, "payment", "invoice_number"),
        ("t2", "FA24-00005", 41_250, "payment", "invoice_number"),
    ]
