"""`o2c audit verify` as a data engineer runs it after someone touched the warehouse by hand."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from o2c.cli import app
from o2c.models.dunning import AuditEvent
from o2c.tasks.dunning.audit import Entry, record_many
from o2c.warehouse import connect

runner = CliRunner()


def test_verify_passes_then_fails_naming_the_changed_row(tmp_path: Path) -> None:
    db = tmp_path / "o2c.duckdb"
    with connect(db) as con:
        record_many(con, [Entry(AuditEvent.SEND, f"k{n}", {"status": "sent"}) for n in range(20)])

    intact = runner.invoke(app, ["--db", str(db), "audit", "verify"])
    with connect(db) as con:
        con.execute("UPDATE audit_log SET event = 'approval' WHERE seq = 7")
    broken = runner.invoke(app, ["--db", str(db), "audit", "verify"])

    assert intact.exit_code == 0, intact.output
    assert "20 rows" in intact.output
    assert broken.exit_code == 1
    assert "broken at row 7" in broken.output


def test_verify_on_a_warehouse_without_audit_rows(tmp_path: Path) -> None:
    db = tmp_path / "o2c.duckdb"
    with connect(db):
        pass
    result = runner.invoke(app, ["--db", str(db), "audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "0 rows" in result.output
