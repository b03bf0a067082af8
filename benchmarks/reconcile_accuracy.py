"""Accuracy of the reconciliation cascade on the demo company's ground truth.

Every invoice starts fully open and every bank transaction unreconciled; the engine runs once and
its automatic allocations are compared, pair by pair (transaction, invoice), with the truth.
Prints per case kind: precision by count and by amount, and the automatic match rate over the
transactions that have a true match. Targets: precision >= 99.9 %, match rate >= 95 %.

    .venv/bin/python benchmarks/reconcile_accuracy.py [--invoices 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date

import polars as pl

from o2c.models.erp import INVOICE_TERMS
from o2c.models.schemas import ALLOCATION, PAYER_ALIAS
from o2c.tasks.demo.company import generate_company
from o2c.tasks.reconciliation.engine import DECISION, reconcile
from o2c.tasks.reconciliation.reversals import ORIGIN_COLUMNS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--invoices", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    company = generate_company(invoices=args.invoices, seed=args.seed, as_of=date(2026, 6, 30))
    items = company.invoices.select(
        "invoice_id",
        *INVOICE_TERMS,
        "amount_total_cents",
        amount_open_cents="amount_total_cents",
        reference="reference",
    )
    t0 = time.perf_counter()
    result = reconcile(
        company.bank_transactions,
        items,
        company.customers.select("customer_id", "name", "iban"),
        pl.DataFrame(schema=PAYER_ALIAS),
        pl.DataFrame(schema={**ALLOCATION, **ORIGIN_COLUMNS}),
        pl.DataFrame(schema=DECISION),
    )
    elapsed = time.perf_counter() - t0

    truth = company.ground_truth
    kind_of = truth.group_by("bank_reference").agg(case_kind=pl.col("case_kind").first())
    true_pairs = truth.filter(pl.col("invoice_id").is_not_null()).select(
        "bank_reference", "invoice_id", true_cents="amount_cents"
    )
    tx_ref = company.bank_transactions.select("transaction_id", "bank_reference")
    auto = (
        result.allocations.filter(
            pl.col("kind").is_in(["payment", "reversal"]) & (pl.col("rule") != "manual")
        )
        .join(tx_ref, on="transaction_id")
        .group_by("bank_reference", "invoice_id")
        .agg(cents=pl.col("amount_cents").sum())
        .join(true_pairs, on=["bank_reference", "invoice_id"], how="left")
        .join(kind_of, on="bank_reference", how="left")
        .with_columns(
            pl.col("case_kind").fill_null("not_in_truth"),
            correct=pl.col("true_cents").is_not_null(),
            right_cents=pl.when(pl.col("true_cents").is_not_null())
            .then(pl.min_horizontal(pl.col("cents").abs(), pl.col("true_cents").abs()))
            .otherwise(0),
        )
    )
    precision = auto.group_by("case_kind").agg(
        allocations=pl.len(),
        wrong=(~pl.col("correct")).sum(),
        precision_count=pl.col("correct").mean() * 100,
        precision_amount=pl.col("right_cents").sum() / pl.col("cents").abs().sum() * 100,
    )
    # A transaction counts as matched when the engine allocated it and every pair is true.
    per_tx = auto.group_by("bank_reference").agg(all_right=pl.col("correct").all())
    has_truth = true_pairs.select("bank_reference").unique().join(kind_of, on="bank_reference")
    rate = (
        has_truth.join(per_tx, on="bank_reference", how="left")
        .group_by("case_kind")
        .agg(
            with_true_match=pl.len(),
            matched=pl.col("all_right").fill_null(False).sum(),
        )
        .with_columns(match_rate=pl.col("matched") / pl.col("with_true_match") * 100)
    )
    table = (
        rate.join(precision, on="case_kind", how="full", coalesce=True)
        .sort("case_kind")
        .with_columns(pl.col(pl.Float64).round(3))
    )
    with pl.Config(tbl_rows=50, tbl_cols=20, tbl_width_chars=160):
        print(table)
    n_alloc = auto.height
    p_count = auto["correct"].mean() * 100 if n_alloc else 100.0
    p_amount = auto["right_cents"].sum() / auto["cents"].abs().sum() * 100 if n_alloc else 100.0
    m_rate = rate["matched"].sum() / rate["with_true_match"].sum() * 100
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n{company.bank_transactions.height} transactions, {items.height} invoices; "
        f"reconcile took {elapsed:.2f} s; peak RSS {peak_mb:.0f} MB"
    )
    print(
        f"exceptions by reason: {result.stats['exceptions_by_reason']}; debits left alone"
        f" (not customer money, no exception): {result.stats['not_customer_debits']}"
    )
    print(
        f"overall: precision by count {p_count:.3f} %, by amount {p_amount:.3f} %, "
        f"automatic match rate {m_rate:.2f} %"
    )
    ok = p_count >= 99.9 and p_amount >= 99.9 and m_rate >= 95.0
    print(f"verdict: {'PASS' if ok else 'FAIL'} (targets: precision >= 99.9 %, match rate >= 95 %)")


if __name__ == "__main__":
    main()
