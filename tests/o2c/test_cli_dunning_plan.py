"""`o2c dunning plan` as a credit controller runs it: the plan printed, previews written, and
nothing sent or recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from o2c.cli import app
from o2c.warehouse import connect

runner = CliRunner()
NAME = "[bold]Boulangerie[/bold] <b>Martin</b>"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "o2c.duckdb"
    with connect(path) as con:
        con.execute(
            "INSERT INTO customers (customer_id, name, email, language, row_hash, updated_at)"
            " VALUES ('C1', ?, 'compta@martin.example', 'fr', 'h', now()),"
            " ('C2', 'Sans Adresse', NULL, 'en', 'h', now())",
            [NAME],
        )
        for invoice_id, customer, due, total in [
            ("F-001", "C1", "2026-01-31", "1000.00"),
            ("F-002", "C1", "2026-03-13", "250.00"),
            ("F-003", "C2", "2026-02-27", "90.00"),
            ("F-004", "C1", "2026-06-30", "75.00"),  # not due on the plan's date
        ]:
            con.execute(
                "INSERT INTO invoices (invoice_id, document_type, customer_id, legal_entity,"
                " issue_date, due_date, currency, amount_total, row_hash, first_loaded_at,"
                " updated_at) VALUES (?, 'invoice', ?, 'FR01', '2026-01-01', ?, 'EUR', ?, 'h',"
                " now(), now())",
                [invoice_id, customer, due, total],
            )
        con.execute(
            "INSERT INTO bank_transactions (transaction_id, account_iban, currency, booking_date,"
            " amount, source, loaded_at) VALUES ('T1', 'FR7630001007941234567890185', 'EUR',"
            " '2026-03-31', '400.00', 'camt.053', now())"
        )
        con.execute(
            "INSERT INTO allocations VALUES ('A1', 'T1', 'F-001', 'C1', '400.00', 'EUR',"
            " 'payment', 'reference', 1.0, NULL, NULL, now())"
        )
    return path


def o2c(db: Path, *args: str):
    return runner.invoke(app, ["--db", str(db), "dunning", "plan", *args])


def test_the_plan_is_printed_and_previews_written_without_sending(db: Path, tmp_path: Path):
    before = db.read_bytes()
    folder = tmp_path / "previews"
    result = o2c(db, "--as-of", "2026-04-01", "--out", str(folder))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    # C1: F-001 (600.00 left of 1,000.00) and F-002, in one first reminder by email
    assert NAME in text  # printed as text: not console markup
    assert "first_reminder" in text and "email" in text
    assert "EUR 850.00" in text and "F-001, F-002" in text
    assert "F-004" not in text
    # C2 has no email address: left out, and said so
    assert "items left out: 1 no_email" in text
    [txt] = folder.glob("*.txt")
    assert txt.name.startswith("0001-")
    message = txt.read_text(encoding="utf-8")
    assert "F-001" in message and "F-002" in message
    page = (folder / "preview.html").read_text(encoding="utf-8")
    assert "<b>Martin</b>" not in page and "&lt;b&gt;Martin&lt;/b&gt;" in page
    assert db.read_bytes() == before  # nothing recorded


def test_stale_bank_data_is_a_warning_here(db: Path):
    result = o2c(db, "--as-of", "2026-04-20")
    assert result.exit_code == 0, result.output
    assert "the last bank load (2026-03-31)" in " ".join(result.output.split())
    assert "the dunning flow would not send" in " ".join(result.output.split())


def test_a_bad_policy_or_date_is_one_line(db: Path, tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("segments:\n  default:\n    levels: []\n", encoding="utf-8")
    result = o2c(db, "--as-of", "2026-04-01", "--policy", str(policy))
    assert result.exit_code == 1
    assert f"{policy}:3: segments.default.levels" in " ".join(result.output.split())
    assert o2c(db, "--as-of", "01/04/2026").exit_code == 2
