"""o2c-daily on the demo company: one run tree, every step's artifact, figures that agree."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from o2c.flows.demo import o2c_demo
from o2c.tasks.common.formatting import format_money
from o2c.warehouse import connect
from tests.prefect_artifacts import latest_artifact

pytestmark = pytest.mark.usefixtures("prefect_api")
AS_OF = date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "o2c.duckdb"
    result = o2c_demo(db=str(db), invoices=300, seed=7, folder=str(folder), as_of=AS_OF)
    return db, result


def test_every_step_ran_and_the_inbox_is_empty(demo):
    db, result = demo
    steps = [step for step, _ in result["steps"]]
    assert steps[:2] == ["customers", "invoices"]
    assert steps[-2:] == ["reconcile", "aging"]
    assert result["rejected"] == []
    inbox = Path(db).parent / "inbox"
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []


def test_artifacts_agree_with_the_warehouse(demo):
    db, result = demo
    with connect(db, read_only=True) as con:
        settled = con.execute("SELECT count(DISTINCT transaction_id) FROM allocations").fetchall()
        # Aging's groups as of AS_OF: items issued by then with something open, per customer,
        # legal entity and currency; overdue is what was due before AS_OF.
        groups = con.execute(
            "SELECT customer_id, coalesce(legal_entity, ''), currency, sum(amount_open),"
            " coalesce(sum(amount_open) FILTER (WHERE due_date < ?), 0)"
            " FROM open_items WHERE issue_date <= ? GROUP BY ALL",
            [AS_OF, AS_OF],
        ).fetchall()
        (open_count,) = con.execute(
            "SELECT count(*) FROM open_items WHERE issue_date <= ?", [AS_OF]
        ).fetchone()
        snapshot_dates = con.execute("SELECT DISTINCT as_of_date FROM aging_snapshots").fetchall()
    assert result["reconcile"]["settled"] == settled[0][0]
    settled_text = f"{settled[0][0]:,}".replace(",", "\u202f")
    assert f"| settled automatically | {settled_text} |" in latest_artifact("reconciliation").data
    assert snapshot_dates == [(AS_OF,)]
    # The summary's line per currency: total, overdue and customers, as the groups add up.
    summary = latest_artifact("aging-summary").data.split("## Open amounts per bucket")[1]
    summary = summary.split("\n## ")[0].splitlines()
    for cur in {c for _, _, c, _, _ in groups}:
        mine = [g for g in groups if g[2] == cur]
        total, overdue = sum(g[3] for g in mine), sum(g[4] for g in mine)
        tail = f"| {format_money(total, cur)} | {format_money(overdue, cur)} | "
        tail += f"{len({g[0] for g in mine})} |"
        lines = [line for line in summary if line.startswith(f"| {cur} |")]
        assert len(lines) == 1 and lines[0].endswith(tail), (cur, lines, tail)
    by_customer = json.loads(latest_artifact("aging-by-customer").data)
    table = {(r["Customer"], r["Entity"], r["Currency"]): r for r in by_customer}
    assert len(table) == len(by_customer), "one row per customer, entity and currency"
    assert set(table) == {(c, e, cur) for c, e, cur, _, _ in groups}
    assert any(overdue for *_, overdue in groups) and any(t != o for *_, t, o in groups)
    for customer, entity, currency, total, overdue in groups:
        row = table[(customer, entity, currency)]
        assert (row["Total"], row["Overdue"]) == (
            format_money(total, currency),
            format_money(overdue, currency),
        ), customer
    link = latest_artifact("aging-report").data
    page = Path(link[link.index("(file://") + 8 : -1])
    assert page.name == "aging-2026-11-20.html" and "<svg" in page.read_text()
    assert result["aging"]["open_items"] == open_count
    daily = latest_artifact("o2c-daily").data.splitlines()
    assert f"| aging | {open_count} open items as of {AS_OF.isoformat()} |" in daily
