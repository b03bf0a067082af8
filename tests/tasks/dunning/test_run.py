"""The dunning run's plain steps on a real warehouse file: business days, stale bank data, and
the items read again before the send."""

from __future__ import annotations

from datetime import date

import pytest

from o2c.tasks.dunning import run
from o2c.tasks.dunning.policy import load_policy
from o2c.warehouse import connect
from tests.tasks.dunning.run_fixtures import AS_OF, make_warehouse, pay, write_policy


def test_scheduled_runs_skip_weekends_and_french_public_holidays():
    policy = load_policy()
    assert run.day_off(policy, date(2026, 7, 14))  # fête nationale, a Tuesday
    assert run.day_off(policy, date(2026, 7, 18))  # a Saturday
    assert not run.day_off(policy, date(2026, 7, 15))


def test_stale_bank_data_names_the_last_day_and_what_to_do(tmp_path):
    db = make_warehouse(tmp_path, bank_day=date(2026, 6, 24))  # Wednesday: 4 business days
    with connect(db) as con, pytest.raises(run.StaleBankData) as refused:
        run.plan_day(con, AS_OF, load_policy(write_policy(tmp_path)))
    message = str(refused.value)
    assert "2026-06-24" in message and "4 business days" in message
    assert "load today's statements first" in message
    with connect(db) as con:  # 3 business days is still fresh
        assert run.plan_day(con, AS_OF, load_policy(write_policy(tmp_path, fresh_days=4)))


def test_the_recheck_keeps_unchanged_letters_and_replans_a_partly_paid_customer(tmp_path):
    db = make_warehouse(tmp_path)
    with connect(db) as con:
        day = run.plan_day(con, AS_OF, load_policy(write_policy(tmp_path)))
        run.enqueue_all(con, run.render_all(day.communications))
    pay(db, "FA-1", "C1", "1200.00")
    with connect(db) as con:
        checked = run.recheck(con, day.communications)
    assert sorted(c.customer_id for c in checked.kept) == ["C2", "C3"]
    (again,) = checked.replaced
    assert [i.invoice_id for i in again.items] == ["FA-2"] and again.due_cents == 30000
    assert list(checked.cancelled.values()) == ["paid or settled since the plan: FA-1"]
