"""Several invoice numbers in one transfer, written as people write them (issue 15): "Règlement
factures 173, 175, 182 et 201" (the sequence without prefix or year), "FA2026-00412+00437" (the
prefix once), "FACT 217" alone, a number with two digits swapped. A number that is not the whole
invoice number settles only when number, amount and payer together prove it."""

from __future__ import annotations

from tests.tasks.reconciliation.conftest import item, pairs, tx

VAL_DE_LOIRE = "FR7610278746418371008933029"
CUSTOMERS = [
    {"customer_id": "C1", "name": "Métallerie Val de Loire SARL", "iban": VAL_DE_LOIRE},
    {"customer_id": "C2", "name": "Garage Garnier SAS", "iban": None},
]


def _paid(result) -> list[str]:
    return sorted({p[1] for p in pairs(result) if p[3] == "payment"})


def test_sequence_numbers_listed_in_french_settle_when_they_make_the_amount(run):
    items = [
        item("FA2026-00173", "C1", 163_620),
        item("FA2026-00175", "C1", 143_640),
        item("FA2026-00182", "C1", 63_900),
        item("FA2026-00201", "C1", 138_300),
        item("FA2026-00202", "C1", 63_900),
    ]
    t = tx(
        "t1",
        509_460,
        counterparty_iban=VAL_DE_LOIRE,
        remittance_unstructured="Règlement factures 173, 175, 182 et 201",
    )
    r = run([t], items, customers=CUSTOMERS)
    assert _paid(r) == ["FA2026-00173", "FA2026-00175", "FA2026-00182", "FA2026-00201"]
    assert {p[4] for p in pairs(r)} == {"grouped_invoice_numbers"}


def test_listed_sequence_numbers_that_do_not_make_the_amount_are_not_taken_on_their_own(run):
    items = [item("FA2026-00173", "C1", 163_620), item("FA2026-00175", "C1", 143_640)]
    t = tx(
        "t1",
        200_000,
        counterparty_iban=VAL_DE_LOIRE,
        remittance_unstructured="REGLEMENT FACTURES 173 ET 175",
    )
    r = run([t], items, customers=CUSTOMERS)
    assert r.allocations.height == 0


def test_the_prefix_written_once_for_several_invoices(run):
    items = [
        item("FA2026-00412", "C2", 11_100),
        item("FA2026-00437", "C2", 466_500),
        item("FA2025-00437", "C2", 466_500),
    ]
    t = tx("t1", 477_600, remittance_unstructured="FA2026-00412+00437")
    r = run([t], items, customers=CUSTOMERS)
    # "00437" alone fits two invoices of C2 (2025 and 2026): which one, the amount cannot say.
    assert _paid(r) in (["FA2026-00412"], [])
    items = items[:2]
    r = run([t], items, customers=CUSTOMERS)
    assert _paid(r) == ["FA2026-00412", "FA2026-00437"]


def test_a_bare_sequence_number_settles_on_its_exact_amount_only(run):
    items = [item("FA2026-00217", "C2", 89_160), item("FA2026-00218", "C2", 50_000)]
    exact = tx("t1", 89_160, remittance_unstructured="FACT 217")
    other = tx("t2", 40_000, remittance_unstructured="FACT 218")
    r = run([exact, other], items, customers=CUSTOMERS)
    assert pairs(r) == [("t1", "FA2026-00217", 89_160, "payment", "invoice_number")]


def test_a_bare_number_naming_another_customers_invoice_is_not_taken(run):
    # Val de Loire (known by IBAN) writes "FACTURE 217": FA2026-00217 is C2's, not theirs.
    items = [item("FA2026-00217", "C2", 89_160)]
    t = tx("t1", 89_160, counterparty_iban=VAL_DE_LOIRE, remittance_unstructured="FACTURE 217")
    r = run([t], items, customers=CUSTOMERS)
    assert r.allocations.height == 0


def test_swapped_digits_with_two_invoices_of_that_amount_go_to_finance(run):
    # "00905" typed for FA2026-00950; FA2026-00912 has the same amount: the amount proves nothing.
    items = [item("FA2026-00950", "C1", 30_900), item("FA2026-00912", "C1", 30_900)]
    t = tx(
        "t1",
        30_900,
        counterparty_iban=VAL_DE_LOIRE,
        remittance_unstructured="REGLEMENT FA2026-00905",
    )
    r = run([t], items, customers=CUSTOMERS)
    assert r.allocations.height == 0
    assert "FA2026-00950" in r.exceptions["candidates"][0]


def test_swapped_digits_with_one_invoice_of_that_amount_settle(run):
    items = [item("FA2026-00950", "C1", 30_900), item("FA2026-00912", "C1", 41_000)]
    t = tx(
        "t1",
        30_900,
        counterparty_iban=VAL_DE_LOIRE,
        remittance_unstructured="REGLEMENT FA2026-00905",
    )
    r = run([t], items, customers=CUSTOMERS)
    assert pairs(r) == [("t1", "FA2026-00950", 30_900, "payment", "invoice_number_fuzzy")]


