"""ERP exports as French ERPs write them: separators, encodings, decimal commas, other formats."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from o2c.tasks.erp.tabular_files import InputFileError, parse_amount_cents, parse_date, read_table

HEADER = "Invoice_ID;Customer_ID;Customer_Name;Amount_Total\n"
ROWS = "FA-1;C1;Société Générale Équipements;1 234,56\nFA-2;C2;Café Noël;-7,5\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_semicolon_csv_in_each_encoding(tmp_path: Path, encoding: str):
    path = tmp_path / "export.csv"
    path.write_bytes((HEADER + ROWS).encode(encoding))
    frame = read_table(path)
    assert frame.columns == ["_line", "invoice_id", "customer_id", "customer_name", "amount_total"]
    assert frame["customer_name"].to_list() == ["Société Générale Équipements", "Café Noël"]
    assert frame["_line"].to_list() == [2, 3]  # header is line 1


def test_comma_csv_keeps_values_as_text(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_text('invoice_id,amount_total,postal_code\nFA-1,"1,234.56",06000\n')
    row = read_table(path).row(0, named=True)
    assert (row["amount_total"], row["postal_code"]) == ("1,234.56", "06000")


def test_parquet_and_json_lines(tmp_path: Path):
    frame = pl.DataFrame({"invoice_id": ["FA-1"], "amount_total": [12.5]})
    frame.write_parquet(tmp_path / "x.parquet")
    (tmp_path / "x.jsonl").write_text('{"invoice_id": "FA-1", "amount_total": "12,50"}\n')
    assert read_table(tmp_path / "x.parquet")["amount_total"].to_list() == ["12.5"]
    assert read_table(tmp_path / "x.jsonl")["amount_total"].to_list() == ["12,50"]


def test_missing_file_and_ragged_csv_name_the_file(tmp_path: Path):
    with pytest.raises(InputFileError, match=r"nope\.csv: no such file"):
        read_table(tmp_path / "nope.csv")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a;b\n1;2;3\n")
    with pytest.raises(InputFileError, match=r"ragged\.csv"):
        read_table(ragged)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1234.56", 123456),
        ("1234,56", 123456),
        ("1 234,56", 123456),
        ("1\u00a0234,56", 123456),
        ("1.234,56", 123456),
        ("1,234.56", 123456),
        ("-12", -1200),
        ("+12,5", 1250),
        ("0,10", 10),
        ("12,34,5", None),
        ("1,234", None),
        ("1.234", None),
        ("12.345", None),
        ("abc", None),
        (None, None),
    ],
)
def test_amounts_are_exact_cents_or_refused(text, cents):
    frame = pl.DataFrame({"a": [text]}, schema={"a": pl.String})
    assert frame.select(parse_amount_cents("a")).item() == cents


def test_dates_iso_and_french():
    values = ["2026-03-31", "31/03/2026", "31.03.2026", "2026-03-31T10:00:00", "2026-02-30", "x"]
    parsed = pl.DataFrame({"d": values}).select(parse_date("d")).to_series().to_list()
    assert [str(d) if d else None for d in parsed] == ["2026-03-31"] * 4 + [None, None]


def test_quoted_fields_with_doubled_quotes_and_separators_are_read(tmp_path: Path):
    """The quote checks of issue 14 refuse unclosed quotes only, not CSV's own quoting."""
    path = tmp_path / "export.csv"
    path.write_text('invoice_id;customer_name\nFA-1;"Le ""Bon"" Coin; SARL"\nFA-2;"multi\tab"\n')
    assert read_table(path)["customer_name"].to_list() == ['Le "Bon" Coin; SARL', "multi\tab"]
    path.write_text('invoice_id;customer_name\nFA-1;"Le ""Bon"" Coin\nFA-2;x\n')
    with pytest.raises(InputFileError, match=r"line 2: a quoted field is never closed"):
        read_table(path)
