"""A payment plan's instalments: which are due and not paid on a date.

A customer on a payment plan is not chased for the invoices it covers, only for an instalment
that fell due and was not paid. Payments made since the plan started pay its instalments oldest
first (an early or a larger payment counts toward the next ones), so an instalment is missed for
what the payments made up to the date leave of it. Pure: frames in, frame out.
"""

from __future__ import annotations

from datetime import date

import polars as pl

INSTALMENT = {
    "exclusion_id": pl.Int64,  # the payment plan (sql/013 dunning_exclusions)
    "seq": pl.Int32,
    "due_date": pl.Date,
    "amount_cents": pl.Int64,
}
PLAN_PAID = {"exclusion_id": pl.Int64, "paid_cents": pl.Int64}
INSTALMENT_DUE = {**INSTALMENT, "unpaid_cents": pl.Int64}


def instalments_due(instalments: pl.DataFrame, paid: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """INSTALMENT_DUE rows: each instalment due on or before `as_of` that the plan's payments
    (PLAN_PAID: what was paid toward each plan since it started) do not cover, with what is
    left of it. A plan absent from `paid` has had no payment."""
    cumulative = pl.col("amount_cents").cum_sum().over("exclusion_id", order_by="seq")
    return (
        instalments.cast(INSTALMENT)
        .join(paid.cast(PLAN_PAID), on="exclusion_id", how="left")
        .with_columns(pl.col("paid_cents").fill_null(0))
        .sort("exclusion_id", "seq")
        .with_columns(
            unpaid_cents=(cumulative - pl.col("paid_cents")).clip(0, pl.col("amount_cents"))
        )
        .filter((pl.col("due_date") <= as_of) & (pl.col("unpaid_cents") > 0))
        .select(list(INSTALMENT_DUE))
    )
