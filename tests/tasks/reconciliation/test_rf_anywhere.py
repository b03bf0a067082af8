"""Check-digit references wherever the payer put them (issue 15): customers paste the RF creditor
reference from the invoice into the free text, with its print spacing or not, in lower case, glued
to the word before it; Belgian customers write the structured communication +++123/4567/89012+++
with or without its plus signs. A valid one equal to an open item's reference settles it as the
structured field does; one whose check digits fail is no reference."""

from __future__ import annotations

import pytest

from tests.tasks.reconciliation.conftest import item, pairs, tx


def rf(body: str) -> str:
    """An ISO 11649 reference for ``body`` with its check digits."""
    digits = "".join(str(int(c, 36)) for c in body + "RF00")
    return f"RF{98 - int(digits) % 97:02d}{body}"


def be(ten: int) -> str:
    """A Belgian structured communication: ten digits and their mod-97 check."""
    check = ten % 97 or 97
    s = f"{ten:010d}{check:02d}"
    return f"+++{s[:3]}/{s[3:7]}/{s[7:]}+++"


REF = rf("0186260081")  # what the invoice printed
GROUPED = " ".join(REF[i : i + 4] for i in range(0, len(REF), 4))  # "RF.. 0186 2600 81"


def _items(reference: str = REF) -> list[dict]:
    # The invoice number is nowhere in the text: only the reference can find it.
    return [item("FA2026-00818", "C1", 46_200, reference=reference), item("X-2", "C1", 46_200)]


@pytest.mark.parametrize(
    "text",
    [
        f"REF. {GROUPED}",
        GROUPED.lower(),
        f"PAIEMENT{REF}",
        f"{REF} MERCI",
        f"virement facture ref {GROUPED} du 12/03",
    ],
)
def test_an_rf_reference_in_the_free_text_settles_its_item(run, text):
    r = run([tx("t1", 46_200, remittance_unstructured=text)], _items())
    assert pairs(r) == [("t1", "FA2026-00818", 46_200, "payment", "structured_reference")]


def test_an_rf_reference_in_the_payer_name_field_settles_its_item(run):
    # Some banks put the remittance in the name field of a CFONB record.
    r = run([tx("t1", 46_200, counterparty_name=f"DUPONT {REF}")], _items())
    assert pairs(r) == [("t1", "FA2026-00818", 46_200, "payment", "structured_reference")]


def test_an_rf_with_a_wrong_check_digit_names_nothing(run):
    bad = REF[:2] + f"{(int(REF[2:4]) + 1) % 100:02d}" + REF[4:]
    r = run([tx("t1", 46_200, remittance_unstructured=f"REF {bad}")], _items(reference=bad))
    assert r.allocations.height == 0


def test_where_the_reference_ends_is_what_its_check_digits_say(run):
    # Digits glued after the reference (a date) do not hide it.
    r = run([tx("t1", 46_200, remittance_unstructured=f"{REF}20260312")], _items())
    assert pairs(r) == [("t1", "FA2026-00818", 46_200, "payment", "structured_reference")]


@pytest.mark.parametrize(
    "write",
    [
        lambda c: c,  # +++123/4567/89012+++
        lambda c: c.replace("+", "*"),  # ***123/4567/89012***
        lambda c: c.strip("+"),  # 123/4567/89012
        lambda c: c.strip("+").replace("/", " "),  # 123 4567 89012
        lambda c: c.strip("+").replace("/", ""),  # 123456789012
    ],
)
def test_a_belgian_structured_communication_in_the_text_settles_its_item(run, write):
    comm = be(1234567890)
    items = [item("F-77", "C1", 12_100, reference=comm), item("F-78", "C1", 12_100)]
    r = run([tx("t1", 12_100, remittance_unstructured=f"COMMUNICATION {write(comm)}")], items)
    assert pairs(r) == [("t1", "F-77", 12_100, "payment", "structured_reference")]


def test_a_structured_communication_whose_check_fails_names_nothing(run):
    comm = be(1234567890)
    wrong = comm[:-5] + f"{(int(comm[-5:-3]) + 1) % 100:02d}" + "+++"
    items = [item("F-77", "C1", 12_100, reference=wrong), item("F-78", "C1", 12_100)]
    r = run([tx("t1", 12_100, remittance_unstructured=wrong)], items)
    assert r.allocations.height == 0


def test_an_rf_that_fails_its_check_digits_is_no_reference_nor_the_number_inside_it(run):
    # "RF89ECFA2400001" was typed for FA24-00008's reference: its check digits fail, so it names
    # nothing, not even the paid FA24-00001 its digits hold; the payer and the amount decide.
    items = [item("FA24-00008", "C1", 419_688, reference="RF47ECFA2400008")]
    closed = [{"invoice_id": "FA24-00001", "customer_id": "C1"}]
    typed = tx(
        "t1", 419_688, counterparty_iban="FR1420041010050500013M02606",
        remittance_unstructured="RF89ECFA2400001",
    )  # fmt: skip
    assert pairs(run([typed], items, closed=closed)) == [
        ("t1", "FA24-00008", 419_688, "payment", "payer_iban_amount")
    ]
