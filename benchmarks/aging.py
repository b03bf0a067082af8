"""Benchmark: aging of 10 000 000 open items (Polars) against one DuckDB GROUP BY, same frame.

The frame is generated in memory first (not timed): 50 000 customers, 3 legal entities, EUR/USD/GBP,
5 % credit notes, a third of the invoices partly paid, due dates from 200 days ahead to 400 days
ago. Timed: `age_open_items` (credits apart, small balances under 25,00) + `aging_by_customer` +
`bucket_totals` (what the flow runs), then the baseline: the same per-customer sums (buckets of
debts, small balances, credits) in one SQL statement over the registered frame. Both results are
compared; memory is the peak resident size sampled every 5 ms during each step.

    .venv/bin/python benchmarks/aging.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import date

import duckdb
import numpy as np
import polars as pl
from peak_memory import PeakRss, rss_mib  # benchmarks/peak_memory.py

from o2c.models.schemas import OPEN_ITEM
from o2c.tasks.aging.analysis import (
    DEFAULT_BUCKETS,
    age_open_items,
    aging_by_customer,
    bucket_totals,
)

TARGET_SECONDS = 5.0
AS_OF = date(2026, 6, 30)
SMALL_BALANCE_CENTS = 2_500


def generate(rows: int, seed: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    customers = pl.Series([f"C{n:06d}" for n in range(50_000)])
    entities = pl.Series(["FR01", "BE01", "DE01"])
    currencies = pl.Series(["EUR", "USD", "GBP"])
    credit = rng.random(rows) < 0.05
    total = rng.integers(1_000, 5_000_000, rows, dtype=np.int64)
    total = np.where(credit, -total // 10, total)
    paid_share = np.where(rng.random(rows) < 0.33, rng.integers(1, 100, rows), 0)
    open_ = total - total * paid_share // 100
    due_offset = rng.integers(-400, 200, rows)
    issue = np.datetime64(AS_OF) + due_offset.astype("timedelta64[D]") - np.timedelta64(30, "D")
    frame = pl.DataFrame(
        {
            "invoice_id": pl.int_range(rows, eager=True).cast(pl.String),
            "document_type": np.where(credit, "credit_note", "invoice"),
            "customer_id": customers.gather(rng.integers(0, len(customers), rows)),
            "legal_entity": entities.gather(rng.integers(0, 3, rows)),
            "issue_date": issue,
            "due_date": issue + np.timedelta64(30, "D"),
            "currency": currencies.gather(rng.choice(3, rows, p=[0.9, 0.07, 0.03])),
            "amount_total_cents": total,
            "amount_open_cents": open_,
            "reference": pl.Series([None] * rows, dtype=pl.String),
        }
    )
    return frame.cast(OPEN_ITEM)


BASELINE_SQL = f"""
    SELECT customer_id, currency, legal_entity,
           SUM(CASE WHEN debt AND dpd <= 0 THEN a ELSE 0 END) AS not_due_cents,
           SUM(CASE WHEN debt AND dpd BETWEEN 1 AND 30 THEN a ELSE 0 END) AS "1_30_cents",
           SUM(CASE WHEN debt AND dpd BETWEEN 31 AND 60 THEN a ELSE 0 END) AS "31_60_cents",
           SUM(CASE WHEN debt AND dpd BETWEEN 61 AND 90 THEN a ELSE 0 END) AS "61_90_cents",
           SUM(CASE WHEN debt AND dpd BETWEEN 91 AND 120 THEN a ELSE 0 END) AS "91_120_cents",
           SUM(CASE WHEN debt AND dpd > 120 THEN a ELSE 0 END) AS over_120_cents,
           SUM(CASE WHEN small THEN a ELSE 0 END) AS small_balance_cents,
           SUM(CASE WHEN a < 0 THEN a ELSE 0 END) AS credits_cents,
           SUM(a) AS balance_cents, COUNT(*) AS items
    FROM (SELECT customer_id, currency, legal_entity, amount_open_cents AS a,
                 DATE '2026-06-30' - due_date AS dpd,
                 a > 0 AND a < amount_total_cents AND a <= {SMALL_BALANCE_CENTS} AS small,
                 a > 0 AND NOT small AS debt
          FROM items WHERE amount_open_cents <> 0)
    GROUP BY ALL
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()

    print("load average (1, 5, 15 min) at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    t0 = time.perf_counter()
    frame = generate(args.rows)
    print(
        f"generated {frame.height:,} rows in {time.perf_counter() - t0:.1f} s (not timed), "
        f"{frame.estimated_size() / 2**20:,.0f} MiB, RSS {rss_mib():,.0f} MiB"
    )

    with PeakRss() as mem:
        t0 = time.perf_counter()
        aged = age_open_items(frame, as_of=AS_OF, small_balance=SMALL_BALANCE_CENTS)
        t1 = time.perf_counter()
        by_customer = aging_by_customer(aged)
        t2 = time.perf_counter()
        totals = bucket_totals(aged)
        t3 = time.perf_counter()
        polars_s = t3 - t0
    print(
        f"polars  aging: {polars_s:6.2f} s  {args.rows / polars_s / 1e6:6.1f} M rows/s  "
        f"peak RSS {mem.peak:,.0f} MiB (+{mem.peak - mem.start:,.0f} over the frame)  "
        f"-> {by_customer.height:,} customer rows, {totals.height} currency x bucket totals"
    )
    print(
        f"        small balances: {by_customer['small_balance_items'].sum():,} items; "
        f"credits: {aged.filter(pl.col('amount_open_cents') < 0).height:,} items"
    )
    print(
        f"        of which age_open_items {t1 - t0:.2f} s, aging_by_customer {t2 - t1:.2f} s, "
        f"bucket_totals {t3 - t2:.2f} s"
    )
    del aged

    with PeakRss() as mem:
        t0 = time.perf_counter()
        con = duckdb.connect()
        con.register("items", frame)
        baseline = con.sql(BASELINE_SQL).pl()
        duck_s = time.perf_counter() - t0
    print(
        f"duckdb  GROUP BY (baseline): {duck_s:6.2f} s  {args.rows / duck_s / 1e6:6.1f} M rows/s  "
        f"peak RSS {mem.peak:,.0f} MiB (+{mem.peak - mem.start:,.0f} over the frame)"
    )
    con.close()

    keys = ["customer_id", "currency", "legal_entity"]
    bucket_columns = [DEFAULT_BUCKETS.column(k) for k in DEFAULT_BUCKETS.keys]
    columns = [*keys, *bucket_columns, "small_balance_cents", "credits_cents", "balance_cents"]
    ours = by_customer.select(columns).sort(keys)
    theirs = baseline.select(columns).cast(dict.fromkeys(columns[3:], pl.Int64)).sort(keys)
    # bucket_totals from the rows must match the baseline's per-customer sums added per currency.
    theirs_totals = (
        theirs.group_by("currency")
        .agg(pl.col(bucket_columns).sum())
        .unpivot(index="currency", variable_name="bucket", value_name="amount_open_cents")
        .with_columns(pl.col("bucket").str.strip_suffix("_cents"))
        .sort("currency", "bucket")
    )
    ours_totals = totals.select(
        "currency", pl.col("bucket").cast(pl.String), "amount_open_cents"
    ).sort("currency", "bucket")
    same = ours.equals(theirs) and ours_totals.equals(theirs_totals)
    print(f"results identical to the baseline (per customer and per currency x bucket): {same}")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"process peak RSS (getrusage): {peak_kib / 1024:,.0f} MiB")
    print("load average (1, 5, 15 min) at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    verdict = "PASS" if polars_s < TARGET_SECONDS and same else "FAIL"
    print(
        f"verdict: {verdict}: {args.rows:,} rows aged in {polars_s:.2f} s "
        f"(target < {TARGET_SECONDS:.0f} s; DuckDB baseline {duck_s:.2f} s)"
    )
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
