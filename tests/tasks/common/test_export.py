"""Exports a person opens: CSV cells never run as formulas, Excel streamed with types kept."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from openpyxl import load_workbook

from o2c.tasks.common import export
from o2c.tasks.common.escaping import FORMULA_STARTS

HOSTILE_NAMES = [
    '=HYPERLINK("http://evil","click")',
    "+33 1 23 45 67 89",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "ACME SARL",
    "=cmd|' /C calc'!A0",
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        """
        CREATE TABLE hostile (
            invoice_id VARCHAR, customer_name VARCHAR, amount DECIMAL(18, 2), n INTEGER,
            ratio DOUBLE, due_date DATE, created_at TIMESTAMP, paid BOOLEAN, status VARCHAR
        )
        """
    )
    con.executemany(
        "INSERT INTO hostile VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f"FA-{i}",
                name,
                f"-{i}.50" if i % 2 else f"{i * 1000}.25",
                -i,
                i / 4,
                date(2026, 3, 1 + i),
                datetime(2026, 3, 1, 9, 30, i),
                i % 2 == 0,
                None if i == 3 else "open",
            )
            for i, name in enumerate(HOSTILE_NAMES)
        ],
    )
    return con


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def assert_no_formula(rows: list[dict[str, str]], text_columns: set[str]) -> None:
    for row in rows:
        for name, cell in row.items():
            if name in text_columns:
                assert not cell.startswith(FORMULA_STARTS), (name, cell)


def test_csv_export_prefixes_formula_cells_and_keeps_numbers(con, tmp_path):
    out = tmp_path / "hostile.csv"
    assert export.export_relation(con, "hostile", out, batch_rows=3) == len(HOSTILE_NAMES)
    rows = read_csv(out)
    assert len(rows) == len(HOSTILE_NAMES)  # one header, even with several batches
    assert_no_formula(rows, {"invoice_id", "customer_name", "status"})
    names = [r["customer_name"] for r in rows]
    assert names == ["'" + n if n[0] in "=+-@\t\r" else n for n in HOSTILE_NAMES]
    assert [r["amount"] for r in rows][:3] == ["0.25", "-1.50", "2000.25"]  # numbers untouched
    assert rows[1]["n"] == "-1"
    assert rows[0]["due_date"] == "2026-03-01"


def test_write_frame_csv_is_safe_too(tmp_path):
    frame = pl.DataFrame({"name": HOSTILE_NAMES, "amount": list(range(-4, 4))})
    out = export.write_frame(frame, tmp_path / "f.csv", sheet="f")
    rows = read_csv(out)
    assert_no_formula(rows, {"name"})
    assert rows[0]["amount"] == "-4"


def test_xlsx_export_streams_and_keeps_types(con, tmp_path):
    out = tmp_path / "hostile.xlsx"
    seen: list[tuple[int, int | None]] = []
    written = export.export_relation(
        con, "hostile", out, batch_rows=3, progress=lambda done, total: seen.append((done, total))
    )
    assert written == len(HOSTILE_NAMES)
    assert seen == [(3, 8), (6, 8), (8, 8)]  # one report per batch
    sheet = load_workbook(out).active
    assert sheet.title == "hostile"
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "invoice_id",
        "customer_name",
        "amount",
        "n",
        "ratio",
        "due_date",
        "created_at",
        "paid",
        "status",
    )
    # text as text, not a formula (xlsxwriter writes a CR as Excel's _x000D_, which openpyxl
    # leaves as it is and Excel reads back as a CR)
    assert [r[1].replace("_x000D_", "\r") for r in rows[1:]] == HOSTILE_NAMES
    cells = list(sheet.iter_rows(min_row=2, max_row=3))
    assert all(c[1].data_type == "s" for c in cells)
    first, second = cells
    assert first[2].value == 0.25 and first[2].number_format == "#,##0.00"
    assert second[2].value == -1.5
    assert second[3].value == -1 and second[4].value == 0.25
    assert first[5].value == datetime(2026, 3, 1) and first[5].is_date
    assert second[6].value == datetime(2026, 3, 1, 9, 30, 1) and second[6].is_date
    assert first[7].value is True and second[7].value is False
    assert [r[8] for r in rows[1:5]] == ["open", "open", "open", None]


def test_write_frame_xlsx_streams_from_a_frame(tmp_path):
    frame = pl.DataFrame(
        {"day": [date(2026, 1, 1), None, date(1899, 1, 1)], "amount": [1, 2, 3]},
    ).with_columns(amount=pl.col("amount").cast(pl.Decimal(10, 3)))
    out = export.write_frame(frame, tmp_path / "f.xlsx", sheet="a very long sheet name, cut at 31")
    sheet = load_workbook(out).active
    assert sheet.title == "a very long sheet name, cut at "
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows == [(datetime(2026, 1, 1), 1), (None, 2), ("1899-01-01", 3)]
    assert sheet["B2"].number_format == "#,##0.000"


def test_empty_table_gives_a_header(con, tmp_path):
    con.execute("CREATE TABLE nothing AS SELECT * FROM hostile WHERE false")
    xlsx, csv_out = tmp_path / "n.xlsx", tmp_path / "n.csv"
    assert export.export_relation(con, "nothing", xlsx) == 0
    assert export.export_relation(con, "nothing", csv_out) == 0
    assert next(load_workbook(xlsx).active.iter_rows(values_only=True))[0] == "invoice_id"
    assert csv_out.read_text().startswith("invoice_id,customer_name,")


def test_too_many_rows_for_a_sheet_is_refused_before_writing(con, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 5)
    out = tmp_path / "big.xlsx"
    with pytest.raises(export.ExportError, match=r"export to \.csv"):
        export.export_relation(con, "hostile", out)
    assert not out.exists()


def test_unknown_relation_and_format(con, tmp_path):
    with pytest.raises(export.ExportError, match="no table or view 'x\"; DROP'"):
        export.export_relation(con, 'x"; DROP', tmp_path / "x.csv")
    with pytest.raises(export.ExportError, match=r"use a \.csv"):
        export.export_relation(con, "hostile", tmp_path / "x.txt")
