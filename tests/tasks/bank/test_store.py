"""Loading statements into a real DuckDB warehouse: once, whole, balanced, keyed."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.store import BankLoadError, UnbalancedStatementError, load_statements
from o2c.tasks.demo.camt_writer import write_camt053
from o2c.warehouse import connect, migrate, migrations
from tests import locations

IBAN = "FR7630003012340123456789057"
SAMPLES = locations.SAMPLES


def line(day: int, amount: str, ref: str) -> StatementLine:
    return StatementLine(date(2024, 5, day), Decimal(amount), "EUR", bank_reference=ref)


def statement(ref: str, opening: str, closing: str, lines: list[StatementLine]) -> Statement:
    days = [x.booking_date for x in lines] or [date(2024, 5, 1)]
    return Statement(
        "camt.053", IBAN, "EUR", ref, min(days), max(days), Decimal(opening), Decimal(closing),
        lines,
    )  # fmt: skip


def counts(con) -> tuple[int, int, int]:
    return tuple(
        con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        for table in ("bank_transactions", "bank_statements", "load_batches")
    )


def load(con, statements, name="f.xml", sha="a" * 64, **kw):
    return load_statements(
        con, statements, file_name=name, sha256=sha, source="bank_statement", **kw
    )


def test_loads_with_the_documented_key(tmp_path: Path) -> None:
    # a line with a usable reference is keyed by it, one without (NONREF) by its facts and rank
    st = statement("S1", "100.00", "125.00", [line(2, "20.00", "NONREF"), line(2, "5.00", "B")])
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, [st])
        assert (result.status, result.loaded, result.duplicates) == ("loaded", 2, 0)
        assert result.balances[0].status == "balanced"
        rows = con.execute(
            "SELECT transaction_id, amount, bank_reference, identity_ref, source, batch_id "
            "FROM bank_transactions ORDER BY amount"
        ).fetchall()
        batch = con.execute("SELECT batch_id, status, rows_loaded FROM load_batches").fetchall()
    by_ref = hashlib.sha256(f"ref|{IBAN}|bank:B".encode()).hexdigest()[:32]
    by_rank = hashlib.sha256(f"{IBAN}|2024-05-02|EUR|2000|1".encode()).hexdigest()[:32]
    assert rows == [
        (by_ref, Decimal("5.00"), "B", "bank:B", "camt.053", result.batch_id),
        (by_rank, Decimal("20.00"), "NONREF", None, "camt.053", result.batch_id),
    ]
    assert batch == [(result.batch_id, "loaded", 2)]


def test_second_load_of_the_same_file_is_a_noop(tmp_path: Path) -> None:
    st = statement("S1", "0.00", "20.00", [line(2, "20.00", "A")])
    with connect(tmp_path / "w.duckdb") as con:
        load(con, [st])
        again = load(con, [st])
        assert (again.status, again.loaded, again.duplicates) == ("duplicate_file", 0, 1)
        assert con.execute("SELECT count(*) FROM bank_transactions").fetchall()[0][0] == 1
        statuses = con.execute("SELECT status FROM load_batches ORDER BY batch_id").fetchall()
    assert statuses == [("loaded",), ("duplicate_file",)]


def test_overlapping_statements_add_no_rows(tmp_path: Path) -> None:
    # two identical 10.00 payments on the 2nd: occurrence 1 and 2 keep them apart
    day2 = [line(2, "10.00", "A"), line(2, "10.00", "B")]
    first = statement("S1", "0.00", "20.00", day2)
    # a later statement covering the 2nd again (same two payments) and the 3rd
    second = statement(
        "S2", "0.00", "27.00", [line(2, "10.00", "A"), line(2, "10.00", "B"), line(3, "7.00", "C")]
    )
    with connect(tmp_path / "w.duckdb") as con:
        assert load(con, [first], sha="1" * 64).loaded == 2
        result = load(con, [second], name="g.xml", sha="2" * 64)
        assert (result.loaded, result.duplicates) == (1, 2)
        total = con.execute("SELECT count(*), sum(amount) FROM bank_transactions").fetchall()
    assert total == [(3, Decimal("27.00"))]


def test_overlapping_statements_in_one_file_are_stored_once(tmp_path: Path) -> None:
    first = statement("S1", "0.00", "20.00", [line(2, "10.00", "A"), line(2, "10.00", "B")])
    second = statement("S2", "20.00", "27.00", [line(2, "10.00", "A"), line(3, "7.00", "C")])
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, [first, second], accept_unbalanced=True)
        assert (result.loaded, result.duplicates) == (3, 1)
        rows = con.execute(
            "SELECT bank_reference, count(*) OVER (PARTITION BY transaction_id) "
            "FROM bank_transactions ORDER BY 1"
        ).fetchall()
    assert rows == [("A", 1), ("B", 1), ("C", 1)]


def test_warehouse_from_before_the_key_migration_keeps_its_rows(tmp_path: Path) -> None:
    """sql/005 drops the primary-key index: rows stay, and the loader still stores them once."""
    st = statement("S1", "0.00", "25.00", [line(2, "20.00", "A"), line(2, "5.00", "B")])
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR,"
                    " applied_at TIMESTAMP)")  # fmt: skip
        for m in migrations():
            if m.version < 5:
                con.execute(m.sql)
                con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [m.version, m.name])
        # The rows as the loader of that schema wrote them (key: account|date|ccy|cents|rank).
        for amount, ref in (("20.00", "A"), ("5.00", "B")):
            cents = int(Decimal(amount) * 100)
            key = hashlib.sha256(f"{IBAN}|2024-05-02|EUR|{cents}|1".encode()).hexdigest()[:32]
            con.execute(
                "INSERT INTO bank_transactions (transaction_id, account_iban, currency,"
                " booking_date, amount, bank_reference, source, loaded_at)"
                " VALUES (?, ?, 'EUR', DATE '2024-05-02', ?, ?, 'camt.053', now())",
                [key, IBAN, Decimal(amount), ref],
            )
        assert migrate(con) == [m.version for m in migrations() if m.version >= 5]
        keys = con.execute(
            "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'bank_transactions'"
            " AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()
        again = load(con, [st], name="g.xml", sha="c" * 64)
        stored = con.execute("SELECT count(*), sum(amount) FROM bank_transactions").fetchall()
    assert keys == [(0,)]
    assert (again.loaded, again.duplicates) == (0, 2)
    assert stored == [(2, Decimal("25.00"))]


def test_warehouse_from_before_024_keeps_its_remittance_documents(tmp_path: Path) -> None:
    """sql/024 adds what a payer took off a document: the documents stored before keep their
    numbers and amounts (nothing taken off), and a claim loaded after is stored with its reason."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR,"
                    " applied_at TIMESTAMP)")  # fmt: skip
        for m in migrations():
            if m.version < 24:
                con.execute(m.sql)
                con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [m.version, m.name])
        # A row as the loader of 023 wrote it: documents without the two new fields.
        con.execute(
            "INSERT INTO bank_transactions (transaction_id, account_iban, currency, booking_date,"
            " amount, bank_reference, source, loaded_at, remittance_documents) VALUES ('T-old',"
            " ?, 'EUR', DATE '2024-05-02', 20.00, 'A', 'camt.053', now(),"
            " [{'doc_number': 'FA-1', 'doc_type': 'CINV', 'doc_date': NULL,"
            " 'amount_cents': 2000}])",
            [IBAN],
        )
        assert migrate(con) == [m.version for m in migrations() if m.version >= 24]
        claim = {"doc_number": "FA-2", "doc_type": "CINV", "doc_date": None,
                 "amount_cents": 4_885_66, "adjustment_cents": 87_00,
                 "adjustment_reason": "PENA PENALITE RETARD"}  # fmt: skip
        new = StatementLine(
            date(2024, 5, 3), Decimal("4885.66"), "EUR", bank_reference="B",
            remittance_documents=[claim],
        )  # fmt: skip
        load(con, [statement("S2", "20.00", "4905.66", [new])])
        stored = con.execute(
            "SELECT bank_reference, remittance_documents FROM bank_transactions ORDER BY 1"
        ).fetchall()
    assert stored == [
        ("A", [{"doc_number": "FA-1", "doc_type": "CINV", "doc_date": None, "amount_cents": 2000,
                "adjustment_cents": None, "adjustment_reason": None}]),
        ("B", [claim]),
    ]  # fmt: skip


