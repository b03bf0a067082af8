"""o2c-daily on the demo company: one run tree, every step's artifact, figures that agree."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from o2c.concurrency import ensure_limit
from o2c.flows.demo import o2c_demo
from o2c.tasks.common.formatting import format_money
from o2c.warehouse import connect
from tests.prefect_artifacts import latest_artifact

pytestmark = pytest.mark.usefixtures("prefect_api")
AS_OF = date(2026, 11, 20)
# Aging's groups as of AS_OF, written here in SQL: open items (open_items_at) and overpayment
# credits (unapplied_credits_at) per customer, legal entity and currency. A negative open
# amount is a credit; what is left on a partly paid invoice up to 25,00 is a small balance;
# the rest is a debt, overdue when it was due before AS_OF (issue 16).
GROUPS_SQL = """
    WITH items AS (
        SELECT customer_id, legal_entity, currency, due_date, amount_total, amount_open
        FROM open_items_at($as_of)
        UNION ALL
        SELECT customer_id, legal_entity, currency, due_date, amount_total, amount_open
        FROM unapplied_credits_at($as_of)
    ), kinds AS (
        SELECT *, amount_open > 0 AND NOT (amount_open < amount_total
                                           AND amount_open <= 25) AS debt
        FROM items
    )
    SELECT customer_id, coalesce(legal_entity, ''), currency,
           coalesce(sum(amount_open) FILTER (WHERE debt AND due_date < $as_of), 0),
           coalesce(sum(amount_open) FILTER (WHERE amount_open < 0), 0),
           coalesce(sum(amount_open) FILTER (WHERE amount_open > 0), 0)
    FROM kinds GROUP BY ALL
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "o2c.duckdb"
    ensure_limit(db)  # the warehouse's one-writer slot, as `o2c init` sets it up
    result = o2c_demo(db=str(db), invoices=300, seed=7, folder=str(folder), as_of=AS_OF)
    return db, result


def test_every_step_ran_and_the_inbox_is_empty(demo):
    db, result = demo
    steps = [step for step, _ in result["steps"]]
    assert steps[:2] == ["customers", "invoices"]
    assert steps[-4:] == ["reconcile", "aging", "dunning", "ere-sync"]  # the demo syncs its letters
    assert result["rejected"] == []
    inbox = Path(db).parent / "inbox"
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []


def test_artifacts_agree_with_the_warehouse(demo):
    db, result = demo
    with connect(db, read_only=True) as con:
        settled = con.execute("SELECT count(DISTINCT transaction_id) FROM allocations").fetchall()
        paid = con.execute(
            "SELECT currency, sum(amount) FROM allocations WHERE kind = 'payment'"
            " GROUP BY currency ORDER BY currency"
        ).fetchall()
    assert result["reconcile"]["settled"] == settled[0][0]
    settled_text = f"{settled[0][0]:,}".replace(",", "\u202f")
    reconciliation = latest_artifact("reconciliation").data
    assert f"| rapprochées automatiquement | {settled_text} |" in reconciliation  # French first
    # What was allocated: one line per currency (the demo company bills in several).
    assert len(paid) > 1
    allocated = "".join(f"- {format_money(amount, cur)}\n" for cur, amount in paid)
    assert f"Montant affecté aux factures, par devise :\n\n{allocated}" in reconciliation


def test_aging_artifacts_agree_with_the_warehouse(demo):
    db, result = demo
    with connect(db, read_only=True) as con:
        groups = con.execute(GROUPS_SQL, {"as_of": AS_OF}).fetchall()
        (open_count,) = con.execute(
            "SELECT (SELECT count(*) FROM open_items_at($d))"
            " + (SELECT count(*) FROM unapplied_credits_at($d))",
            {"d": AS_OF},
        ).fetchone()
        snapshot_dates = con.execute("SELECT DISTINCT as_of_date FROM aging_snapshots").fetchall()
    assert snapshot_dates == [(AS_OF,)]
    # The summary's line per currency: overdue (gross), ... total owed, credits, net balance and
    # customers, as the groups add up (figures alone: the line names the currency).
    summary = latest_artifact("aging-summary").data
    summary = summary.split("## Dû et échu, par devise")[1].split("\n## ")[0]  # French
    for cur in {c for _, _, c, *_ in groups}:
        mine = [g for g in groups if g[2] == cur]
        overdue, credits, owed = (sum(g[i] for g in mine) for i in (3, 4, 5))
        head = f"| {cur} | {format_money(overdue)} |"
        tail = f"| {format_money(owed)} | {format_money(credits)} | {format_money(owed + credits)}"
        tail += f" | {len({g[0] for g in mine})} |"
        lines = [line for line in summary.splitlines() if line.startswith(f"| {cur} |")]
        assert len(lines) == 1 and lines[0].startswith(head) and lines[0].endswith(tail), (
            cur,
            lines,
            head,
            tail,
        )
    by_customer = json.loads(latest_artifact("aging-by-customer").data)
    table = {(r["Compte"], r.get("Entité", ""), r["Dev."]): r for r in by_customer}  # French
    assert len(table) == len(by_customer), "one row per customer, entity and currency"
    assert set(table) == {(c, e, cur) for c, e, cur, *_ in groups}
    assert any(overdue for *_, overdue, _, _ in groups)
    assert any(credits for *_, credits, _ in groups)
    for customer, entity, currency, overdue, credits, owed in groups:
        row = table[(customer, entity, currency)]
        assert (row["Échu"], row["Crédits"], row["Total"]) == (
            format_money(overdue),
            format_money(credits),
            format_money(owed),
        ), customer
    chart = latest_artifact("aging-chart").data
    assert "file:" not in chart and "](data:image/svg+xml;base64," in chart  # drawn in the UI
    page = Path(db).parent / "reports" / "aging-2026-11-20.html"
    assert "<svg" in page.read_text()  # the HTML report is still written beside the warehouse
    assert result["aging"]["open_items"] == open_count
    daily = latest_artifact("o2c-daily").data.splitlines()
    assert daily[0] == "# Journée o2c du 20/11/2026"  # French first: O2C_LANGUAGE unset
    (aging,) = [line for line in daily if line.startswith("| Balance âgée |")]
    assert aging.endswith(f" | {open_count} postes ouverts au 20/11/2026 |")


def test_the_daily_artifact_gives_each_step_its_counts(demo):
    db, result = demo
    daily = latest_artifact("o2c-daily")
    daily_steps = [s for s, _ in result["steps"] if s != "ere-sync"]  # the demo syncs after the day
    assert daily.description == f"Journée du 20/11/2026\u00a0: {len(daily_steps)} étapes"
    rows = {}
    for line in daily.data.splitlines()[4:]:
        if line.startswith("| "):
            step, _link, outcome = (c.strip() for c in line.strip("|").split(" | "))
            rows.setdefault(step, []).append(outcome)
    with connect(db, read_only=True) as con:
        (invoices,) = con.execute("SELECT count(*) FROM invoices").fetchone()
        loads = con.execute(
            "SELECT file_name, rows_loaded FROM load_batches WHERE source = 'bank_statement'"
        ).fetchall()
    (invoice_line,) = rows["Factures"]
    assert f"{invoices} nouvelles" in invoice_line.replace("\u202f", "")
    assert len(rows["Relevé bancaire"]) == len(loads)
    for name, loaded in loads:
        (line,) = [x for x in rows["Relevé bancaire"] if x.startswith(f"`{name}`: ")]
        assert f" {loaded} chargées," in line.replace("\u202f", ""), line
