"""The `o2c` command as a data engineer uses it: results on one line, failures as exit 1 + reason."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from o2c.cli import app
from tests.erp_exports import BAD, EXPECTED_REASONS, GOOD, write_export

pytestmark = pytest.mark.usefixtures("prefect_api")
runner = CliRunner()


def o2c(db: Path, *args: str):
    return runner.invoke(app, ["--db", str(db), *args])


def test_mixed_file_loads_the_good_rows_and_quarantine_is_exported(tmp_path: Path):
    db = tmp_path / "o2c.duckdb"
    export = write_export(tmp_path / "export.csv", [*GOOD, *BAD.values()])
    first = o2c(db, "ingest", "invoices", str(export))
    assert first.exit_code == 0, first.output
    assert "14 rows, 5 new, 0 updated, 0 unchanged, 9 quarantined" in first.output

    again = o2c(db, "ingest", "invoices", str(export))
    assert again.exit_code == 0
    assert "already loaded in batch 1" in again.output and "nothing changed" in again.output

    out = tmp_path / "rejects.csv"
    exported = o2c(db, "export", "quarantine_invoices", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = {int(r["line_number"]): r["failed_checks"] for r in csv.DictReader(handle)}
    assert rows == EXPECTED_REASONS


def test_status_lists_tables_and_the_last_load(tmp_path: Path):
    db = tmp_path / "o2c.duckdb"
    o2c(db, "ingest", "invoices", str(write_export(tmp_path / "export.csv", GOOD)))
    status = o2c(db, "status")
    assert status.exit_code == 0, status.output
    assert "schema version" in status.output
    assert "invoices" in status.output and "export.csv" in status.output


def test_failures_exit_1_with_one_line(tmp_path: Path):
    db = tmp_path / "o2c.duckdb"
    missing = o2c(db, "ingest", "invoices", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1
    assert missing.output.strip().splitlines() == [f"error: {tmp_path / 'nope.csv'}: no such file"]

    all_bad = write_export(tmp_path / "bad.csv", [BAD["FA-10"]])
    failed = o2c(db, "ingest", "invoices", str(all_bad))
    assert failed.exit_code == 1
    assert "bad.csv: all 1 rows failed validation: due_date before issue_date (1)" in failed.output

    wrong = o2c(db, "export", "nope", "--out", str(tmp_path / "x.csv"))
    assert wrong.exit_code == 1 and "no table or view 'nope'" in wrong.output
    bad_ext = o2c(db, "export", "invoices", "--out", str(tmp_path / "x.txt"))
    assert bad_ext.exit_code == 1 and "use a .csv, .parquet or .xlsx file name" in bad_ext.output


def test_exports_keep_types(tmp_path: Path):
    import polars as pl

    db = tmp_path / "o2c.duckdb"
    o2c(db, "ingest", "invoices", str(write_export(tmp_path / "export.csv", GOOD)))
    parquet, xlsx = tmp_path / "inv.parquet", tmp_path / "inv.xlsx"
    assert o2c(db, "export", "invoices", "--out", str(parquet)).exit_code == 0
    assert o2c(db, "export", "invoices", "--out", str(xlsx)).exit_code == 0
    frame = pl.read_parquet(parquet).sort("invoice_id")
    assert frame.schema["amount_total"] == pl.Decimal(18, 2)
    assert str(frame["amount_total"][0]) == "-20.00"  # AV-1, the credit note
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx).active
    assert sheet.freeze_panes == "A2"