def test_a_claim_taken_off_a_document_is_stored_with_its_reason(tmp_path: Path) -> None:
    """What matching reads back to put the claim to a person (on DuckDB and on the lake)."""
    claim = {"doc_number": "FA-2", "doc_type": "CINV", "doc_date": date(2024, 4, 30),
             "amount_cents": 4_885_66, "adjustment_cents": 87_00,
             "adjustment_reason": "PENA PENALITE RETARD"}  # fmt: skip
    plain = {**claim, "doc_number": "FA-3", "amount_cents": 10_00, "adjustment_cents": None,
             "adjustment_reason": None}  # fmt: skip
    paid = StatementLine(
        date(2024, 5, 3), Decimal("4895.66"), "EUR", bank_reference="B",
        remittance_documents=[claim, plain],
    )  # fmt: skip
    with connect(tmp_path / "w.duckdb") as con:
        load(con, [statement("S1", "0.00", "4895.66", [paid])])
        stored = con.execute("SELECT remittance_documents FROM bank_transactions").fetchall()
    assert stored == [([claim, plain],)]


def test_unbalanced_statement_is_rejected_whole(tmp_path: Path) -> None:
    good = statement("S1", "0.00", "5.00", [line(2, "5.00", "A")])
    bad = statement("S2", "5.00", "9.00", [line(3, "3.00", "B")])  # 5 + 3 = 8, not 9
    with connect(tmp_path / "w.duckdb") as con:
        with pytest.raises(UnbalancedStatementError) as caught:
            load(con, [good, bad], name="bad.xml")
        assert counts(con) == (0, 0, 0)
        message = str(caught.value)
        for figure in ("bad.xml", "S2", "opening 5.00", "movements 3.00", "closing 9.00"):
            assert figure in message
        assert "difference -1.00" in message
        accepted = load(con, [good, bad], name="bad.xml", accept_unbalanced=True)
        assert accepted.loaded == 2
        diff = con.execute(
            "SELECT statement_ref, balance_difference FROM bank_statements ORDER BY 1"
        ).fetchall()
    assert diff == [("S1", None), ("S2", Decimal("-1.00"))]


