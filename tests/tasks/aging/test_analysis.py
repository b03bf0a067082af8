from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from o2c.models.schemas import OPEN_ITEM
from o2c.tasks.aging.analysis import (
    Buckets,
    age_open_items,
    aging_by_customer,
    aging_snapshot_rows,
    bucket_totals,
    dso_countback,
    dso_standard,
    dso_table,
    grade_expr,
    payment_behaviour,
)

AS_OF = date(2026, 6, 30)


def item(
    invoice_id,
    due,
    open_cents,
    *,
    customer="C1",
    currency="EUR",
    total=None,
    doc="invoice",
    entity="FR01",
    issued=date(2026, 1, 1),
):
    return {
        "invoice_id": invoice_id,
        "document_type": doc,
        "customer_id": customer,
        "legal_entity": entity,
        "issue_date": issued,
        "due_date": due,
        "currency": currency,
        "amount_total_cents": open_cents if total is None else total,
        "amount_open_cents": open_cents,
        "reference": None,
    }


def frame(*rows):
    return pl.DataFrame(list(rows), schema=OPEN_ITEM)


def bucket_of(aged, invoice_id):
    return aged.filter(pl.col("invoice_id") == invoice_id)["bucket"].cast(pl.String).item()


@pytest.mark.parametrize(
    ("days_late", "bucket"),
    [
        (-15, "not_due"),
        (0, "not_due"),  # due today is not late
        (1, "1_30"),
        (30, "1_30"),
        (31, "31_60"),
        (60, "31_60"),
        (61, "61_90"),
        (90, "61_90"),
        (91, "91_120"),
        (120, "91_120"),
        (121, "over_120"),
        (800, "over_120"),
    ],
)
def test_bucket_edges(days_late, bucket):
    aged = age_open_items(frame(item("I1", AS_OF - timedelta(days=days_late), 100)), as_of=AS_OF)
    assert aged["days_past_due"].item() == days_late
    assert bucket_of(aged, "I1") == bucket


def test_edges_on_calendar_dates():
    # 2026-06-30 minus 30 days is 2026-05-31 (June has 30 days), minus 31 is 2026-05-30.
    aged = age_open_items(
        frame(item("A", date(2026, 5, 31), 100), item("B", date(2026, 5, 30), 100)), as_of=AS_OF
    )
    assert bucket_of(aged, "A") == "1_30"
    assert bucket_of(aged, "B") == "31_60"


def test_credit_note_is_an_unapplied_credit_not_a_bucket():
    # Issue 16: the credit note used to age in the bucket of its own due date (-300,00 in
    # 1-30 days), so buckets went negative and "overdue" was net of it. It is a credit now.
    aged = age_open_items(
        frame(
            item("INV", AS_OF - timedelta(days=45), 100_000),
            item("CN", AS_OF - timedelta(days=10), -30_000, doc="credit_note"),
        ),
        as_of=AS_OF,
    )
    row = aging_by_customer(aged).row(0, named=True)
    assert row["31_60_cents"] == 100_000
    assert row["1_30_cents"] == 0
    assert row["credits_cents"] == -30_000
    assert row["total_cents"] == 100_000  # what it owes
    assert row["balance_cents"] == 70_000  # 1 000,00 - 300,00: the ledger
    assert (row["overdue_cents"], row["overdue_net_cents"]) == (100_000, 70_000)
    # what the customer still owes and is late on is the invoice: 45 days
    assert row["oldest_days_past_due"] == 45


def test_partial_payment_ages_on_its_open_amount():
    aged = age_open_items(
        frame(item("I1", AS_OF - timedelta(days=70), 25_000, total=100_000)), as_of=AS_OF
    )
    row = aging_by_customer(aged).row(0, named=True)
    assert row["61_90_cents"] == 25_000
    assert row["total_cents"] == 25_000


def test_currencies_and_entities_are_never_added_together():
    aged = age_open_items(
        frame(
            item("E1", AS_OF - timedelta(days=5), 10_000),
            item("E2", AS_OF - timedelta(days=6), 5_000),
            item("U1", AS_OF - timedelta(days=5), 7_000, currency="USD"),
            item("B1", AS_OF - timedelta(days=5), 3_000, entity="BE01"),
        ),
        as_of=AS_OF,
    )
    by_customer = aging_by_customer(aged)
    got = {
        (r["currency"], r["legal_entity"]): r["1_30_cents"]
        for r in by_customer.iter_rows(named=True)
    }
    assert got == {("EUR", "FR01"): 15_000, ("EUR", "BE01"): 3_000, ("USD", "FR01"): 7_000}
    totals = bucket_totals(aged).filter(pl.col("bucket") == "1_30")
    assert dict(zip(totals["currency"], totals["amount_open_cents"], strict=True)) == {
        "EUR": 18_000,
        "USD": 7_000,
    }
    # every bucket is listed per currency, even empty ones: 2 currencies x 6 buckets
    assert bucket_totals(aged).height == 12


def test_settled_items_are_not_open_items():
    aged = age_open_items(
        frame(item("PAID", AS_OF, 0, total=5_000), item("OPEN", AS_OF, 100)), as_of=AS_OF
    )
    assert aged["invoice_id"].to_list() == ["OPEN"]


