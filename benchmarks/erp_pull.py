"""Benchmark: 100 000 invoices pulled from the Odoo twin in pages, beside the same rows loaded
from a file, in the same run.

The twin runs in this process, filled first (not timed); each measured stage then runs in a
fresh Python process so its peak memory is its own: (1) pull: `tasks.erp.sources.pull_into`
over JSON-RPC (or --protocol json2), customers then invoices, page by page, each page validated
then loaded with its cursor in its own transaction, into a new warehouse; (2) file: the same
invoice rows, as the same mapping gives them, written to a CSV (not timed) and loaded by
`ingest.ingest_invoice_file` into another new warehouse. The pull's time includes the twin's own
work (a Python search over every record for each page, JSON out), which a real Odoo does in
PostgreSQL; the figure is an upper bound of our side's cost.

    .venv/bin/python benchmarks/erp_pull.py [--invoices 100000] [--page-size 5000]
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
from datetime import date, timedelta
from pathlib import Path


def stage_pull(url: str, db: Path, protocol: str, page_size: int, key: str) -> dict:
    started = time.perf_counter()
    from o2c.models.settings_odoo import OdooSettings
    from o2c.tasks.connectors.odoo import OdooClient
    from o2c.tasks.erp import sources, validation
    from o2c.tasks.erp.sources.odoo import OdooSource
    from o2c.twins.odoo import OdooTwin
    from o2c.warehouse import connect

    validation.warm_up()
    imported = time.perf_counter()
    settings = OdooSettings(
        url=url,
        db="o2c",
        login=OdooTwin().login,
        api_key=key,
        protocol=protocol,
        page_size=page_size,
        requests_per_second=0,
        timeout_s=300,
    )
    with OdooClient(settings) as client:
        summary = sources.pull_into(OdooSource(client), lambda: connect(db))
        requests = client.requests_made
    done = time.perf_counter()
    invoices = summary.counts["invoices"]
    return {
        "rows": invoices.pulled,
        "loaded": invoices.new,
        "quarantined": invoices.quarantined,
        "customers": summary.counts["customers"].new,
        "pages": invoices.pages,
        "requests": requests,
        "import_s": imported - started,
        "total_s": done - imported,
    }


def stage_file(csv: Path, db: Path) -> dict:
    started = time.perf_counter()
    from o2c.tasks.erp import ingest, validation
    from o2c.warehouse import connect

    validation.warm_up()
    imported = time.perf_counter()
    with connect(db) as con:
        result = ingest.ingest_invoice_file(con, csv)
    done = time.perf_counter()
    return {
        "rows": result.rows_in,
        "loaded": result.inserted,
        "quarantined": result.quarantined,
        "import_s": imported - started,
        "total_s": done - imported,
    }


def run_stage(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def fill(twin, invoices: int, customers: int) -> None:
    partners = [
        twin.add_partner(f"Client {i:04d} SAS", email=f"compta{i}@client{i}.fr", lang="fr_FR")
        for i in range(customers)
    ]
    start = date(2026, 1, 1)
    for i in range(invoices):
        issued = start + timedelta(days=i % 300)
        twin.add_invoice(
            partners[i % customers],
            f"INV/2026/{i:06d}",
            f"{100 + (i * 37) % 90_000}.{i % 100:02d}",
            invoice_date=issued.isoformat(),
            due=(issued + timedelta(days=30)).isoformat(),
            refund=i % 50 == 0,
        )


def write_file(twin, path: Path) -> None:
    """The twin's invoices through the source's own mapping, as an export file."""
    from o2c.tasks.erp.sources.odoo import INVOICE_FIELDS, invoice_rows, records_frame

    records = [
        twin._render("account.move", r, list(INVOICE_FIELDS))
        for r in twin.records["account.move"].values()
    ]
    invoice_rows(records_frame(records, INVOICE_FIELDS)).drop("_line").write_csv(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--protocol", choices=["jsonrpc", "json2"], default="jsonrpc")
    parser.add_argument("--stage", choices=["pull", "file"])
    parser.add_argument("--url")
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    if args.stage:
        if args.stage == "pull":
            key = os.environ["O2C_BENCH_ODOO_KEY"]
            figures = stage_pull(args.url, args.db, args.protocol, args.page_size, key)
        else:
            figures = stage_file(args.csv, args.db)
        figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return

    from o2c.twins.odoo import OdooTwin

    with tempfile.TemporaryDirectory() as tmp, OdooTwin() as twin:
        folder = Path(tmp)
        t = time.perf_counter()
        fill(twin, args.invoices, args.customers)
        csv = folder / "invoices.csv"
        write_file(twin, csv)
        print(f"twin filled with {args.invoices:,} invoices in {time.perf_counter() - t:.1f} s")
        os.environ["O2C_BENCH_ODOO_KEY"] = twin.api_key
        pull = run_stage(
            "--stage", "pull", "--url", twin.url, "--db", str(folder / "pull.duckdb"),
            "--protocol", args.protocol, "--page-size", str(args.page_size),
        )  # fmt: skip
        file = run_stage("--stage", "file", "--csv", str(csv), "--db", str(folder / "f.duckdb"))
    for name, f in (("pull", pull), ("file", file)):
        extra = (
            f", {f['pages']} pages of {args.page_size}, {f['requests']} requests"
            if name == "pull"
            else ""
        )
        print(
            f"{name:5}: {f['total_s']:7.2f} s {f['rows'] / f['total_s']:>9,.0f} rows/s"
            f"  peak {f['peak_mib']:,.0f} MiB  ({f['loaded']:,} loaded,"
            f" {f['quarantined']:,} quarantined{extra}; imports {f['import_s']:.1f} s untimed)"
        )
    print(f"ratio: the pull takes {pull['total_s'] / file['total_s']:.1f}x the file load")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores shared)")


if __name__ == "__main__":
    main()