def test_failure_mid_file_leaves_nothing(tmp_path: Path) -> None:
    first = statement("S1", "0.00", "5.00", [line(2, "5.00", "A")])
    # DECIMAL(18,2) holds less than 10^16: the database refuses this row, after the batch row,
    # the statements and part of the work are done
    huge = Decimal("10000000000000000.00")
    second = statement("S2", "0.00", "0.00", [line(3, "1.00", "B"), line(3, str(huge), "C")])
    with connect(tmp_path / "w.duckdb") as con:
        with pytest.raises(Exception, match=r"(?i)out of range|overflow|cast|convert"):
            load(con, [first, second], accept_unbalanced=True)
        assert counts(con) == (0, 0, 0)


def test_amount_below_the_cent(tmp_path: Path) -> None:
    exact = statement("S1", "18.150", "27.000", [line(2, "8.850", "A")])
    inexact = statement("S2", "0", "0.005", [line(3, "0.005", "B")])
    with connect(tmp_path / "w.duckdb") as con:
        assert load(con, [exact]).loaded == 1
        with pytest.raises(BankLoadError, match=r"0\.005 has a fraction of a cent"):
            load(con, [inexact], sha="b" * 64)
        stored = con.execute("SELECT amount FROM bank_transactions").fetchall()
    assert stored == [(Decimal("8.85"),)]


@pytest.mark.samples
def test_sample_file_and_its_rewrite_are_one_set_of_rows(tmp_path: Path) -> None:
    """The same transactions in two files (different bytes) are stored once."""
    if not SAMPLES.is_dir():
        pytest.skip(f"no sample statements at {SAMPLES}")
    original = parse_file(SAMPLES / "camt053/oca-bsi__test-camt053-txdtls_v04_ch.xml")
    copy = tmp_path / "rewritten.xml"
    write_camt053(copy, original.statements)
    rewritten = parse_file(copy)
    with connect(tmp_path / "w.duckdb") as con:
        a = load(con, original.statements, sha=original.sha256)
        b = load(con, rewritten.statements, name="rewritten.xml", sha=rewritten.sha256)
        total = con.execute("SELECT count(*), sum(amount) FROM bank_transactions").fetchall()
    assert (a.loaded, b.loaded, b.duplicates) == (2, 0, 2)
    assert total == [(2, Decimal("3483.00"))]  # 2187.00 + 1296.00
