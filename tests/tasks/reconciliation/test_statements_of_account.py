"""Payment "selon relevé" (issue 15): a trade customer pays its statement of account for a month
as one sum, naming the month, not the documents. The payer's documents of that month are what it
pays: all of them, or the one subset that makes the amount; two subsets are finance's question."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from o2c.tasks.reconciliation.statements_of_account import statement_months
from tests.tasks.reconciliation.conftest import item, pairs, tx

IBAN = "FR7621277862993147502750469"
CUSTOMERS = [{"customer_id": "C1", "name": "Ouvrages Savès SAS", "iban": IBAN}]


def _items() -> list[dict]:
    september = date(2025, 9, 12)
    return [
        item("FT25-00700", "C1", 500_000, issue_date=date(2025, 8, 28)),
        item("FT25-00726", "C1", 2_276_957, issue_date=september),
        item("FT25-00764", "C1", 1_198_978, issue_date=date(2025, 9, 30)),
        item("AT25-00050", "C1", -100_000, issue_date=date(2025, 9, 20)),
        item("FT25-00801", "C1", 3_375_935, issue_date=date(2025, 10, 3)),
    ]


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("REGLT RELEVE FIN SEPTEMBRE 2025", date(2025, 9, 1)),
        ("SELON RELEVE DU 30/09/25", date(2025, 9, 1)),
        ("PAIEMENT RELEVE 09-25", date(2025, 9, 1)),
        ("Votre relevé de septembre", date(2025, 9, 1)),  # the latest September by then
        ("VIREMENT SEPTEMBRE 2025", None),  # no statement said: a standing order's month
    ],
)
def test_the_month_a_statement_payment_names(text, month):
    frame = pl.DataFrame(
        {
            "transaction_id": ["t1"],
            "booking_date": [date(2025, 11, 17)],
            "remittance_unstructured": [text],
        }
    )
    found = statement_months(frame)
    assert (found["month"].to_list() or [None]) == [month]


def test_the_months_documents_that_make_the_amount_are_paid(run):
    # September: 22,769.57 + 11,989.78 - 1,000.00 (credit note) = 33,759.35. Over the whole
    # ledger another set makes that sum (FT25-00801 alone, issued in October): the month decides.
    t = tx(
        "t1",
        3_375_935,
        counterparty_iban=IBAN,
        booking_date=date(2025, 11, 17),
        remittance_unstructured="REGLT RELEVE FIN SEPTEMBRE 2025",
    )
    assert pairs(run([t], _items(), customers=CUSTOMERS)) == [
        ("t1", "AT25-00050", -100_000, "payment", "statement_of_account"),
        ("t1", "FT25-00726", 2_276_957, "payment", "statement_of_account"),
        ("t1", "FT25-00764", 1_198_978, "payment", "statement_of_account"),
    ]


def test_two_sets_of_the_month_are_asked(run):
    items = [
        item("FT25-00726", "C1", 100_000, issue_date=date(2025, 9, 2)),
        item("FT25-00727", "C1", 100_000, issue_date=date(2025, 9, 9)),
    ]
    t = tx(
        "t1",
        100_000,
        counterparty_iban=IBAN,
        booking_date=date(2025, 11, 17),
        remittance_unstructured="SELON RELEVE DU 30/09/25",
    )
    r = run([t], items, customers=CUSTOMERS)
    assert r.allocations.height == 0
    assert r.exceptions["transaction_id"].to_list() == ["t1"]


def test_an_unknown_payer_paying_a_statement_is_not_taken(run):
    t = tx(
        "t1",
        3_375_935,
        counterparty_name="SOCIETE INCONNUE",
        booking_date=date(2025, 11, 17),
        remittance_unstructured="REGLT RELEVE FIN SEPTEMBRE 2025",
    )
    assert run([t], _items(), customers=CUSTOMERS).allocations.height == 0
