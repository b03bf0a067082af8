"""Benchmark: load and validate 1 000 000 ERP invoices, beside a plain DuckDB read_csv of the file.

The export is generated first (demo company, not timed). Each measured stage then runs in a
fresh Python process so its peak memory is its own: (1) o2c: read, normalise, validate with
Great Expectations, load into a new warehouse with quarantine and batch records, exactly what
the ingest-invoices flow runs minus Prefect (tasks/erp/ingest.py); (2) the floor: `CREATE TABLE
AS SELECT * FROM read_csv(...)` into a new DuckDB file, no checks at all. The ratio is what
validation costs.

    .venv/bin/python benchmarks/ingest_invoices.py [--invoices 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

TARGET_SECONDS = 15.0


def stage_o2c(csv: Path, db: Path) -> dict:
    started = time.perf_counter()
    from o2c.tasks.erp import ingest
    from o2c.warehouse import connect

    imported = time.perf_counter()
    # The steps of ingest.ingest_invoice_file (the flow's, minus Prefect), timed apart; the
    # warehouse is new, so its check for an earlier load of the file is left out.
    raw, sha256 = ingest.INVOICES.read(csv)
    outcome = ingest.INVOICES.validate(raw)
    validated = time.perf_counter()
    with connect(db) as con:
        result = ingest.INVOICES.load(con, raw, outcome, file_name=csv.name, sha256=sha256)
    done = time.perf_counter()
    return {
        "rows": result.rows_in,
        "loaded": result.inserted,
        "quarantined": result.quarantined,
        "import_s": imported - started,
        "read_validate_s": validated - imported,
        "load_s": done - validated,
        "total_s": done - started,
    }


def stage_duckdb(csv: Path, db: Path) -> dict:
    started = time.perf_counter()
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE invoices AS SELECT * FROM read_csv('{csv}')")
    rows = con.execute("SELECT count(*) FROM invoices").fetchall()[0][0]
    con.close()
    return {"rows": rows, "total_s": time.perf_counter() - started}


def run_stage(name: str, csv: Path, db: Path) -> dict:
    """One stage in a fresh interpreter: its own imports, its own peak resident memory."""
    out = subprocess.run(
        [sys.executable, __file__, "--stage", name, "--csv", str(csv), "--db", str(db)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--stage", choices=["o2c", "duckdb"])
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    if args.stage:
        figures = (stage_o2c if args.stage == "o2c" else stage_duckdb)(args.csv, args.db)
        figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return

    from o2c.tasks.demo import company as demo_data

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        company = demo_data.generate_company(
            invoices=args.invoices, seed=1, as_of=date(2026, 11, 1)
        )
        csv = demo_data.write_invoices_csv(company, folder / "invoices.csv")
        del company
        size = csv.stat().st_size / 2**20
        took = time.perf_counter() - t
        print(f"generated {args.invoices:,} invoices, {size:.0f} MiB CSV in {took:.1f} s")
        o2c = run_stage("o2c", csv, folder / "o2c.duckdb")
        floor = run_stage("duckdb", csv, folder / "plain.duckdb")
    rate = o2c["rows"] / o2c["total_s"]
    floor_rate = floor["rows"] / floor["total_s"]
    print(
        f"o2c ingest   : {o2c['total_s']:6.2f} s  {rate:>10,.0f} rows/s"
        f"  peak {o2c['peak_mib']:,.0f} MiB  (imports {o2c['import_s']:.2f} s,"
        f" read+validate {o2c['read_validate_s']:.2f} s, load {o2c['load_s']:.2f} s;"
        f" {o2c['loaded']:,} loaded, {o2c['quarantined']:,} quarantined)"
    )
    print(
        f"duckdb floor : {floor['total_s']:6.2f} s  {floor_rate:>10,.0f} rows/s"
        f"  peak {floor['peak_mib']:,.0f} MiB  (read_csv, no checks)"
    )
    ratio = o2c["total_s"] / floor["total_s"]
    print(f"ratio        : validation and bookkeeping cost {ratio:.1f}x the floor")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average : {load} (2 cores: above 2, both figures are inflated)")
    verdict = "PASS" if o2c["total_s"] < TARGET_SECONDS else "FAIL"
    print(f"verdict      : {verdict} (target: {args.invoices:,} rows under {TARGET_SECONDS:.0f} s)")


if __name__ == "__main__":
    main()
