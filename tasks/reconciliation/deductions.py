"""A remittance that takes a claim of the payer's own off the documents it settles: finance's
decision.

A head office listing each invoice with what it pays sometimes takes something off one of them
for a reason of its own: a late-delivery penalty, a damaged delivery, a price it disputes (camt
`AdjstmntAmtAndRsn` on the document; a discount has its own element). Over several documents the
transfer is a settlement of accounts whose total is not what is owed: whether the claim is
accepted (a credit note, a write-off) or disputed is a person's call, and two companies written
by other hands put such lines to a person. It goes to finance with the remittance's own
allocation as its first candidate, so one click takes it. One document paid less a claim is a
partial payment of it, as any named invoice paid short: the rest stays open on it.
"""

from __future__ import annotations

import polars as pl

from o2c.models.reconciliation import Rule
from o2c.models.schemas import RECONCILIATION_EXCEPTION
from o2c.tasks.reconciliation.exceptions import REASON_REMITTANCE_DEDUCTION, exception_rows
from o2c.tasks.reconciliation.references import document_links


def deducted_claims(pending: pl.DataFrame, open_items: pl.DataFrame) -> pl.DataFrame:
    """RECONCILIATION_EXCEPTION rows for the pending credits whose structured remittance lists
    several documents and takes something off one of them; the candidate is the documents found
    among the open items, for the amount paid."""
    if "remittance_documents" not in pending.columns:
        return pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
    taken = pending.filter(
        (pl.col("amount_cents") > 0)
        & (pl.col("remittance_documents").list.len() > 1)
        & pl.col("remittance_documents")
        .list.eval(pl.element().struct.field("adjustment_cents").fill_null(0) > 0)
        .list.any()
        .fill_null(False)
    )
    if taken.height == 0:
        return pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
    listed = (
        taken.select("transaction_id", "amount_cents")
        .join(document_links(taken, open_items), on="transaction_id", how="left")
        .group_by("transaction_id", maintain_order=True)
        .agg(
            invoice_ids=pl.col("invoice_id").drop_nulls().sort(),
            amount_cents=pl.col("amount_cents").first(),
        )
    )
    return exception_rows(
        listed.with_columns(rule=pl.lit(Rule.REMITTANCE_DOCUMENTS), score=pl.lit(1.0)),
        REASON_REMITTANCE_DEDUCTION,
    )
