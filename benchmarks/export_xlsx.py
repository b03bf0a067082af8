"""Benchmark: `o2c export TABLE --out FILE.xlsx` of 1 000 000 invoice-like rows, old and new path.

A DuckDB warehouse in a temporary folder gets one table of invoice-like rows (ids, customer,
names, two dates, currency, two DECIMAL(18,2) amounts, status, RF reference; not timed). Then,
each in its own child process so one path's heap does not count in the other's peak:
- old: the whole relation read into one Polars frame and written by `frame.write_excel`
  (what `write_frame` did before streaming: autofit, header frozen);
- new: `export_relation`, rows read from DuckDB in batches and written by xlsxwriter in
  `constant_memory` mode.
Printed: seconds, and peak resident memory (sampled every 5 ms) above the child's start.

    .venv/bin/python benchmarks/export_xlsx.py [--rows 1000000] [--only old|new]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from peak_memory import PeakRss  # benchmarks/peak_memory.py

TABLE = "invoices_bench"


def build(db: Path, rows: int) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(
            f"""
            CREATE TABLE {TABLE} AS
            SELECT 'FA2026-' || lpad(i::VARCHAR, 7, '0') AS invoice_id,
                   'C' || lpad((i % 50000)::VARCHAR, 6, '0') AS customer_id,
                   'Client ' || (i % 50000) || ' SARL' AS customer_name,
                   DATE '2025-01-01' + (i % 500)::INTEGER AS issue_date,
                   DATE '2025-01-31' + (i % 500)::INTEGER AS due_date,
                   ['EUR', 'EUR', 'EUR', 'USD', 'GBP'][1 + i % 5] AS currency,
                   ((i * 7919) % 5000000 / 100)::DECIMAL(18, 2) AS amount_total,
                   ((i * 104729) % 100000 / 100)::DECIMAL(18, 2) AS amount_paid,
                   ['open', 'paid', 'partial'][1 + i % 3] AS status,
                   'RF18' || lpad((i % 100000)::VARCHAR, 12, '0') AS reference
            FROM range({rows}) r(i)
            """
        )


def run_old(db: Path, out: Path) -> int:
    from o2c.tasks.common.export import read_relation

    with duckdb.connect(str(db), read_only=True) as con:
        frame = read_relation(con, TABLE)
    frame.write_excel(out, worksheet=TABLE[:31], autofit=True, freeze_panes=(1, 0))
    return frame.height


def run_new(db: Path, out: Path) -> int:
    from o2c.tasks.common.export import export_relation

    with duckdb.connect(str(db), read_only=True) as con:
        return export_relation(con, TABLE, out)


def child(path: str, db: Path, out: Path) -> None:
    """One path, measured in this process, as one JSON line on stdout."""
    with PeakRss() as mem:
        start = time.perf_counter()
        rows = (run_old if path == "old" else run_new)(db, out)
        seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "path": path,
                "rows": rows,
                "seconds": round(seconds, 1),
                "start_mib": round(mem.start),
                "peak_mib": round(mem.peak),
                "file_mib": round(out.stat().st_size / 2**20, 1),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("old", "new"))
    parser.add_argument("--child", choices=("old", "new"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.out)
        return
    with tempfile.TemporaryDirectory(prefix="o2c-export-bench-") as tmp:
        db = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        build(db, args.rows)
        print(f"{args.rows:,} rows built in {time.perf_counter() - started:.1f} s")
        for path in [args.only] if args.only else ["old", "new"]:
            out = Path(tmp) / f"{path}.xlsx"
            done = subprocess.run(
                [sys.executable, __file__, "--child", path, "--db", str(db), "--out", str(out)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{r['path']}: {r['rows']:,} rows in {r['seconds']} s, peak RSS {r['peak_mib']} MiB"
                f" ({r['peak_mib'] - r['start_mib']} MiB above the start), file {r['file_mib']} MiB"
            )


if __name__ == "__main__":
    main()