def test_configurable_edges():
    b = Buckets((15, 45))
    assert b.keys == ("not_due", "1_15", "16_45", "over_45")
    aged = age_open_items(
        frame(
            item("A", AS_OF - timedelta(days=15), 1),
            item("B", AS_OF - timedelta(days=16), 1),
            item("C", AS_OF - timedelta(days=46), 1),
        ),
        as_of=AS_OF,
        buckets=(15, 45),
    )
    assert [bucket_of(aged, i) for i in "ABC"] == ["1_15", "16_45", "over_45"]
    assert "16_45_cents" in aging_by_customer(aged, buckets=b).columns
    with pytest.raises(ValueError, match="expected the output of age_open_items"):
        aging_by_customer(aged)  # aged with (15, 45), summed with the default edges


@pytest.mark.parametrize("edges", [(), (30, 30), (60, 30), (0, 30)])
def test_bad_edges_are_refused(edges):
    with pytest.raises(ValueError, match="buckets"):
        Buckets(edges)


def test_bad_input_names_the_field():
    with pytest.raises(ValueError, match=r"missing column.*amount_open_cents"):
        age_open_items(frame(item("I1", AS_OF, 1)).drop("amount_open_cents"), as_of=AS_OF)
    bad = frame(item("I9", AS_OF, 1)).with_columns(due_date=pl.lit(None, dtype=pl.Date))
    with pytest.raises(ValueError, match="due_date is empty for invoice_id I9"):
        age_open_items(bad, as_of=AS_OF)


def test_dso_standard_by_hand():
    # 150 000,00 owed / 450 000,00 invoiced over 90 days x 90 = 30.0 days
    assert dso_standard(15_000_000, 45_000_000, 90) == Decimal("30.0")
    # 100 000 / 300 000 x 91 = 30.333... -> 30.3
    assert dso_standard(10_000_000, 30_000_000, 91) == Decimal("30.3")
    assert dso_standard(10_000_000, 0, 90) is None


def test_dso_countback_by_hand():
    # 250 000 owed; March (31 d) 100 000 -> 150 000 left, 31 d; February (28 d) 120 000 ->
    # 30 000 left, 59 d; January (31 d) 60 000: 31 x 30 000 / 60 000 = 15.5 -> 74.5 days
    periods = [(31, 10_000_000), (28, 12_000_000), (31, 6_000_000)]
    assert dso_countback(25_000_000, periods) == Decimal("74.5")
    # owed less than the month to date: 31 x 50 000 / 100 000 = 15.5
    assert dso_countback(5_000_000, periods) == Decimal("15.5")
    # more owed than the history holds: the whole history, 31 + 28 + 31 = 90 days
    assert dso_countback(99_000_000, periods) == Decimal("90")
    assert dso_countback(0, periods) == Decimal("0")


def test_dso_table_from_invoice_history():
    as_of = date(2026, 3, 31)
    history = pl.DataFrame(
        [
            ("M", "invoice", date(2026, 3, 10), 10_000_000),
            ("F", "invoice", date(2026, 2, 15), 12_000_000),
            ("J", "invoice", date(2026, 1, 20), 6_000_000),
            ("D", "invoice", date(2025, 12, 10), 5_000_000),
            ("CN", "credit_note", date(2026, 3, 20), -1_000_000),
            ("LATER", "invoice", date(2026, 4, 2), 99_999),
        ],
        schema=["invoice_id", "document_type", "issue_date", "amount_total_cents"],
        orient="row",
    ).with_columns(
        customer_id=pl.lit("C1"),
        legal_entity=pl.lit("FR01"),
        currency=pl.lit("EUR"),
        due_date=pl.col("issue_date") + pl.duration(days=30),
    )
    open_items = frame(
        item("M", date(2026, 4, 9), 10_000_000),
        item("F", date(2026, 3, 17), 10_000_000, total=12_000_000),
        item("CN", date(2026, 3, 20), -1_000_000, doc="credit_note"),
        item("J", date(2026, 2, 19), 6_000_000),
        item("U", date(2026, 3, 1), 100_000, currency="USD"),
    )
    aged = age_open_items(open_items, as_of=as_of)
    dso = dso_table(history, aged, as_of=as_of, period_days=90)
    eur = dso.filter(pl.col("currency") == "EUR").row(0, named=True)
    # receivables 100 000 + 100 000 - 10 000 + 60 000 = 250 000,00
    assert eur["receivables_cents"] == 25_000_000
    # revenue from 2026-01-01 to 2026-03-31: 100 000 + 120 000 + 60 000 - 10 000 = 270 000
    # (December is outside the 90 days, the April invoice after the date)
    assert eur["revenue_cents"] == 27_000_000
    # standard: 250 000 / 270 000 x 90 = 83.33 -> 83.3
    assert eur["dso_standard"] == 83.3
    # countback: March 31 d, net 90 000 -> 160 000 left; February 28 d, 120 000 -> 40 000
    # left; January 31 x 40 000 / 60 000 = 20.67 -> 31 + 28 + 20.67 = 79.67 -> 79.7
    assert eur["dso_countback"] == 79.7
    usd = dso.filter(pl.col("currency") == "USD").row(0, named=True)
    assert usd["receivables_cents"] == 100_000
    assert usd["revenue_cents"] == 0
    assert usd["dso_standard"] is None


