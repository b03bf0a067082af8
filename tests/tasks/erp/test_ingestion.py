"""From an ERP export to the warehouse: what loads, what is quarantined and why, what a reload does."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.tasks.erp import normalise, tabular_files, validation
from o2c.tasks.erp.ingest import (
    AllRowsRejected,
    all_rows_rejected,
    ingest_customer_file,
)
from o2c.warehouse import connect
from tests.erp_exports import BAD, EXPECTED_REASONS, GOOD, ingest, write_export


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "o2c.duckdb"


def test_good_rows_load_and_each_bad_row_is_quarantined_with_its_reason(tmp_path, db):
    export = write_export(tmp_path / "export.csv", GOOD + list(BAD.values()))
    result = ingest(db, export)
    assert (result.rows_in, result.inserted, result.quarantined) == (14, 5, 9)
    with connect(db) as con:
        stored = con.execute(
            "SELECT invoice_id, document_type, amount_total, currency FROM invoices ORDER BY 1"
        ).fetchall()
        quarantined = con.execute(
            "SELECT line_number, failed_checks, raw_row FROM quarantine_invoices ORDER BY 1"
        ).fetchall()
    assert stored == [
        ("AV-1", "credit_note", Decimal("-20.00"), "EUR"),  # credit notes are stored negative
        ("FA-1", "invoice", Decimal("1234.56"), "EUR"),
        ("FA-2", "invoice", Decimal("100.00"), "EUR"),
        ("FA-3", "invoice", Decimal("50.00"), "EUR"),
        ("FA-4", "invoice", Decimal("999.99"), "GBP"),
    ]
    assert {line: reason for line, reason, _ in quarantined} == EXPECTED_REASONS
    raw_13 = json.loads(next(raw for line, _, raw in quarantined if line == 12))
    assert raw_13["amount_total"] == "12,34,5"  # kept exactly as read


def test_the_same_file_twice_is_a_no_op_that_says_so(tmp_path, db):
    export = write_export(tmp_path / "export.csv", [*GOOD, BAD["FA-10"]])
    first = ingest(db, export)
    with connect(db) as con:
        before = [
            con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("invoices", "customers", "quarantine_invoices", "load_batches")
        ]
    second = ingest(db, export)
    with connect(db) as con:
        after = [
            con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("invoices", "customers", "quarantine_invoices", "load_batches")
        ]
    assert second.status == "duplicate_file"
    assert second.previous_batch_id == first.batch_id
    assert "already loaded" in second.message
    assert before == after == [5, 3, 1, 1]


def test_a_newer_export_updates_invoices_and_records_the_change(tmp_path, db):
    ingest(db, write_export(tmp_path / "monday.csv", GOOD))
    tuesday = [row.replace("100,00", "90,00") if row.startswith("FA-2") else row for row in GOOD]
    result = ingest(db, write_export(tmp_path / "tuesday.csv", [*tuesday, BAD["FA-9"]]))
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 4)
    with connect(db) as con:
        changes = con.execute(
            "SELECT invoice_id, field, old_value, new_value FROM invoice_changes"
        ).fetchall()
        amount = con.execute(
            "SELECT amount_total FROM invoices WHERE invoice_id = 'FA-2'"
        ).fetchall()
    assert changes == [("FA-2", "amount_total", "100.00", "90.00")]
    assert amount == [(Decimal("90.00"),)]


def test_customers_come_from_invoice_rows(tmp_path, db):
    ingest(db, write_export(tmp_path / "export.csv", GOOD))
    with connect(db) as con:
        rows = con.execute("SELECT customer_id, name, iban FROM customers ORDER BY 1").fetchall()
    assert rows == [
        ("C1", "Dupont SARL", "FR7630006000011234567890189"),
        ("C2", "Martin SAS", None),
        ("C3", "Müller GmbH", None),
    ]


def test_missing_required_column_names_file_and_column(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("invoice_id;customer_id\nFA-1;C1\n")
    raw = tabular_files.read_table(path)
    with pytest.raises(tabular_files.InputFileError, match=r"short.csv: missing .*customer_name"):
        tabular_files.require_columns(raw, normalise.INVOICE_REQUIRED, path)


def test_an_edited_suite_changes_what_is_accepted(tmp_path):
    """Data engineers edit expectations/*.json, not code: a stricter suite quarantines more."""
    suite = json.loads(validation.suite_path("invoices").read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "currency", "value_set": ["EUR"]},
            "meta": {"reason": "only EUR invoices this year"},
        }
    )
    folder = tmp_path / "suites"
    folder.mkdir()
    (folder / "invoices.json").write_text(json.dumps(suite))
    raw = tabular_files.read_table(write_export(tmp_path / "x.csv", GOOD))
    outcome = validation.validate(normalise.normalise_invoices(raw), "invoices", folder=folder)
    assert outcome.bad["invoice_id"].to_list() == ["FA-4"]
    assert outcome.failures_by_reason == {"only EUR invoices this year": 1}


def test_a_suite_naming_an_unknown_column_is_a_suite_error(tmp_path):
    folder = tmp_path / "suites"
    folder.mkdir()
    (folder / "invoices.json").write_text(
        json.dumps(
            {
                "name": "invoices",
                "expectations": [
                    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "nope"}}
                ],
            }
        )
    )
    raw = tabular_files.read_table(write_export(tmp_path / "x.csv", GOOD))
    with pytest.raises(validation.SuiteError, match="column 'nope'"):
        validation.validate(normalise.normalise_invoices(raw), "invoices", folder=folder)


def test_a_file_of_nothing_but_rejects_is_an_error_to_fail_the_run_with(tmp_path, db):
    export = write_export(tmp_path / "bad.csv", [BAD["FA-10"], BAD["FA-11"]])
    result = ingest(db, export)
    assert (result.status, result.rows_in, result.quarantined) == ("loaded", 2, 2)
    error = all_rows_rejected(result)
    assert isinstance(error, AllRowsRejected)
    assert str(error).startswith("bad.csv: all 2 rows failed validation: ")
    assert all_rows_rejected(ingest(db, export)) is None  # the same file again: a no-op
    assert all_rows_rejected(ingest(db, write_export(tmp_path / "ok.csv", GOOD))) is None


def test_a_customer_master_loads_through_the_same_steps(tmp_path, db):
    path = tmp_path / "customers.csv"
    path.write_text(
        "customer_id;name;iban\nC1;Dupont SARL;FR7630006000011234567890189\nC2;;\n",
        encoding="utf-8",
    )
    with connect(db) as con:
        result = ingest_customer_file(con, path)
        rows = con.execute("SELECT customer_id, name, iban FROM customers").fetchall()
        again = ingest_customer_file(con, path)
    assert (result.rows_in, result.inserted, result.quarantined) == (2, 1, 1)
    assert rows == [("C1", "Dupont SARL", "FR7630006000011234567890189")]
    assert again.status == "duplicate_file"
