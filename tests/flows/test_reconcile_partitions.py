"""Reconciliation partitioned by currency (issue 19): the plans run side by side, the writes take
turns, and the allocations and exceptions are those of one run, on the DuckDB file and on a
DuckLake catalog on PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from o2c.flows.reconcile import reconcile
from o2c.tasks.demo.warehouse import load_demo_company
from o2c.warehouse import connect

pytestmark = pytest.mark.usefixtures("prefect_api")


def outcome(db: str) -> tuple[list[tuple], list[tuple]]:
    with connect(db, read_only=True) as con:
        allocations = con.execute(
            "SELECT t.bank_reference, t.currency, a.invoice_id, a.amount, a.kind, a.rule"
            " FROM allocations a JOIN bank_transactions t USING (transaction_id) ORDER BY ALL"
        ).fetchall()
        exceptions = con.execute(
            "SELECT t.bank_reference, e.reason FROM reconciliation_exceptions e"
            " JOIN bank_transactions t USING (transaction_id) WHERE e.status = 'open' ORDER BY ALL"
        ).fetchall()
    return allocations, exceptions


@pytest.fixture(params=["duckdb-file", "ducklake"])
def warehouses(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Two warehouses with the same demo book: one for a single run, one for partitions."""
    if request.param == "duckdb-file":
        yield lambda name: str(tmp_path / f"{name}.duckdb")
        return
    catalog = f"ducklake:postgres:{request.getfixturevalue('postgres')}"
    monkeypatch.setenv("O2C_HOME", str(tmp_path / "home"))
    run = uuid.uuid4().hex[:12]  # a PostgreSQL given by $O2C_TEST_PG may outlive this run

    def on_lake(name: str) -> str:  # one catalog schema and data folder per warehouse
        monkeypatch.setenv("O2C_LAKE_SCHEMA", f"part_{name}_{run}")
        monkeypatch.setenv("O2C_LAKE_DATA_PATH", str(tmp_path / f"lake-{name}"))
        return catalog

    yield on_lake


def test_partitions_by_currency_give_the_single_runs_allocations(warehouses):
    single = warehouses("single")
    lines = load_demo_company(single, invoices=400)
    stats = reconcile(db=single)
    expected = outcome(single)

    parted = warehouses("parted")
    assert load_demo_company(parted, invoices=400) == lines
    part_stats = reconcile(db=parted, partition_by_currency=True)
    got = outcome(parted)

    currencies = {row[1] for row in got[0]}
    assert len(currencies) >= 3  # EUR, GBP, USD, CHF: real partitions, not one
    assert got == expected
    assert expected[0]  # something was matched, and the same way
    for key in ("transactions", "settled", "exceptions", "amount_matched_cents"):
        assert part_stats[key] == stats[key], key
    assert part_stats["by_rule_currency"] == stats["by_rule_currency"]
