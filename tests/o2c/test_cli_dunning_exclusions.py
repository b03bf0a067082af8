"""`o2c dunning exclude | exclusions | unexclude` on a real warehouse file, as a credit
controller uses them: the plan stops chasing, the list says why, ending one resumes dunning."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from o2c.cli import app
from o2c.warehouse import connect

runner = CliRunner()
TODAY = date.today()
DUE = TODAY - timedelta(days=40)  # overdue enough for a first reminder under the default policy
UNTIL = TODAY + timedelta(days=30)
REASON = "[bold]litige[/bold] =HYPERLINK(1)"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "o2c.duckdb"
    with connect(path) as con:
        # consumers: no late-payment penalties, so no rate table needed for today's date
        con.execute(
            "INSERT INTO customers (customer_id, name, email, language, customer_kind, row_hash,"
            " updated_at) VALUES"
            " ('C1', 'Dupont SARL', 'compta@dupont.example', 'fr', 'consumer', 'h', now()),"
            " ('C2', 'Martin SAS', 'compta@martin.example', 'fr', 'consumer', 'h', now())"
        )
        for invoice_id, customer in [("F-1", "C1"), ("F-2", "C2")]:
            con.execute(
                "INSERT INTO invoices (invoice_id, document_type, customer_id, issue_date,"
                " due_date, currency, amount_total, row_hash, first_loaded_at, updated_at)"
                " VALUES (?, 'invoice', ?, ?, ?, 'EUR', '1000.00', 'h', now(), now())",
                [invoice_id, customer, DUE - timedelta(days=30), DUE],
            )
        con.execute(
            "INSERT INTO bank_transactions (transaction_id, account_iban, currency, booking_date,"
            " amount, source, loaded_at) VALUES ('T1', 'FR7630001007941234567890185', 'EUR',"
            " ?, '1.00', 'camt.053', now())",
            [TODAY],
        )
    return path


def o2c(db: Path, *args: str):
    return runner.invoke(app, ["--db", str(db), "dunning", *args])


def _plan_text(db: Path) -> str:
    result = o2c(db, "plan", "--as-of", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_exclude_list_and_unexclude(db: Path):
    before = _plan_text(db)
    assert "Dupont SARL" in before and "Martin SAS" in before

    result = o2c(
        db, "exclude", "C1", "--invoice", "F-1", "--kind", "dispute", "--until", str(UNTIL),
        "--reason", REASON, "--by", "alice",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("exclusion 1: invoice F-1 of C1, dispute until")
    planned = _plan_text(db)
    assert "Dupont SARL" not in planned and "Martin SAS" in planned
    assert "items left out: 1 dispute" in planned

    listed = o2c(db, "exclusions")
    assert listed.exit_code == 0, listed.output
    text = " ".join(listed.output.split())
    assert "F-1" in text and "dispute" in text and "alice" in text
    assert "[bold]litige[/bold]" in text  # the reason printed as text, not console markup

    ended = o2c(db, "unexclude", "1", "--by", "bob", "--reason", "settled")
    assert ended.exit_code == 0, ended.output
    assert "Dupont SARL" in _plan_text(db)
    assert "no exclusion in force" in o2c(db, "exclusions").output
    history = " ".join(o2c(db, "exclusions", "--all").output.split())
    assert "ended" in history and "bob" in history and "settled" in history

    with connect(db) as con:
        events = con.execute("SELECT event, subject FROM audit_log ORDER BY seq").fetchall()
        kept = con.execute("SELECT count(*) FROM dunning_exclusions").fetchall()
    assert events == [("exclusion", "C1"), ("exclusion", "C1")]
    assert kept == [(1,)]  # ending is a new fact, the exclusion stays


def test_wrong_requests_exit_1_naming_what_is_wrong(db: Path):
    result = o2c(db, "exclude", "C1", "--kind", "dispute", "--until", str(UNTIL),
                 "--reason", "r", "--by", "a")  # fmt: skip
    assert result.exit_code == 1
    assert "a dispute is about one invoice" in result.output
    result = o2c(db, "exclude", "C1", "--kind", "promise_to_pay", "--until", "31/12/2026",
                 "--reason", "r", "--by", "a")  # fmt: skip
    assert result.exit_code != 0 and "is not a date like" in result.output
    result = o2c(db, "unexclude", "7", "--by", "a", "--reason", "r")
    assert result.exit_code == 1 and "exclusion 7 does not exist" in result.output


def test_a_payment_plan_with_instalments(db: Path):
    first, second = TODAY + timedelta(days=10), TODAY + timedelta(days=40)
    result = o2c(
        db, "exclude", "C2", "--kind", "payment_plan", "--reason", "two instalments",
        "--by", "carol", "--instalment", f"{first}:500.00", "--instalment", f"{second}:500,00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"payment_plan until {second}" in result.output
    with connect(db) as con:
        rows = con.execute(
            "SELECT seq, due_date, amount_cents FROM dunning_instalments ORDER BY seq"
        ).fetchall()
    assert rows == [(1, first, 50_000), (2, second, 50_000)]


def test_a_file_is_recorded_all_or_nothing(db: Path, tmp_path: Path):
    good = tmp_path / "exclusions.csv"
    good.write_text(
        "customer_id,invoice_id,kind,until,reason\n"
        f"C1,,promise_to_pay,{UNTIL},will pay\n"
        "C2,,opt_out,,asked us to stop\n",
        encoding="utf-8",
    )
    result = o2c(db, "exclusions", "--load", str(good), "--by", "dave")
    assert result.exit_code == 0, result.output
    assert "exclusions.csv: 2 exclusion(s) recorded, 0 already in force" in result.output
    again = o2c(db, "exclusions", "--load", str(good), "--by", "dave")
    assert "0 exclusion(s) recorded, 2 already in force" in again.output

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "customer_id,invoice_id,kind,until,reason\n"
        f"C1,F-1,dispute,{UNTIL},fine line\n"
        f"C9,,opt_out,,unknown customer\n",
        encoding="utf-8",
    )
    result = o2c(db, "exclusions", "--load", str(bad), "--by", "dave")
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "bad.csv line 3: customer 'C9' is not in the warehouse" in text
    assert "nothing recorded (1 line(s) to fix)" in text
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM dunning_exclusions").fetchall() == [(2,)]