def test_a_list_written_short_after_a_full_number_settles_each_invoice(run):
    # A holding pays its subsidiaries' invoices: "Facturen FV26/00215-00246-00297", the prefix and
    # year written once, the later numbers as wide as the first one's sequence.
    items = [
        item("FV26/00215", "C1", 254_994),
        item("FV26/00246", "C2", 51_200),
        item("FV26/00297", "C2", 95_706),
        item("FV25/00246", "C2", 51_200),
    ]
    t = tx(
        "t1",
        401_900,
        counterparty_iban="BE40372408486808",
        counterparty_name="HORECA INVEST HOLDING NV",
        remittance_unstructured="Facturen FV26/00215-00246-00297",
    )
    r = run([t], items, customers=CUSTOMERS)
    assert _paid(r) == ["FV26/00215", "FV26/00246", "FV26/00297"]
    assert sum(p[2] for p in pairs(r) if p[3] == "payment") == 401_900


def _cut_list(n: int) -> str:
    """A list of n invoice numbers written out, cut at the 140 characters of a SEPA text."""
    text = "PAIEMENT FACTURES " + ", ".join(f"FA2026-{k:05d}" for k in range(101, 101 + n))
    return text[:140]


def test_a_list_cut_by_the_sepa_limit_is_completed_by_the_one_item_that_makes_the_rest(run):
    # Eight numbers survive the cut ("..., FA2026-00108, FA2026-001"); the ninth is lost.
    named = [item(f"FA2026-{k:05d}", "C1", 10_000) for k in range(101, 109)]
    rest = [item("FA2026-00109", "C1", 7_500), item("FA2026-00110", "C1", 9_900)]
    text = _cut_list(10)
    assert len(text) == 140 and text.endswith("FA2026-00108, FA2026-001")
    t = tx("t1", 87_500, counterparty_iban=VAL_DE_LOIRE, remittance_unstructured=text)
    r = run([t], named + rest, customers=CUSTOMERS)
    assert "FA2026-00109" in _paid(r) and "FA2026-00110" not in _paid(r)
    assert sum(p[2] for p in pairs(r) if p[3] == "payment") == 87_500


def test_a_cut_list_whose_rest_two_items_could_make_is_not_completed(run):
    named = [item(f"FA2026-{k:05d}", "C1", 10_000) for k in range(101, 109)]
    rest = [item("FA2026-00109", "C1", 7_500), item("FA2026-00110", "C1", 7_500)]
    t = tx("t1", 87_500, counterparty_iban=VAL_DE_LOIRE, remittance_unstructured=_cut_list(10))
    r = run([t], named + rest, customers=CUSTOMERS)
    assert "FA2026-00109" not in _paid(r) and "FA2026-00110" not in _paid(r)


def test_a_number_written_as_its_digits_beside_a_full_one_is_the_item_of_the_rest(run):
    # "FV25/01052-00065": the second invoice is of the next year, FV26/00065; only its digits are
    # written. Without it the named ones leave 1 076,96 over, which is exactly FV26/00065.
    items = [
        item("FV25/01052", "C1", 160_215),
        item("FV26/00065", "C1", 107_696),
        item("NC26/00007", "C1", -16_154),
        item("FV26/00066", "C1", 107_696),  # the same amount, but its number is not written
    ]
    text = "Betaling fact. FV25/01052-00065 min creditnota NC26/00007"
    t = tx("t1", 251_757, counterparty_iban=VAL_DE_LOIRE, remittance_unstructured=text)
    r = run([t], items, customers=CUSTOMERS)
    assert sorted(p[1:4] for p in pairs(r)) == [
        ("FV25/01052", 160_215, "payment"),
        ("FV26/00065", 107_696, "payment"),
        ("NC26/00007", -16_154, "payment"),
    ]  # not 1 076,96 left as the customer's credit
    # Without the digits in the text the rest is not any item's: two are open for it.
    other = {**t, "remittance_unstructured": "Betaling fact. FV25/01052 min creditnota NC26/00007"}
    assert "FV26/00065" not in _paid(run([other], items, customers=CUSTOMERS))


def test_a_month_and_year_is_the_period_paid_not_an_invoice_number(run):
    # The owner pays the maintenance contract from a private account: "CONTRAT ENTRETIEN 06/2026".
    # "06" is June, not FA2026-00006, even though that invoice is open for the same 450,00.
    items = [item("FA2026-00006", "C2", 45_000)]
    t = tx(
        "t1",
        45_000,
        counterparty_name="C. LEMAIRE",
        counterparty_iban="BE58099026439538",
        remittance_unstructured="CONTRAT ENTRETIEN 06/2026",
    )
    r = run([t], items, customers=CUSTOMERS)
    assert r.allocations.height == 0
    # The same figure written as an invoice number is one.
    t["remittance_unstructured"] = "FACTURE 06"
    assert _paid(run([t], items, customers=CUSTOMERS)) == ["FA2026-00006"]


def test_a_list_cut_by_a_short_field_is_paid_as_the_payers_one_set_of_that_sum(run):
    # An 18-character field cut "FT25-00097, FT25-0": the named invoice alone is less than was
    # paid; the payer's one set of open items of that sum (the named one and another) is it.
    items = [item("FT25-00097", "C2", 471_910), item("FT25-00313", "C2", 664_441)]
    items.append(item("FT25-00400", "C2", 99_999))
    t = tx(
        "t1",
        471_910 + 664_441,
        counterparty_iban="DE89370400440532013000",
        remittance_unstructured="FT25-00097, FT25-0",
    )
    assert [p[:3] for p in pairs(run([t], items))] == [
        ("t1", "FT25-00097", 471_910),
        ("t1", "FT25-00313", 664_441),
    ]
