"""Exceptions: transactions a person must decide, with every candidate the
rules saw and its score."""

from __future__ import annotations

import polars as pl

from o2c.models.schemas import RECONCILIATION_EXCEPTION

REASON_AMBIGUOUS_REFERENCE = "ambiguous_reference"
REASON_AMBIGUOUS_AMOUNT = "ambiguous_amount"
REASON_AMBIGUOUS_PAYER = "ambiguous_payer"
REASON_REFERENCE_AMOUNT_MISMATCH = "reference_amount_mismatch"
REASON_REVERSAL_WITHOUT_ORIGINAL = "reversal_without_original"
REASON_CITES_PAID_DOCUMENT = "cites_paid_document"
REASON_OTHER_CUSTOMERS_DOCUMENTS = "other_customers_documents"
REASON_REMITTANCE_DEDUCTION = "remittance_deduction"
REASON_NO_MATCH = "no_match"


def exception_rows(candidates: pl.DataFrame, reason: str) -> pl.DataFrame:
    """One exception per transaction from candidate rows.

    ``candidates``: transaction_id, invoice_ids (list[str]), amount_cents, rule, score. The JSON
    list is sorted by score (best first) then invoice ids, so it is the same on every run.
    """
    if candidates.height == 0:
        return pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
    encoded = candidates.sort(
        ["transaction_id", "score", "invoice_ids"], descending=[False, True, False]
    ).select(
        "transaction_id",
        js=pl.struct(
            pl.col("invoice_ids"),
            pl.col("amount_cents"),
            pl.col("rule"),
            pl.col("score").round(4),
        ).struct.json_encode(),
    )
    return (
        encoded.group_by("transaction_id", maintain_order=True)
        .agg(candidates=pl.lit("[") + pl.col("js").str.join(",") + pl.lit("]"))
        .select("transaction_id", pl.lit(reason).alias("reason"), "candidates")
        .cast(RECONCILIATION_EXCEPTION)
    )


def no_match_rows(transaction_ids: pl.Series, reason: str = REASON_NO_MATCH) -> pl.DataFrame:
    return (
        pl.DataFrame({"transaction_id": transaction_ids})
        .select("transaction_id", reason=pl.lit(reason), candidates=pl.lit("[]"))
        .cast(RECONCILIATION_EXCEPTION)
    )
