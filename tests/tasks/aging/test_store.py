from datetime import date

import polars as pl
import pytest

from o2c.tasks.aging.analysis import (
    DSO_ROW,
    age_open_items,
    aging_by_customer,
    dso_table,
    payment_behaviour,
)
from o2c.tasks.aging.store import (
    read_aging_history,
    read_customer_names,
    read_dso_history,
    read_invoices,
    read_open_items,
    read_payments,
    write_snapshot,
)
from o2c.warehouse import connect


def add_invoice(con, invoice_id, total, *, issued, due, doc="invoice", currency="EUR"):
    con.execute(
        "INSERT INTO invoices (invoice_id, document_type, customer_id, legal_entity, issue_date,"
        " due_date, currency, amount_total, row_hash, first_loaded_at, updated_at)"
        " VALUES (?, ?, 'C1', 'FR01', ?, ?, ?, ?, 'h', now(), now())",
        [invoice_id, doc, issued, due, currency, total],
    )


def add_payment(con, allocation_id, invoice_id, amount, booked, *, created="2026-06-30 12:00"):
    con.execute(
        "INSERT INTO bank_transactions (transaction_id, account_iban, currency, booking_date,"
        " amount, source, loaded_at) VALUES (?, 'FR7630001007941234567890185', 'EUR', ?, ?,"
        " 'camt.053', now())",
        ["T" + allocation_id, booked, amount],
    )
    con.execute(
        "INSERT INTO allocations VALUES (?, ?, ?, 'C1', ?, 'EUR', 'payment', 'reference', 1.0,"
        " NULL, NULL, ?)",
        [allocation_id, "T" + allocation_id, invoice_id, amount, created],
    )


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "o2c.duckdb"
    with connect(path) as con:
        con.execute(
            "INSERT INTO customers (customer_id, name, row_hash, updated_at)"
            " VALUES ('C1', 'Boulangerie Martin', 'h', now())"
        )
        add_invoice(con, "I1", "1000.50", issued="2026-01-01", due="2026-01-31")
        add_invoice(con, "I2", "200.00", issued="2026-02-01", due="2026-03-03")
        add_invoice(con, "CN1", "-50.00", issued="2026-02-05", due="2026-02-05", doc="credit_note")
        add_invoice(con, "LATER", "70.00", issued="2026-04-01", due="2026-05-01")
        add_payment(con, "A1", "I1", "400.25", "2026-02-10")
        add_payment(con, "A2", "I1", "600.25", "2026-03-05")
        # a credit note set against I2 without a bank transaction: dated by its creation day
        con.execute(
            "INSERT INTO allocations VALUES ('A3', 'INTERNAL-1', 'I2', 'C1', 50.00, 'EUR',"
            " 'write_off', 'manual', 1.0, NULL, NULL, '2026-03-01 09:00')"
        )
    return path


def open_cents(frame):
    return dict(zip(frame["invoice_id"], frame["amount_open_cents"], strict=True))


def test_open_items_as_they_stood_on_each_date(db):
    with connect(db) as con:
        # 2026-02-09: nothing paid yet, LATER not issued yet
        assert open_cents(read_open_items(con, as_of=date(2026, 2, 9))) == {
            "CN1": -5_000,
            "I1": 100_050,
            "I2": 20_000,
        }
        # 2026-03-01: 400,25 paid on I1, 50,00 set against I2
        assert open_cents(read_open_items(con, as_of=date(2026, 3, 1))) == {
            "CN1": -5_000,
            "I1": 60_025,
            "I2": 15_000,
        }
        # 2026-04-01: I1 settled, so it is no longer an open item
        got = read_open_items(con, as_of=date(2026, 4, 1))
        assert open_cents(got) == {"CN1": -5_000, "I2": 15_000, "LATER": 7_000}
        assert got.schema["amount_open_cents"] == pl.Int64


def test_payments_carry_the_booking_date(db):
    with connect(db) as con:
        pays = read_payments(con, as_of=date(2026, 12, 31))
        assert pays.select("allocation_id", "amount_cents", "pay_date").rows() == [
            ("A1", 40_025, date(2026, 2, 10)),
            ("A2", 60_025, date(2026, 3, 5)),
            ("A3", 5_000, date(2026, 3, 1)),
        ]
        assert read_payments(con, as_of=date(2026, 2, 10))["allocation_id"].to_list() == ["A1"]
        assert read_invoices(con, as_of=date(2026, 3, 31))["invoice_id"].to_list() == [
            "CN1",
            "I1",
            "I2",
        ]
        assert read_customer_names(con).rows() == [("C1", "Boulangerie Martin")]


