"""Reconciliation partitioned by currency against one run, on the DuckDB file and on a DuckLake
catalog on PostgreSQL (issue 19): the wall time of the `reconcile` flow each way, and whether
the partitioned run wrote exactly the single run's allocations (it must).

Each of the four runs gets its own warehouse with the same demo company (loaded, not timed). The
flows run on a throwaway Prefect API (prefect_test_harness); PostgreSQL is $O2C_TEST_PG, else a
throwaway cluster from Debian's packages (tests/postgres.py).

    .venv/bin/python benchmarks/reconcile_partitions.py [--invoices 20000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/postgres.py, from anywhere

from prefect.testing.utilities import prefect_test_harness

from o2c.flows.reconcile import reconcile
from o2c.tasks.demo.warehouse import load_demo_company
from o2c.warehouse import connect
from tests import postgres


def allocations(db: str) -> list[tuple]:
    with connect(db, read_only=True) as con:
        return con.execute(
            "SELECT t.bank_reference, a.invoice_id, a.amount, a.kind, a.rule"
            " FROM allocations a JOIN bank_transactions t USING (transaction_id) ORDER BY ALL"
        ).fetchall()


def timed_run(db: str, invoices: int, partitioned: bool) -> tuple[float, list[tuple], int]:
    lines = load_demo_company(db, invoices=invoices)
    started = time.perf_counter()
    reconcile(db=db, partition_by_currency=partitioned)
    return time.perf_counter() - started, allocations(db), lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--invoices", type=int, default=20_000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="o2c-partitions-"))
    cluster = None
    catalog = os.environ.get("O2C_TEST_PG", "").strip()
    if not catalog:
        cluster = Path(tempfile.mkdtemp(prefix="o2c-pg-"))
        catalog = postgres.start(cluster)
    os.environ["O2C_HOME"] = str(work / "home")
    os.environ["O2C_WAREHOUSE_SLOT"] = "off"  # one process: the flock alone serialises writers
    rows = []
    try:
        with prefect_test_harness(server_startup_timeout=120):
            for place in ("duckdb-file", "ducklake"):
                got = {}
                for partitioned in (False, True):
                    name = f"{place}-{'parted' if partitioned else 'single'}"
                    if place == "duckdb-file":
                        db = str(work / f"{name}.duckdb")
                    else:
                        os.environ["O2C_LAKE_SCHEMA"] = (
                            f"bench_{name.replace('-', '_')}_{os.getpid()}"
                        )
                        os.environ["O2C_LAKE_DATA_PATH"] = str(work / f"lake-{name}")
                        db = f"ducklake:postgres:{catalog}"
                    got[partitioned] = timed_run(db, args.invoices, partitioned)
                (single_s, single, lines), (parted_s, parted, _) = got[False], got[True]
                rows.append((place, lines, len(single), single_s, parted_s, single == parted))
    finally:
        if cluster is not None:
            postgres.stop(cluster)
            shutil.rmtree(cluster, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"\nreconcile flow, demo company with {args.invoices:,} invoices; cores: {os.cpu_count()},"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'warehouse':<12} {'bank lines':>10} {'allocations':>11} {'one run':>9}"
        f" {'by currency':>12}  same allocations"
    )
    for place, lines, n, single_s, parted_s, same in rows:
        print(
            f"{place:<12} {lines:>10,} {n:>11,} {single_s:>8.2f}s {parted_s:>11.2f}s  "
            f"{'yes' if same else 'NO'}"
        )
    if not all(r[-1] for r in rows):
        raise SystemExit("FAIL: the partitioned run did not write the single run's allocations")


if __name__ == "__main__":
    main()