def test_payment_behaviour_weighted_days_late_and_grade():
    invoices = pl.DataFrame(
        [
            ("I1", "C1", date(2026, 1, 31), 100_000),
            ("I2", "C1", date(2026, 2, 28), 300_000),
            ("I3", "C1", date(2026, 1, 15), 200_000),
            ("I4", "C1", date(2026, 1, 1), 50_000),
            ("K1", "C2", date(2026, 1, 1), 10_000),
            ("K2", "C3", date(2026, 1, 1), 10_000),
        ],
        schema=["invoice_id", "customer_id", "due_date", "amount_total_cents"],
        orient="row",
    ).with_columns(document_type=pl.lit("invoice"), currency=pl.lit("EUR"))
    payments = pl.DataFrame(
        [
            # I1 paid in two parts, closed by the second on 2026-02-10: 10 days late
            ("I1", "a1", 60_000, date(2026, 1, 25)),
            ("I1", "a2", 40_000, date(2026, 2, 10)),
            # I2 paid early: counts as 0 days, not -8
            ("I2", "a3", 300_000, date(2026, 2, 20)),
            # I3 paid, the payment reversed, paid again on 2026-03-16: 60 days late
            ("I3", "a4", 200_000, date(2026, 2, 14)),
            ("I3", "a5", -200_000, date(2026, 2, 20)),
            ("I3", "a6", 200_000, date(2026, 3, 16)),
            # I4 only partly paid: not in the history
            ("I4", "a7", 20_000, date(2026, 1, 10)),
            ("K1", "b1", 10_000, date(2026, 1, 6)),  # 5 days
            ("K2", "b2", 10_000, date(2026, 1, 7)),  # 6 days
        ],
        schema=["invoice_id", "allocation_id", "amount_cents", "pay_date"],
        orient="row",
    )
    got = {r["customer_id"]: r for r in payment_behaviour(invoices, payments).iter_rows(named=True)}
    # (10 x 1 000 + 0 x 3 000 + 60 x 2 000) / 6 000 = 21.67 -> 21.7 days: grade C
    assert got["C1"]["paid_invoices"] == 3
    assert got["C1"]["avg_days_late"] == 21.7
    assert got["C1"]["grade"] == "C"
    assert (got["C2"]["avg_days_late"], got["C2"]["grade"]) == (5.0, "A")
    assert (got["C3"]["avg_days_late"], got["C3"]["grade"]) == (6.0, "B")


def test_grade_thresholds():
    days = [0.0, 5.0, 5.1, 15.0, 15.1, 30.0, 30.1, 60.0, 60.1, 400.0, None]
    grades = pl.select(grade_expr(pl.Series("d", days, dtype=pl.Float64))).to_series().to_list()
    assert grades == ["A", "A", "B", "B", "C", "C", "D", "D", "E", "E", None]


def test_snapshot_rows_sum_per_bucket():
    aged = age_open_items(
        frame(
            item("A", AS_OF - timedelta(days=3), 1_000),
            item("B", AS_OF - timedelta(days=20), 2_500),
            item("C", AS_OF + timedelta(days=20), 4_000),
        ),
        as_of=AS_OF,
    )
    rows = aging_snapshot_rows(aged, as_of=AS_OF)
    got = {r["bucket"]: (r["amount_open_cents"], r["items"]) for r in rows.iter_rows(named=True)}
    assert got == {"1_30": (3_500, 2), "not_due": (4_000, 1)}
    assert rows["as_of_date"].unique().to_list() == [AS_OF]


def test_bucket_totals_count_items_and_list_empty_buckets_as_zero():
    aged = age_open_items(
        frame(
            item("A", AS_OF - timedelta(days=10), 5_000),
            item("B", AS_OF - timedelta(days=25), 2_000, customer="C2"),
            item("CN", AS_OF - timedelta(days=3), -1_500, doc="credit_note"),
            item("C", AS_OF - timedelta(days=200), 900),
            item("U", AS_OF + timedelta(days=5), 700, currency="USD"),
        ),
        as_of=AS_OF,
    )
    got = {
        (r["currency"], r["bucket"]): (r["amount_open_cents"], r["items"])
        for r in bucket_totals(aged).iter_rows(named=True)
    }
    # EUR 1-30: 50,00 + 20,00 = 70,00 over 2 items; the credit note is in no due-date bucket
    # (issue 16: it used to be, 55,00 over 3 items)
    assert got[("EUR", "1_30")] == (7_000, 2)
    assert got[("EUR", "over_120")] == (900, 1)
    assert got[("EUR", "not_due")] == (0, 0)
    assert got[("USD", "not_due")] == (700, 1)
    assert got[("USD", "1_30")] == (0, 0)
    assert list(got)[:2] == [("EUR", "not_due"), ("EUR", "1_30")]  # currency, then bucket order
