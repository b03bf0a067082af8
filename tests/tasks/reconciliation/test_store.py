"""Reconciliation against a real DuckDB warehouse: re-runs, decisions, learned payers."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from o2c.tasks.reconciliation.engine import reconcile
from o2c.tasks.reconciliation.store import (
    apply_decisions,
    read_decisions_csv,
    read_inputs,
    reconcile_warehouse,
    write_result,
)
from o2c.warehouse import connect

NOW = datetime(2026, 3, 10, 9, 0)
STRANGER_IBAN = "FR7610107001011234567890129"


def _invoice(con, invoice_id, customer_id, amount, due=date(2026, 1, 31)):
    con.execute(
        """INSERT INTO invoices (invoice_id, document_type, customer_id, issue_date, due_date,
               currency, amount_total, row_hash, first_loaded_at, updated_at)
           VALUES (?, 'invoice', ?, ?, ?, 'EUR', ?, 'h', ?, ?)""",
        [invoice_id, customer_id, date(2026, 1, 1), due, Decimal(amount), NOW, NOW],
    )


def _tx(con, tx_id, amount, *, text=None, iban=None, name=None, booked=date(2026, 3, 2)):
    con.execute(
        """INSERT INTO bank_transactions (transaction_id, account_iban, currency, booking_date,
               amount, counterparty_name, counterparty_iban, remittance_unstructured,
               bank_reference, source, loaded_at)
           VALUES (?, 'FR7630001007941234567890185', 'EUR', ?, ?, ?, ?, ?, ?, 'csv', ?)""",
        [tx_id, booked, Decimal(amount), name, iban, text, tx_id, NOW],
    )


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "o2c.duckdb"
    with connect(path) as con:
        con.execute(
            """INSERT INTO customers (customer_id, name, iban, row_hash, updated_at) VALUES
               ('C1', 'Boulangerie Dupont', 'FR1420041010050500013M02606', 'h', ?),
               ('C2', 'Transports Martin', NULL, 'h', ?)""",
            [NOW, NOW],
        )
        _invoice(con, "FA-2026-0001", "C1", "1200.00")
        _invoice(con, "FA-2026-0002", "C1", "300.50")
        _invoice(con, "FA-2026-0003", "C2", "99.99")
        _invoice(con, "FA-2026-0004", "C2", "45.00")
        _tx(con, "T1", "1200.00", text="Facture FA-2026-0001")
        _tx(con, "T2", "296.00", text="FA 2026 2")  # 4,50 of bank charges
        _tx(con, "T3", "99.99", iban=STRANGER_IBAN, name="SCI LES TILLEULS")  # unknown payer
    return path


def _snapshot(con):
    return (
        con.execute("SELECT * FROM allocations ORDER BY allocation_id").fetchall(),
        con.execute("SELECT * FROM reconciliation_exceptions ORDER BY transaction_id").fetchall(),
    )


def test_results_land_in_the_warehouse_in_decimal(db):
    with connect(db) as con:
        result = reconcile_warehouse(con, flow_run_id="run-1")
        rows = con.execute(
            "SELECT transaction_id, invoice_id, amount, kind, rule, flow_run_id FROM allocations"
            " ORDER BY transaction_id, kind"
        ).fetchall()
        assert rows == [
            ("T1", "FA-2026-0001", Decimal("1200.00"), "payment", "invoice_number", "run-1"),
            ("T2", "FA-2026-0002", Decimal("296.00"), "payment", "invoice_number", "run-1"),
            (
                "T2",
                "FA-2026-0002",
                Decimal("4.50"),
                "write_off",
                "short_payment_write_off",
                "run-1",
            ),
        ]
        exc = con.execute(
            "SELECT transaction_id, reason, status FROM reconciliation_exceptions"
        ).fetchall()
        assert exc == [("T3", "no_match", "open")]
        open_ids = [
            r[0] for r in con.execute("SELECT invoice_id FROM open_items ORDER BY 1").fetchall()
        ]
        assert open_ids == ["FA-2026-0003", "FA-2026-0004"]
    assert result.stats["allocations_written"] == 3


def test_second_run_changes_nothing(db):
    with connect(db) as con:
        reconcile_warehouse(con, flow_run_id="run-1")
        before = _snapshot(con)
        again = reconcile_warehouse(con, flow_run_id="run-2")
        assert _snapshot(con) == before
    assert again.stats["allocations_written"] == 0
    assert again.stats["exceptions_changed"] == 0


def test_writing_the_same_result_twice_appends_nothing(db):
    # A retried task writes a result the warehouse already holds: no duplicate allocation.
    with connect(db) as con:
        result = reconcile(**read_inputs(con))
        assert write_result(con, result, flow_run_id="run-1")["allocations_written"] == 3
        assert write_result(con, result, flow_run_id="run-1b")["allocations_written"] == 0
        assert con.execute(
            "SELECT count(*), count(DISTINCT allocation_id), min(flow_run_id) FROM allocations"
        ).fetchall() == [(3, 3, "run-1")]


def test_new_invoice_settles_an_open_exception_on_the_next_run(db):
    with connect(db) as con:
        _tx(con, "T4", "77.00", text="Facture FA-2026-0005")
        reconcile_warehouse(con, flow_run_id="run-1")
        # FA-2026-0005 is unknown yet; 0003/0004 are one typo away but neither their amounts
        # nor the (unknown) payer fit: not candidates, so nothing matches yet.
        assert con.execute(
            "SELECT reason, status FROM reconciliation_exceptions WHERE transaction_id = 'T4'"
        ).fetchall()[0] == ("no_match", "open")
        _invoice(con, "FA-2026-0005", "C2", "77.00")
        reconcile_warehouse(con, flow_run_id="run-2")
        assert con.execute(
            "SELECT status FROM reconciliation_exceptions WHERE transaction_id = 'T4'"
        ).fetchall()[0] == ("resolved",)
        assert con.execute(
            "SELECT invoice_id, amount FROM allocations WHERE transaction_id = 'T4'"
        ).fetchall() == [("FA-2026-0005", Decimal("77.00"))]


def test_unmatched_debit_gets_no_exception_row(db):
    with connect(db) as con:
        _tx(con, "T7", "-2500.00", text="VIR SALAIRES 03/2026", iban=STRANGER_IBAN)
        _tx(con, "T8", "-45.00", text="PRLV SEPA URSSAF")
        # An exception an earlier run gave T8 is withdrawn: it is not customer money.
        con.execute(
            "INSERT INTO reconciliation_exceptions VALUES ('T8', 'no_match', '[]', 'open', NULL, ?,"
            " NULL)",
            [NOW],
        )
        first = reconcile_warehouse(con, flow_run_id="run-1")
        assert first.stats["not_customer_debits"] == 2
        assert first.stats["exceptions_withdrawn"] == 1
        assert con.execute(
            "SELECT transaction_id FROM reconciliation_exceptions ORDER BY 1"
        ).fetchall() == [("T3",)]
        assert con.execute(
            "SELECT count(*) FROM allocations WHERE transaction_id IN ('T7', 'T8')"
        ).fetchall() == [(0,)]
        before = _snapshot(con)
        again = reconcile_warehouse(con, flow_run_id="run-2")
        assert _snapshot(con) == before
        assert again.stats["not_customer_debits"] == 2
        assert again.stats["allocations_written"] == 0
        assert again.stats["exceptions_withdrawn"] == 0


def test_decisions_csv_teaches_the_payer_for_later_runs(db, tmp_path):
    csv_file = tmp_path / "decisions.csv"
    csv_file.write_text(
        "transaction_id;invoice_id;amount;note\nT3;FA-2026-0003;99,99;SCI pays for Martin\n",
        encoding="utf-8",
    )
    with connect(db) as con:
        reconcile_warehouse(con, flow_run_id="run-1")
        summary = apply_decisions(con, read_decisions_csv(csv_file), "csv", decided_by="alice")
        assert summary == {
            "decisions": 1,
            "allocations_written": 1,
            "exceptions_resolved": 1,
            "aliases_learned": 1,
        }
        assert con.execute(
            "SELECT invoice_id, amount, rule, customer_id FROM allocations"
            " WHERE transaction_id = 'T3'"
        ).fetchall() == [("FA-2026-0003", Decimal("99.99"), "manual", "C2")]
        assert con.execute(
            "SELECT customer_id, payer_iban, payer_name FROM customer_payer_aliases"
        ).fetchall() == [("C2", STRANGER_IBAN, "SCI LES TILLEULS")]
        # Next month the same payer sends 45,00 with no reference: the learned IBAN says C2.
        _tx(
            con, "T5", "45.00", iban=STRANGER_IBAN, name="SCI LES TILLEULS", booked=date(2026, 4, 2)
        )
        reconcile_warehouse(con, flow_run_id="run-2")
        assert con.execute(
            "SELECT invoice_id, rule FROM allocations WHERE transaction_id = 'T5'"
        ).fetchall() == [("FA-2026-0004", "payer_iban_amount")]
        before = _snapshot(con)
        reconcile_warehouse(con, flow_run_id="run-3")
        assert _snapshot(con) == before


def test_leave_alone_decision_takes_the_transaction_out(db):
    with connect(db) as con:
        reconcile_warehouse(con)
        import polars as pl

        d = pl.DataFrame(
            {"transaction_id": ["T3"], "invoice_id": [None], "amount": [None], "note": ["rent"]},
            schema={
                "transaction_id": pl.String,
                "invoice_id": pl.String,
                "amount": pl.String,
                "note": pl.String,
            },
        )
        apply_decisions(con, d, "ui")
        result = reconcile_warehouse(con)
        assert result.stats["transactions"] == 0
        assert con.execute("SELECT count(*) FROM allocations WHERE transaction_id='T3'").fetchall()[
            0
        ] == (0,)


def test_bad_decision_names_the_line(db, tmp_path):
    csv_file = tmp_path / "decisions.csv"
    csv_file.write_text(
        "transaction_id,invoice_id,amount,note\nT3,FA-2026-0003,99.99,\nT3,FA-9999,1.00,\n",
        encoding="utf-8",
    )
    with (
        connect(db) as con,
        pytest.raises(ValueError, match=r"line 3: unknown invoice_id 'FA-9999'"),
    ):
        apply_decisions(con, read_decisions_csv(csv_file), "csv")


def test_exception_candidates_are_json(db):
    with connect(db) as con:
        _tx(con, "T6", "10.00", iban="FR1420041010050500013M02606")  # C1 has nothing of 10,00 left
        reconcile_warehouse(con)
        for (candidates,) in con.execute(
            "SELECT candidates FROM reconciliation_exceptions"
        ).fetchall():
            assert isinstance(json.loads(candidates), list)
