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


ESCALATION = """version: 1
calendar:
  business_days: true
  country: FR
fresh_data_business_days: 3
formal_notice_days: 8
segments:
  default:
    grace_days: 0
    levels:
      - name: phone_call
        days: 3
        channel: phone_task
        template: phone_call
        min_open: "15.00"
      - name: final_reminder
        days: 10
        channel: email
        template: reminder_final
        min_open: "15.00"
        min_days_since_last: 1
        requires_previous: true
"""


def test_a_phone_call_is_a_step_the_next_level_follows(tmp_path):
    """The call is handed to the collector's worklist and recorded, so the email that must come
    after it goes the next business day, instead of the case stalling at the call."""
    from datetime import timedelta

    from tests.tasks.dunning.run_fixtures import load_bank_day

    db = make_warehouse(tmp_path)
    policy = tmp_path / "escalation.yaml"
    policy.write_text(ESCALATION, encoding="utf-8")
    day_before = AS_OF - timedelta(days=1)  # a Monday, in the half-year the rates cover
    load_bank_day(db, day_before, ref="S0")
    args = ["--db", str(db), "dunning", "run", "--policy", str(policy), "--as-of"]
    first = runner.invoke(app, [*args, day_before.isoformat()])
    assert first.exit_code == 0, first.output
    assert eml_files(db) == []  # a call sends nothing
    with connect(db, read_only=True) as con:
        calls = con.execute(
            "SELECT channel, status, provider_id FROM dunning_outbox ORDER BY customer_id"
        ).fetchall()
    assert calls == [("phone_task", "sent", "worklist")] * 3

    second = runner.invoke(app, [*args, AS_OF.isoformat()])
    assert second.exit_code == 0, second.output
    assert len(eml_files(db)) == 3  # the final reminder, after the call
    with connect(db, read_only=True) as con:
        levels = con.execute(
            "SELECT level_name, count(*) FROM dunning_outbox GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert levels == [("final_reminder", 3), ("phone_call", 3)]
