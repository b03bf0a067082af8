"""A number of a document already paid: finance's question, never the amount's.

A transfer whose text writes in full the number of a document that is no longer open (paid by
an earlier line of this run, or before it) says which document it meant, and that document is
paid. It is a duplicate (the same transfer sent twice), a payment after a returned collection
(which the return reopens), or last month's transfer copied with its number; which one is for a
person to see. Matched on its amount instead, it would settle another open item of that amount
(a monthly contract's next invoice), and that is a guess the text contradicts. Set aside before
the amount-only rules (the payer's IBAN or name and the amount, statements of account), the line
keeps the cited document as its candidate; a run that holds returns tries it again once they
have reopened what they undo.
"""

from __future__ import annotations

import polars as pl

from o2c.models.reconciliation import Rule
from o2c.models.schemas import RECONCILIATION_EXCEPTION
from o2c.tasks.reconciliation.exceptions import REASON_CITES_PAID_DOCUMENT, exception_rows
from o2c.tasks.reconciliation.references import FULL_STRENGTH


def cited_paid(
    todo: pl.DataFrame,
    open_items: pl.DataFrame,
    items: pl.DataFrame,
    hits: pl.DataFrame,
    closed_hits: pl.DataFrame,
) -> pl.DataFrame:
    """RECONCILIATION_EXCEPTION rows for the credits of ``todo`` (with ``t``) whose text writes
    in full only documents that are not open now, at least one of them.

    ``items``: every item of the run with its row number ``i`` (open when the run read them);
    ``open_items``: those still open (with ``i``); ``hits``: references.text_hits of the run
    (``t``, ``i``, ``strength``); ``closed_hits``: ``t``, ``invoice_id``, the documents settled
    before the run that the texts of ``todo`` write in full."""
    # Money received only: a refund we send naming the invoice it was overpaid on is ours.
    todo = todo.filter(pl.col("amount_cents") > 0)
    if todo.height == 0:
        return pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
    # Written in full, letters and all: a bare sequence or a long number alone may be anything
    # else (an order, a contract, a mandate).
    full = (
        hits.filter(pl.col("strength") >= FULL_STRENGTH)
        .join(todo.select("t"), on="t", how="semi")
        .select("t", "i")
        .unique()
        .join(items.select("i", "invoice_id", amount_cents="amount_open_cents"), on="i")
        .with_columns(is_open=pl.col("i").is_in(open_items["i"].implode()))
        .drop("i")
    )
    before = closed_hits.join(todo.select("t"), on="t", how="semi").select(
        "t", "invoice_id", amount_cents=pl.lit(None, pl.Int64), is_open=pl.lit(False)
    )
    cited = (
        pl.concat([full, before], how="vertical_relaxed")
        .filter(~pl.col("is_open").any().over("t"))
        .join(todo.select("t", "transaction_id"), on="t")
    )
    return exception_rows(
        cited.select(
            "transaction_id",
            invoice_ids=pl.concat_list("invoice_id"),
            amount_cents="amount_cents",
            rule=pl.lit(Rule.INVOICE_NUMBER),
            score=pl.lit(0.5),
        ),
        REASON_CITES_PAID_DOCUMENT,
    )
