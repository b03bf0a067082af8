from datetime import date, datetime

import openpyxl
import polars as pl
import pytest

from o2c.models.schemas import OPEN_ITEM
from o2c.tasks.aging.analysis import DSO_ROW, age_open_items, aging_by_customer
from o2c.tasks.aging.workbook import aging_workbook_views, write_aging_workbook

AS_OF = date(2026, 3, 31)


def open_items():
    d = date
    rows = [
        ("F-001", "invoice", "ACME", d(2026, 1, 1), d(2026, 1, 31), "EUR", 1_234_567, 1_234_567),
        ("F-002", "invoice", "ACME", d(2026, 3, 1), d(2026, 4, 30), "EUR", 50_000, 20_000),
        ("AV-01", "credit_note", "ACME", d(2026, 3, 5), d(2026, 3, 20), "EUR", -10_050, -10_050),
        ("US-01", "invoice", "YANK", d(2026, 2, 1), d(2026, 3, 1), "USD", 99_900, 99_900),
    ]
    full = [(i, t, c, "US01" if cur == "USD" else "FR01", *rest, cur, a, o, None)
            for i, t, c, *rest, cur, a, o in rows]  # fmt: skip
    return pl.DataFrame(full, schema=OPEN_ITEM, orient="row")


@pytest.fixture
def workbook(tmp_path):
    aged = age_open_items(open_items(), as_of=AS_OF)
    names = pl.DataFrame({"customer_id": ["ACME", "YANK"], "name": ["Acme SARL", "Yank Inc."]})
    by_customer = aging_by_customer(aged, names=names)
    dso = pl.DataFrame(
        [
            (date(2026, 3, 30), "EUR", "FR01", 1_200_000, 3_000_000, 90, 36.0, 40.5),
            (AS_OF, "EUR", "FR01", 1_244_517, 3_000_000, 90, 37.3, 41.2),
        ],
        schema=DSO_ROW,
        orient="row",
    )
    path = write_aging_workbook(
        tmp_path / "out" / "aging.xlsx", aging_workbook_views(by_customer, aged, dso)
    )
    return openpyxl.load_workbook(path)


def header(ws):
    return [c.value for c in ws[1]]


def test_one_sheet_per_view(workbook):
    assert workbook.sheetnames == ["Summary by bucket", "By customer", "Open items", "DSO history"]


def test_every_sheet_has_frozen_header_and_autofilter(workbook):
    for ws in workbook.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:"), ws.title
        assert ws["A1"].font.bold
    # the open items filter covers the header and the 4 rows, 11 columns (A..K)
    assert workbook["Open items"].auto_filter.ref == "A1:K5"


def test_open_items_money_and_dates(workbook):
    ws = workbook["Open items"]
    cols = {name: i + 1 for i, name in enumerate(header(ws))}
    assert list(cols)[:9] == [
        "Invoice", "Type", "Customer", "Entity", "Issued", "Due", "Currency", "Amount", "Open",
    ]  # fmt: skip
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    f001 = rows["F-001"]
    amount = ws.cell(f001, cols["Amount"])
    assert amount.value == pytest.approx(12_345.67)
    assert amount.number_format == '#,##0.00 "EUR"'
    due = ws.cell(f001, cols["Due"])
    assert due.is_date and due.value == datetime(2026, 1, 31)
    assert due.number_format == "dd/mm/yyyy"
    # 2026-03-31 - 2026-01-31 = 59 days
    assert ws.cell(f001, cols["Days past due"]).value == 59
    assert ws.cell(f001, cols["Bucket"]).value == "31-60 days"
    # partly paid: 500,00 billed, 200,00 open
    assert ws.cell(rows["F-002"], cols["Open"]).value == pytest.approx(200.00)
    assert ws.cell(rows["AV-01"], cols["Open"]).value == pytest.approx(-100.50)
    usd = ws.cell(rows["US-01"], cols["Open"])
    assert usd.value == pytest.approx(999.00)
    assert usd.number_format == '#,##0.00 "USD"'


def test_summary_and_customers_keep_currencies_apart(workbook):
    ws = workbook["Summary by bucket"]
    cols = {name: i + 1 for i, name in enumerate(header(ws))}
    assert "1-30 days" in cols and "Total owed" in cols
    assert header(ws)[:3] == ["Currency", "Overdue", "Overdue net of credits"]
    by_cur = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    assert set(by_cur) == {"EUR", "USD"}
    # EUR owed: 12 345,67 + 200,00; the credit note (-100,50) apart: net 12 445,17
    total = ws.cell(by_cur["EUR"], cols["Total owed"])
    assert total.value == pytest.approx(12_545.67)
    assert total.number_format == '#,##0.00 "EUR"'
    assert ws.cell(by_cur["EUR"], cols["Unapplied credits"]).value == pytest.approx(-100.50)
    assert ws.cell(by_cur["EUR"], cols["Net balance"]).value == pytest.approx(12_445.17)
    # overdue: F-001 (59 days); net of the credit note: 12 345,67 - 100,50
    assert ws.cell(by_cur["EUR"], cols["Overdue"]).value == pytest.approx(12_345.67)
    assert ws.cell(by_cur["EUR"], cols["Overdue net of credits"]).value == pytest.approx(12_245.17)
    assert ws.cell(by_cur["USD"], cols["Total owed"]).value == pytest.approx(999.00)
    cust = workbook["By customer"]
    # the order of the artifacts: who, overdue gross and net, how late, total, grade
    assert header(cust)[:8] == [
        "Name", "Customer", "Entity", "Currency", "Overdue", "Overdue net of credits",
        "Oldest days late", "Total owed",
    ]  # fmt: skip
    assert cust.cell(2, 1).value in ("Acme SARL", "Yank Inc.")


def test_dso_history_sheet(workbook):
    ws = workbook["DSO history"]
    assert header(ws) == [
        "Date", "Currency", "Entity", "Receivables", "Revenue", "Period days",
        "DSO standard", "DSO countback",
    ]  # fmt: skip
    assert ws["A3"].value == datetime(2026, 3, 31) and ws["A3"].is_date
    assert ws["D3"].value == pytest.approx(12_445.17)
    assert ws["G3"].value == pytest.approx(37.3)
    assert ws["G3"].number_format == "#,##0.0"


def test_columns_are_wide_enough(workbook):
    ws = workbook["Open items"]
    # "Invoice" header and ids of 5 characters: at least the minimum of 8
    assert ws.column_dimensions["A"].width >= 8
    # "12 345,67 EUR" needs about 13 characters
    assert ws.column_dimensions["H"].width >= 13


def test_bad_sheet_names_are_refused(tmp_path):
    frame = pl.DataFrame({"a": [1]})
    with pytest.raises(ValueError, match="31 characters"):
        write_aging_workbook(tmp_path / "x.xlsx", {"Aging: by customer": frame})
    with pytest.raises(ValueError, match="used twice"):
        write_aging_workbook(tmp_path / "x.xlsx", {"Aging": frame, "aging": frame})
