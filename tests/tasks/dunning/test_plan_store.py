"""The plan read from a real warehouse file: open items as of a date, and how fresh the bank is."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from o2c.models.dunning import ACTION_HISTORY, DUNNING_CUSTOMER, EXCLUSION
from o2c.tasks.dunning.plan import plan
from o2c.tasks.dunning.policy import load_policy
from o2c.tasks.dunning.store import last_bank_data, read_items, read_payments
from o2c.warehouse import connect


@pytest.fixture
def db(tmp_path):
    with connect(tmp_path / "o2c.duckdb") as con:
        con.execute(
            "INSERT INTO customers (customer_id, name, row_hash, updated_at)"
            " VALUES ('C1', 'Boulangerie Martin', 'h', now())"
        )
        for invoice_id, doc, due, total in [
            ("F1", "invoice", "2026-01-31", "1000.00"),
            ("F2", "invoice", "2026-02-28", "300.00"),
            ("AV1", "credit_note", "2026-02-05", "-50.00"),
        ]:
            con.execute(
                "INSERT INTO invoices (invoice_id, document_type, customer_id, legal_entity,"
                " issue_date, due_date, currency, amount_total, row_hash, first_loaded_at,"
                " updated_at) VALUES (?, ?, 'C1', 'FR01', '2026-01-01', ?, 'EUR', ?, 'h', now(),"
                " now())",
                [invoice_id, doc, due, total],
            )
        # 400.00 of F1 paid on 10 March, F2 paid in full on 20 April (after the plan's date)
        for tx, invoice_id, amount, booked in [
            ("T1", "F1", "400.00", "2026-03-10"),
            ("T2", "F2", "300.00", "2026-04-20"),
        ]:
            con.execute(
                "INSERT INTO bank_transactions (transaction_id, account_iban, currency,"
                " booking_date, amount, source, loaded_at) VALUES (?, 'FR7630001007941234567890185',"
                " 'EUR', ?, ?, 'camt.053', now())",
                [tx, booked, amount],
            )
            con.execute(
                "INSERT INTO allocations VALUES (?, ?, ?, 'C1', ?, 'EUR', 'payment', 'reference',"
                " 1.0, NULL, NULL, now())",
                ["A" + tx, tx, invoice_id, amount],
            )
        yield con


def test_the_plan_sees_the_ledger_as_it_stood_on_its_date(db):
    as_of = date(2026, 4, 1)
    items = read_items(db, as_of=as_of)
    assert dict(zip(items["invoice_id"], items["amount_open_cents"], strict=True)) == {
        "AV1": -5000,
        "F1": 60000,
        "F2": 30000,
    }
    customers = pl.DataFrame(
        [
            {
                "customer_id": "C1",
                "name": "Boulangerie Martin",
                "language": "fr",
                "customer_kind": "business",
                "segment": None,
                "emails": ["compta@example.fr"],
            }
        ],
        schema=DUNNING_CUSTOMER,
    )
    result = plan(
        as_of,
        items,
        pl.DataFrame(schema=EXCLUSION),
        pl.DataFrame(schema=ACTION_HISTORY),
        customers,
        load_policy(),
        payments=read_payments(db, as_of=as_of),
    )
    [letter] = result.communications
    assert [(i.invoice_id, i.open_cents) for i in letter.items] == [("F1", 60000), ("F2", 30000)]
    assert letter.due_cents == 85000
    # F2 is paid by 20 April: planned then, only F1 is left
    later = read_items(db, as_of=date(2026, 4, 21))
    assert "F2" not in later["invoice_id"].to_list()


def test_last_bank_data_is_judged_as_of_the_date(db):
    assert last_bank_data(db, as_of=date(2026, 4, 1)) == date(2026, 3, 10)
    assert last_bank_data(db, as_of=date(2026, 3, 1)) is None
    # the result is read to its end: the connection takes the next query (DuckDB 2 refuses it
    # after a half-read result)
    assert read_items(db, as_of=date(2026, 4, 1)).height == 3


def test_exclusions_and_payment_plans_recorded_in_the_warehouse_reach_the_plan(db):
    from o2c.models.dunning import ExclusionKind
    from o2c.tasks.dunning.exclusions import Exclusion, add_exclusion, parse_instalment
    from o2c.tasks.dunning.store import (
        read_customers,
        read_exclusions,
        read_history,
        read_missed_instalments,
    )

    as_of = date(2026, 4, 1)
    add_exclusion(
        db,
        Exclusion(
            "C1",
            ExclusionKind.DISPUTE,
            "quantity disputed",
            "finance",
            invoice_id="F2",
            until=date(2026, 6, 30),
        ),
        today=date(2026, 3, 1),
    )
    add_exclusion(
        db,
        Exclusion(
            "C1",
            ExclusionKind.PAYMENT_PLAN,
            "three instalments",
            "finance",
            invoice_id="F1",
            instalments=tuple(
                parse_instalment(t)
                for t in ("2026-03-15:300.00", "2026-04-15:300.00", "2026-05-31:400.00")
            ),
            currency="EUR",
            starts_on=date(2026, 3, 1),
        ),
        today=date(2026, 3, 1),
    )
    result = plan(
        as_of,
        read_items(db, as_of=as_of),
        read_exclusions(db, as_of=as_of),
        read_history(db),
        read_customers(db).with_columns(emails=pl.lit(["compta@example.fr"])),
        load_policy(),
        payments=read_payments(db, as_of=as_of),
        instalments=read_missed_instalments(db, as_of=as_of),
    )
    # 400.00 paid on 10 March toward the plan covers the first 300.00 instalment: nothing missed
    assert result.communications == []
    reasons = dict(zip(result.skipped["invoice_id"], result.skipped["reason"], strict=True))
    assert reasons == {"F1": "payment_plan", "F2": "dispute"}
    # On 10 May the second instalment (due 15 April) is 200.00 short: that alone is chased
    later = date(2026, 5, 10)
    result = plan(
        later,
        read_items(db, as_of=later),
        read_exclusions(db, as_of=later),
        read_history(db),
        read_customers(db).with_columns(emails=pl.lit(["compta@example.fr"])),
        load_policy(),
        payments=read_payments(db, as_of=later),
        instalments=read_missed_instalments(db, as_of=later),
    )
    [letter] = result.communications
    assert [(i.invoice_id, i.open_cents) for i in letter.items] == [("F1#2", 20000)]
    assert [c.invoice_id for c in letter.credits] == ["AV1"] and letter.due_cents == 15000
