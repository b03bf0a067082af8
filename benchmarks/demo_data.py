"""Benchmark: generate the demo company at 1,000,000 invoices (and its bank side).

Timed: `generate_company` (customers, invoices, payments, noise, ground truth, ERP paid status),
then writing the invoice CSV the ingestion benchmark reads. Baseline in the same run: the floor of
any generator, a 1,000,000-row frame of bare random ids, dates and cents with no realism at all.
Memory is the peak resident size sampled every 5 ms during each step.

    .venv/bin/python benchmarks/demo_data.py [--invoices 1000000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from peak_memory import PeakRss  # benchmarks/peak_memory.py

from o2c.tasks.demo.company import generate_company, write_invoices_csv

TARGET_SECONDS = 30.0  # "well under a minute" on the shared 2-core machine
AS_OF = date(2026, 11, 20)


def floor_frame(rows: int) -> pl.DataFrame:
    """What generating `rows` invoices costs with no customers, terms, payments or text."""
    rng = np.random.default_rng(1)
    return pl.DataFrame(
        {
            "seq": np.arange(rows),
            "issue_date": np.datetime64(AS_OF, "D")
            - rng.integers(1, 366, rows).astype("timedelta64[D]"),
            "amount_total_cents": rng.integers(5_000, 5_000_000, rows),
        }
    ).with_columns(invoice_id=pl.format("FA-{}", pl.col.seq.cast(pl.String).str.zfill(7)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f}")

    with PeakRss() as mem:
        t0 = time.perf_counter()
        company = generate_company(invoices=args.invoices, seed=42, as_of=AS_OF)
        gen_s = time.perf_counter() - t0
    tx = company.bank_transactions.height
    print(
        f"generate_company: {gen_s:.2f} s for {args.invoices:,} invoices, "
        f"{company.customers.height:,} customers, {tx:,} bank transactions, "
        f"{company.ground_truth.height:,} ground-truth rows"
    )
    print(
        f"  {args.invoices / gen_s:,.0f} invoices/s, {(args.invoices + tx) / gen_s:,.0f} rows/s "
        f"(invoices + transactions), peak RSS {mem.peak:,.0f} MiB (+{mem.peak - mem.start:,.0f})"
    )

    with tempfile.TemporaryDirectory() as tmp, PeakRss() as mem_csv:
        t0 = time.perf_counter()
        path = write_invoices_csv(company, Path(tmp) / "invoices.csv")
        csv_s = time.perf_counter() - t0
        size = path.stat().st_size / 2**20
    print(f"write_invoices_csv: {csv_s:.2f} s, {size:,.0f} MiB, peak RSS {mem_csv.peak:,.0f} MiB")

    del company
    t0 = time.perf_counter()
    floor_frame(args.invoices)
    floor_s = time.perf_counter() - t0
    print(
        f"baseline (bare random frame, no realism): {floor_s:.2f} s; ratio {gen_s / floor_s:.0f}x"
    )

    verdict = "PASS" if gen_s < TARGET_SECONDS else "FAIL"
    print(f"verdict: {verdict}: {gen_s:.1f} s against a target of {TARGET_SECONDS:.0f} s")


if __name__ == "__main__":
    main()
