"""The audit log as a judge would read it: every row chained to the one before, so a row changed,
deleted or cut off afterwards is found and named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from o2c.models.dunning import AuditEvent
from o2c.tasks.dunning.audit import AuditError, Entry, record, record_many, verify
from o2c.warehouse import connect, transaction


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "o2c.duckdb"


def test_the_chain_holds_across_many_appends_and_connections(db: Path) -> None:
    with connect(db) as con:
        first = record(
            con,
            AuditEvent.PLAN,
            "run-1",
            {"as_of": "2026-06-30", "communications": 3},
            flow_run_id="run-1",
        )
        with transaction(con):
            seqs = [
                record(con, AuditEvent.SEND, f"key-{n}", {"n": n}, content_sha256=f"{n:064x}")
                for n in range(50)
            ]
    with connect(db) as con:
        more = record_many(
            con,
            [Entry(AuditEvent.STATUS, f"key-{n}", {"status": "sent"}) for n in range(500)],
        )
        result = verify(con)
    assert first == 1
    assert seqs == list(range(2, 52))
    assert more == list(range(52, 552))
    assert result.ok and result.rows == 551


def test_a_row_changed_by_sql_is_named(db: Path) -> None:
    with connect(db) as con:
        record_many(con, [Entry(AuditEvent.SEND, f"k{n}", {"amount": "12.00"}) for n in range(10)])
        con.execute("""UPDATE audit_log SET payload = '{"amount":"1.00"}' WHERE seq = 4""")
        result = verify(con)
    assert (result.broken_seq, result.rows) == (4, 4)
    assert "changed" in result.reason


def test_a_row_rehashed_after_a_change_breaks_the_next_link(db: Path) -> None:
    """Recomputing the changed row's own hash is not enough: the next row names the old one."""
    from o2c.tasks.dunning.audit import row_hash

    with connect(db) as con:
        record_many(con, [Entry(AuditEvent.SEND, f"k{n}", {"n": n}) for n in range(5)])
        cur = con.execute("SELECT * FROM audit_log WHERE seq = 2")
        row = dict(zip([d[0] for d in cur.description], cur.fetchall()[0], strict=True))
        row["subject"] = "forged"
        con.execute(
            "UPDATE audit_log SET subject = 'forged', row_sha256 = ? WHERE seq = 2",
            [row_hash(row)],
        )
        assert verify(con).broken_seq == 3


def test_deleted_rows_are_seen_in_the_middle_and_at_the_end(db: Path) -> None:
    with connect(db) as con:
        record_many(con, [Entry(AuditEvent.SEND, f"k{n}", {"n": n}) for n in range(6)])
        con.execute("DELETE FROM audit_log WHERE seq = 6")
        tail = verify(con)
        con.execute("DELETE FROM audit_log WHERE seq = 3")
        middle = verify(con)
    assert tail.broken_seq == 6 and "missing from the end" in tail.reason
    assert middle.broken_seq == 4 and "row 3 is missing" in middle.reason


def test_the_audit_row_rolls_back_with_the_callers_transaction(db: Path) -> None:
    with connect(db) as con:
        record(con, AuditEvent.PLAN, "run-1", {})
        with pytest.raises(RuntimeError), transaction(con):
            record(con, AuditEvent.SEND, "k", {})
            raise RuntimeError("the send's fact failed to land")
        assert record(con, AuditEvent.SEND, "k", {}) == 2
        assert verify(con).ok


@pytest.mark.parametrize("key", ["password", "smtp_password", "api_key", "Authorization", "token"])
def test_a_payload_never_holds_a_secret(db: Path, key: str) -> None:
    with connect(db) as con:
        with pytest.raises(AuditError, match=key):
            record(con, AuditEvent.SEND, "k", {"smtp": {key: "hunter2"}})
        assert con.execute("SELECT count(*) FROM audit_log").fetchall() == [(0,)]


def test_payload_values_keep_their_exact_text(db: Path) -> None:
    with connect(db) as con:
        record(con, AuditEvent.APPROVAL, "k", {"due": Decimal("1234.50"), "by": "Zoé"})
        payload = con.execute("SELECT payload FROM audit_log").fetchall()[0][0]
    assert payload == '{"by":"Zoé","due":"1234.50"}'