def aging_rows(as_of, cents):
    return pl.DataFrame(
        {
            "as_of_date": [as_of, as_of],
            "customer_id": ["C1", "C2"],
            "currency": ["EUR", "EUR"],
            "legal_entity": ["FR01", None],
            "bucket": ["1_30", "over_120"],
            "amount_open_cents": [cents, 99],
            "items": [2, 1],
        }
    )


def dso_rows(as_of, dso):
    return pl.DataFrame(
        [(as_of, "EUR", "FR01", 100_050, 200_000, 90, dso, dso + 1)], schema=DSO_ROW, orient="row"
    )


def test_snapshot_rerun_replaces_the_day(db):
    day = date(2026, 3, 31)
    with connect(db) as con:
        first = write_snapshot(con, aging_rows(day, 12_345), dso_rows(day, 30.0), as_of=day)
        assert (first.aging_rows, first.replaced_aging_rows) == (2, 0)
        again = write_snapshot(con, aging_rows(day, 54_321), dso_rows(day, 31.5), as_of=day)
        assert (again.replaced_aging_rows, again.replaced_dso_rows) == (2, 1)
    # a new connection on the same file sees one day's rows, the second run's figures
    with connect(db) as con:
        rows = con.execute(
            "SELECT customer_id, amount_open FROM aging_snapshots ORDER BY customer_id"
        ).fetchall()
        assert [(c, str(a)) for c, a in rows] == [("C1", "543.21"), ("C2", "0.99")]
        assert con.execute("SELECT dso_standard, receivables FROM dso_snapshots").fetchall() == [
            (31.5, pytest.approx(1000.50))
        ]


def test_a_snapshot_leaves_other_days_alone_and_history_keeps_the_last_n(db):
    with connect(db) as con:
        for day, cents in [
            (date(2026, 3, 1), 100),
            (date(2026, 3, 2), 200),
            (date(2026, 3, 3), 300),
        ]:
            write_snapshot(con, aging_rows(day, cents), dso_rows(day, float(cents)), as_of=day)
        history = read_aging_history(con, last=2)
        c1 = history.filter(pl.col("bucket") == "1_30")
        assert c1.select("as_of_date", "amount_open_cents").rows() == [
            (date(2026, 3, 2), 200),
            (date(2026, 3, 3), 300),
        ]
        dso = read_dso_history(con, last=5, until=date(2026, 3, 2))
        assert dso.select("as_of_date", "dso_standard").rows() == [
            (date(2026, 3, 1), 100.0),
            (date(2026, 3, 2), 200.0),
        ]
        assert dso["receivables_cents"].to_list() == [100_050, 100_050]


def test_rows_of_another_day_are_refused(db):
    with connect(db) as con, pytest.raises(ValueError, match="dated 2026-03-02"):
        write_snapshot(
            con,
            aging_rows(date(2026, 3, 2), 1),
            dso_rows(date(2026, 3, 3), 1.0),
            as_of=date(2026, 3, 3),
        )


def test_from_the_warehouse_to_the_customer_view(db):
    as_of = date(2026, 3, 31)
    with connect(db) as con:
        items = read_open_items(con, as_of=as_of)
        invoices = read_invoices(con, as_of=as_of)
        payments = read_payments(con, as_of=as_of)
        names = read_customer_names(con)
    aged = age_open_items(items, as_of=as_of)
    behaviour = payment_behaviour(invoices, payments)
    row = aging_by_customer(aged, behaviour=behaviour, names=names).row(0, named=True)
    # I2: 200,00 - 50,00 set off = 150,00 open, due 2026-03-03: 28 days, 1-30; I1 is settled.
    # CN1 (-50,00) is an unapplied credit, in no bucket (issue 16: it was -50,00 in 31-60).
    assert (row["1_30_cents"], row["31_60_cents"], row["total_cents"]) == (15_000, 0, 15_000)
    assert (row["credits_cents"], row["balance_cents"]) == (-5_000, 10_000)
    assert (row["overdue_cents"], row["overdue_net_cents"]) == (15_000, 10_000)
    assert row["oldest_days_past_due"] == 28
    # I1 due 2026-01-31, closed by the payment booked 2026-03-05: 33 days late, grade D
    assert (row["avg_days_late"], row["grade"]) == (33.0, "D")
    assert row["customer_name"] == "Boulangerie Martin"
    dso = dso_table(invoices, aged, as_of=as_of).row(0, named=True)
    # revenue 2026-01-01..03-31: 1 000,50 + 200,00 - 50,00 = 1 150,50;
    # standard 100,00 / 1 150,50 x 90 = 7.82 -> 7.8
    assert (dso["revenue_cents"], dso["dso_standard"]) == (115_050, 7.8)
    # countback: March has no sales, 31 days; February 150,00 net covers the 100,00 left:
    # 28 x 100 / 150 = 18.67 -> 49.7
    assert dso["dso_countback"] == 49.7
