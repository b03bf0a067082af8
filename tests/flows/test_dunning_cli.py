"""`o2c dunning run` from the shell: .eml files beside the warehouse, and a second run sends
nothing new."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from o2c.cli import app
from o2c.warehouse import connect
from tests.tasks.dunning.run_fixtures import AS_OF, eml_files, make_warehouse, write_policy

runner = CliRunner()


@pytest.fixture(autouse=True)
def _alone(monkeypatch, tmp_path):
    for name in ("O2C_SMTP_HOST", "O2C_SMTP_MAIL_DIR", "O2C_PAYLINK_CLIENT_ID", "O2C_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("O2C_WAREHOUSE_SLOT", "off")  # a throwaway API: no `o2c init` limit
    monkeypatch.setenv("O2C_PREFECT_SERVER", "ephemeral")


def _run(db, policy, *extra: str):
    args = ["--db", str(db), "dunning", "run", "--as-of", AS_OF.isoformat(), "--policy"]
    result = runner.invoke(app, [*args, str(policy), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_run_twice_sends_nothing_new(tmp_path):
    db = make_warehouse(tmp_path)
    policy = write_policy(tmp_path, needs_approval=True)
    first = _run(db, policy, "--approve-all")
    files = eml_files(db)
    assert len(files) == 3 and "3 sent" in first and str(db.parent / "outbox-mail") in first
    stamps = {f.name: f.stat().st_mtime_ns for f in files}

    second = _run(db, policy, "--approve-all")
    assert {f.name: f.stat().st_mtime_ns for f in eml_files(db)} == stamps
    assert "0 planned; nothing" in second  # the outbox's history: every item already reminded
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM dunning_outbox").fetchone() == (3,)
        sends = con.execute("SELECT count(*) FROM audit_log WHERE event = 'send'").fetchone()
    assert sends == (3,)


def test_without_approve_all_the_approval_levels_wait(tmp_path):
    db = make_warehouse(tmp_path)
    policy = write_policy(tmp_path, needs_approval=True)
    output = _run(db, policy)
    assert "3 awaiting_approval" in output and "--approve-all" in output
    assert eml_files(db) == []
