"""Reconciliation against a real DuckDB warehouse: re-runs, decisions, learned payers."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from o2c.tasks.reconciliation.engine import reconcile
from o2c.tasks.reconciliation.store import (
    apply_decisions,
    read_decisions_csv,
    read_inputs,
    reconcile_warehouse,
    write_result,
)
from o2c.warehouse import connect, migrate, migrations

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


def test_a_result_holding_one_allocation_twice_is_refused_whole(db):
    # The key is the writer's to keep (sql/023): a batch that would store one allocation twice
    # (a bug upstream) writes nothing and says which id.
    with connect(db) as con:
        result = reconcile(**read_inputs(con))
        result.allocations = pl.concat([result.allocations, result.allocations.head(1)])
        twice = result.allocations["allocation_id"][0]
        with pytest.raises(ValueError, match=f"twice in one write, first '{twice}'"):
            write_result(con, result, flow_run_id="run-1")
        assert con.execute("SELECT count(*) FROM allocations").fetchall() == [(0,)]


def test_a_warehouse_from_before_023_keeps_its_allocations(tmp_path):
    # sql/023 drops the primary-key index of allocations: the rows stay, a re-run adds none.
    # (A DuckDB file, on the lake run too: the index is DuckDB's; the lake never had one.)
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        con.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMP NOT NULL)"
        )
        for m in migrations():
            if m.version < 23:
                con.execute(m.sql)
                con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [m.version, m.name])
        con.execute(
            "INSERT INTO invoices (invoice_id, document_type, customer_id, issue_date, due_date,"
            " currency, amount_total, row_hash, first_loaded_at, updated_at) VALUES"
            " ('FA-1', 'invoice', 'C1', DATE '2026-01-01', DATE '2026-01-31', 'EUR', 50.00, 'h',"
            " now(), now())"
        )
        _tx(con, "T1", "20.00", text="Acompte FA-1")
        con.execute(
            "INSERT INTO allocations VALUES ('T1|FA-1|payment', 'T1', 'FA-1', 'C1', 20.00, 'EUR',"
            " 'payment', 'invoice_number', 1.0, NULL, 'old-run', now())"
        )
        assert migrate(con) == [m.version for m in migrations() if m.version >= 23]
        keys = con.execute(
            "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'allocations'"
            " AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()
        again = reconcile_warehouse(con, flow_run_id="new-run")
        rows = con.execute("SELECT allocation_id, amount, flow_run_id FROM allocations").fetchall()
        still_open = con.execute("SELECT amount_open FROM open_items").fetchall()
    assert keys == [(0,)]
    assert again.stats["allocations_written"] == 0
    assert rows == [("T1|FA-1|payment", Decimal("20.00"), "old-run")]
    assert still_open == [(Decimal("30.00"),)]


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
        ).fetchall() == [("C2", STRANGER_IBAN, None)]  # the IBAN says it; the name is not needed
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


def test_a_decision_without_iban_teaches_the_normalised_name(db):
    with connect(db) as con:
        _tx(con, "T9", "99.99", name="Sté Les Tilleuls S.A.R.L.")
        reconcile_warehouse(con, flow_run_id="run-1")
        summary = apply_decisions(con, _decisions(("T9", "FA-2026-0003", "")), "csv")
        assert summary["aliases_learned"] == 1
        assert con.execute(
            "SELECT customer_id, payer_iban, payer_name, learned_from FROM customer_payer_aliases"
        ).fetchall() == [("C2", None, "TILLEULS", "T9")]
        # The same decision taught twice (another payment, same name) adds nothing.
        _tx(con, "T10", "12.00", name="TILLEULS SARL", booked=date(2026, 3, 20))
        _invoice(con, "FA-2026-0010", "C2", "12.00")
        reconcile_warehouse(con, flow_run_id="run-2")
        # Next month the same payer, still no IBAN, sends 45,00 without reference: its name
        # now says C2, whose one item of that amount it settles.
        assert con.execute(
            "SELECT invoice_id, rule FROM allocations WHERE transaction_id = 'T10'"
        ).fetchall() == [("FA-2026-0010", "payer_name_amount")]
        assert con.execute("SELECT count(*) FROM customer_payer_aliases").fetchall() == [(1,)]


def test_the_customers_own_iban_is_not_learned_again(db):
    with connect(db) as con:
        _tx(con, "T9", "10.00", iban="FR14 2004 1010 0505 0001 3M02 606")
        reconcile_warehouse(con)
        summary = apply_decisions(con, _decisions(("T9", "FA-2026-0002", "10.00")), "csv")
        assert summary["aliases_learned"] == 0


def _decisions(*rows: tuple[str, str, str]):
    import polars as pl

    return pl.DataFrame(
        [(t, i or None, a or None, None) for t, i, a in rows],
        schema={c: pl.String for c in ("transaction_id", "invoice_id", "amount", "note")},
        orient="row",
    ).with_columns(line=pl.int_range(2, pl.len() + 2))


def test_a_payment_before_its_invoice_matches_when_the_invoice_export_arrives(tmp_path):
    """Through the warehouse as it runs: bank file, reconcile, invoice export, reconcile."""
    from o2c.models.bank import Statement, StatementLine
    from o2c.tasks.bank.store import load_statements
    from tests.erp_exports import ingest, write_export

    db = tmp_path / "o2c.duckdb"
    ingest(
        db,
        write_export(
            tmp_path / "erp-1.csv",
            ["FA-100;C1;Dupont SARL;2026-10-01;2026-10-31;EUR;100,00;invoice;;"],
        ),
    )
    line = StatementLine(
        date(2026, 11, 5),
        Decimal("250.00"),
        "EUR",
        bank_reference="B1",
        counterparty_name="DUPONT SARL",
        remittance_unstructured="Reglement facture FA-101",
    )
    statement = Statement(
        "camt.053", "FR7630003012340123456789057", "EUR", "S1", date(2026, 11, 5),
        date(2026, 11, 5), Decimal("0.00"), Decimal("250.00"), [line],
    )  # fmt: skip
    with connect(db) as con:
        load_statements(
            con, [statement], file_name="s.xml", sha256="c" * 64, source="bank_statement"
        )
        reconcile_warehouse(con, flow_run_id="run-1")
        assert con.execute("SELECT status FROM reconciliation_exceptions").fetchall() == [
            ("open",)
        ], "FA-101 is not loaded yet: an exception"
        assert con.execute("SELECT count(*) FROM allocations").fetchall() == [(0,)]
    ingest(
        db,
        write_export(
            tmp_path / "erp-2.csv",
            [
                "FA-100;C1;Dupont SARL;2026-10-01;2026-10-31;EUR;100,00;invoice;;",
                "FA-101;C1;Dupont SARL;2026-11-04;2026-12-04;EUR;250,00;invoice;;",
            ],
        ),
    )
    with connect(db) as con:
        second = reconcile_warehouse(con, flow_run_id="run-2")
        assert second.stats["exceptions_resolved"] == 1
        assert con.execute(
            "SELECT a.invoice_id, a.amount, a.flow_run_id, e.status FROM allocations a"
            " JOIN reconciliation_exceptions e USING (transaction_id)"
        ).fetchall() == [("FA-101", Decimal("250.00"), "run-2", "resolved")]
        assert reconcile_warehouse(con, flow_run_id="run-3").stats["allocations_written"] == 0


def test_exceptions_carry_their_evidence_in_the_warehouse(db):
    with connect(db) as con:
        # 5,00 naming invoices of two customers, fitting neither: a person decides.
        _invoice(con, "FA-2026-0009", "C1", "80.00")
        _tx(con, "T9", "5.00", text="FA-2026-0004 FA-2026-0009")
        reconcile_warehouse(con)
        (raw,) = con.execute(
            "SELECT candidates FROM reconciliation_exceptions WHERE transaction_id = 'T9'"
        ).fetchall()[0]
        named = {tuple(c["invoice_ids"]): c for c in json.loads(raw)}
        assert {("FA-2026-0004",), ("FA-2026-0009",)} <= set(named)
        assert "invoice number FA-2026-0004 in the text" in named[("FA-2026-0004",)]["why"]
        assert named[("FA-2026-0004",)]["amounts_cents"] == [500]
        # T3 (99,99 from an unknown payer, no text) has nothing pointing anywhere.
        assert con.execute(
            "SELECT candidates FROM reconciliation_exceptions WHERE transaction_id = 'T3'"
        ).fetchall() == [("[]",)]


def test_the_exceptions_artifact_numbers_the_candidates_with_their_evidence(db):
    from o2c.tasks.reconciliation.report import open_exceptions

    with connect(db) as con:
        _invoice(con, "FA-2026-0009", "C1", "80.00")
        _tx(con, "T9", "1234.00", text="FA-2026-0004 FA-2026-0009", name="X")
        reconcile_warehouse(con)
        rows = {r["Opération (id)"]: r for r in open_exceptions(con)}  # French by default
        shown = json.loads(
            con.execute(
                "SELECT candidates FROM reconciliation_exceptions WHERE transaction_id = 'T9'"
            ).fetchall()[0][0]
        )
    row = rows["T9"]
    # What the payment is comes first; the ids last.
    assert list(row)[:2] == ["Date", "Montant"] and list(row)[-1] == "Opération (id)"
    assert row["Montant"] == "1\u202f234,00\u00a0EUR"
    assert row["Candidats"].startswith(f"1) {shown[0]['invoice_ids'][0]}")
    text = row["Indices"]
    # Numbered in the stored order, which is what "candidate N" takes.
    for n, c in enumerate(shown, start=1):
        assert f"{n}) {c['invoice_ids'][0]}" in text
    first = shown[0]
    assert text.startswith(f"1) {first['invoice_ids'][0]}")
    # evidence's "invoice number … in the text", in French, numbered beside
    assert "n° au libellé" in row["Indices"] and row["Indices"].startswith("1) ")
    assert rows["T3"]["Candidats"] == "" and rows["T3"]["Indices"] == ""


def test_a_plan_made_before_another_run_wrote_is_made_again_inside_the_writer(db):
    """A partition plans outside the writer (flows/reconcile.py). If another run allocated one
    of its lines meanwhile (here finance, to another invoice), writing the old plan would pay the
    line twice: the stamp has moved, so the plan is made again inside the writer."""
    from o2c.tasks.reconciliation.store import partition_stamp, plan, write_planned

    with connect(db) as con:
        stamp, planned = partition_stamp(con, "EUR"), plan(con, currency="EUR")
        assert "T1" in set(planned.allocations["transaction_id"])
        con.execute(
            """INSERT INTO allocations VALUES ('other-run', 'T1', 'FA-2026-0004', 'C2', 45.00,
               'EUR', 'payment', 'manual', 1.0, NULL, 'another-run', ?)""",
            [NOW],
        )
        assert partition_stamp(con, "EUR") != stamp
        write_planned(con, "EUR", stamp, planned, flow_run_id="this-run")
        t1 = con.execute(
            "SELECT invoice_id, flow_run_id FROM allocations WHERE transaction_id = 'T1'"
        ).fetchall()
        settled_elsewhere = con.execute(
            "SELECT count(*) FROM allocations WHERE transaction_id = 'T2'"
        ).fetchall()[0][0]
    assert t1 == [("FA-2026-0004", "another-run")]  # paid once, as the other run decided
    assert settled_elsewhere >= 1  # the rest of the plan was still written


def test_a_plan_nobody_overtook_is_written_as_planned(db):
    from o2c.tasks.reconciliation.store import partition_stamp, plan, write_planned

    with connect(db) as con:
        stamp, planned = partition_stamp(con, "EUR"), plan(con, currency="EUR")
        assert partition_stamp(con, "USD") == (0, None, 0, 0)
        written = write_planned(con, "EUR", stamp, planned, flow_run_id="this-run")
        assert written is planned
        got = con.execute("SELECT count(*) FROM allocations").fetchall()[0][0]
    assert got == planned.allocations.height
