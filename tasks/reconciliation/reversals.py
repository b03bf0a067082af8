"""Rule 7: a reversal (returned transfer, recalled SEPA payment) undoes what its original settled.

The original is found by its end-to-end id, or else by the same payer account, opposite amount and
same remittance text, booked no later than the reversal. Its allocations are mirrored with negative
amounts that point at them (reverses_allocation_id), so the invoices open again; nothing is deleted.
"""

from __future__ import annotations

import polars as pl

from o2c.models.reconciliation import Rule
from o2c.tasks.reconciliation.exceptions import (
    REASON_REVERSAL_WITHOUT_ORIGINAL,
    exception_rows,
)

# Columns past allocations carry about the transaction they came from (see engine.reconcile).
ORIGIN_COLUMNS = {
    "tx_amount_cents": pl.Int64,
    "tx_booking_date": pl.Date,
    "tx_counterparty_iban": pl.String,
    "tx_end_to_end_id": pl.String,
    "tx_remittance_unstructured": pl.String,
}

_NO_E2E = ("", "NOTPROVIDED", "NONREF")
_REVERSAL = {
    "transaction_id": pl.String,
    "invoice_id": pl.String,
    "customer_id": pl.String,
    "amount_cents": pl.Int64,
    "currency": pl.String,
    "kind": pl.String,
    "rule": pl.String,
    "confidence": pl.Float64,
    "reverses_allocation_id": pl.String,
}


# ISO 20022 bank transaction sub-family of a collection coming back unpaid (an R-transaction,
# with its RtrInf reason: AC04 account closed, AM04 no funds, MD06 refund...). Banks book it as a
# plain debit, without the reversal indicator. (A returned transfer, RRTN, is not taken: it may
# be the company sending a duplicate back, which undoes nothing that was allocated.)
RETURN_SUBFAMILIES = ("/UPDD",)


def is_return(amount_cents: pl.Expr, bank_tx_code: pl.Expr) -> pl.Expr:
    """A debit the bank's own code says is a collection returned unpaid: it undoes the
    collection, as a reversal does."""
    returned = "(?i)(?:" + "|".join(RETURN_SUBFAMILIES) + ")$"
    return (amount_cents < 0) & bank_tx_code.str.contains(returned).fill_null(False)


def _e2e(expr: pl.Expr) -> pl.Expr:
    norm = expr.str.to_uppercase().str.replace_all(r"\s", "")
    return pl.when(norm.is_in(_NO_E2E)).then(None).otherwise(norm)


def reversal_allocations(
    reversals: pl.DataFrame, allocations: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Mirror the allocations of each reversal's original; (allocations, exceptions).

    ``allocations`` are earlier allocations (past and this run) with ORIGIN_COLUMNS; those already
    reversed are skipped. An original claimed by two reversals goes to the earliest.
    """
    reversed_ids = allocations.select(pl.col("reverses_allocation_id").drop_nulls()).to_series()
    live = allocations.filter(
        (pl.col("kind") != "reversal") & ~pl.col("allocation_id").is_in(reversed_ids.implode())
    )
    originals = (
        live.group_by("transaction_id")
        .agg(pl.col(list(ORIGIN_COLUMNS)).first())
        .rename({"transaction_id": "original_id"})
    )
    rev = reversals.select(
        "transaction_id",
        "booking_date",
        "amount_cents",
        iban=pl.col("counterparty_iban").fill_null(""),
        e2e=_e2e(pl.col("end_to_end_id")),
        text=pl.col("remittance_unstructured").fill_null(""),
    )
    pairs = (
        rev.join(
            originals.with_columns(
                o_iban=pl.col("tx_counterparty_iban").fill_null(""),
                o_e2e=_e2e(pl.col("tx_end_to_end_id")),
                o_text=pl.col("tx_remittance_unstructured").fill_null(""),
                neg=-pl.col("tx_amount_cents"),
            ),
            left_on="amount_cents",
            right_on="neg",
        )
        .filter(
            (pl.col("tx_booking_date") <= pl.col("booking_date"))
            & (
                (pl.col("e2e").is_not_null() & (pl.col("e2e") == pl.col("o_e2e")))
                | (
                    pl.col("e2e").is_null()
                    & (pl.col("iban") == pl.col("o_iban"))
                    & (pl.col("text") == pl.col("o_text"))
                )
            )
        )
        .select("transaction_id", "booking_date", "original_id")
    )
    # One original per reversal (several alike is ambiguous), one reversal per original.
    pairs = pairs.filter(pl.len().over("transaction_id") == 1)
    pairs = pairs.sort("booking_date", "transaction_id").filter(
        pl.int_range(pl.len()).over("original_id") == 0
    )
    out = pairs.join(live, left_on="original_id", right_on="transaction_id").select(
        "transaction_id",
        "invoice_id",
        "customer_id",
        amount_cents=-pl.col("amount_cents"),
        currency="currency",
        kind=pl.lit("reversal"),
        rule=pl.lit(Rule.REVERSAL),
        confidence=pl.lit(1.0),
        reverses_allocation_id=pl.col("allocation_id"),
    )
    rest = live.join(
        out.select(allocation_id="reverses_allocation_id"), on="allocation_id", how="anti"
    )
    out = pl.concat(
        [
            out.cast(_REVERSAL),
            _part_of_a_batch(reversals.join(pairs, on="transaction_id", how="anti"), rest),
        ]
    )
    missing = reversals.join(out, on="transaction_id", how="anti")
    exceptions = exception_rows(
        missing.select(
            "transaction_id",
            invoice_ids=pl.lit([], pl.List(pl.String)),
            amount_cents="amount_cents",
            rule=pl.lit(Rule.REVERSAL),
            score=pl.lit(0.0),
        ),
        REASON_REVERSAL_WITHOUT_ORIGINAL,
    )
    return out, exceptions


def _part_of_a_batch(reversals: pl.DataFrame, live: pl.DataFrame) -> pl.DataFrame:
    """A collection returned out of a batch the bank booked as one line: no earlier transaction
    has the return's amount, but one payment allocation has, on the invoice whose number the
    return's end-to-end id or text carries (the creditor put it there when collecting), booked
    no later. That allocation alone is undone; two such, or none, stay finance's question."""
    if reversals.height == 0 or live.height == 0:
        return pl.DataFrame(schema=_REVERSAL)
    rev = reversals.select(
        "transaction_id",
        "booking_date",
        cents=-pl.col("amount_cents"),
        said=pl.concat_str(
            pl.col("end_to_end_id").fill_null(""),
            pl.col("remittance_unstructured").fill_null(""),
            separator=" ",
        ).str.to_uppercase(),
    )
    found = (
        rev.join(
            live.filter(pl.col("kind") == "payment").select(
                "invoice_id",
                "customer_id",
                "currency",
                "allocation_id",
                "tx_booking_date",
                cents="amount_cents",
            ),
            on="cents",
        )
        .filter(
            (pl.col("tx_booking_date") <= pl.col("booking_date"))
            & pl.col("said").str.contains(pl.col("invoice_id").str.to_uppercase(), literal=True)
        )
        .filter(pl.len().over("transaction_id") == 1)
        .sort("booking_date", "transaction_id")
        .filter(pl.int_range(pl.len()).over("allocation_id") == 0)
    )
    return found.select(
        "transaction_id",
        "invoice_id",
        "customer_id",
        amount_cents=-pl.col("cents"),
        currency="currency",
        kind=pl.lit("reversal"),
        rule=pl.lit(Rule.REVERSAL),
        confidence=pl.lit(1.0),
        reverses_allocation_id=pl.col("allocation_id"),
    ).cast(_REVERSAL)
