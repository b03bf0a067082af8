"""A number cited before its document existed: finance's question, not a match.

A customer cannot know an invoice's number before the invoice is issued. A transfer whose text
writes in full the number of a document issued after the money came (by its issue date) is a
payment of something else under a number that happens to match, a pro forma whose number the
ERP reused, or a date keyed wrong in the ERP: three companies written by other hands put such
lines to a person, and so does this module. A pro forma or order number the invoice carries
(purchase_orders.py) is the customer's own number and stays a match; so does a structured
reference (rule 1), which the payer copied from a document it holds.
"""

from __future__ import annotations

import polars as pl

from o2c.models.reconciliation import Rule
from o2c.models.schemas import RECONCILIATION_EXCEPTION
from o2c.tasks.reconciliation.exceptions import REASON_AMBIGUOUS_REFERENCE, exception_rows
from o2c.tasks.reconciliation.references import FULL_STRENGTH


def cited_before_issue(
    pending: pl.DataFrame,
    items: pl.DataFrame,
    hits: pl.DataFrame,
    pairs: pl.DataFrame,
    orders: pl.DataFrame,
) -> pl.DataFrame:
    """RECONCILIATION_EXCEPTION rows for the pending transfers (``t``) whose text writes in full
    (``hits``: references.text_hits, ``t``, ``chain_no``, ``i``, ``strength``) only items
    (``i``) issued after their booking date, and that no structured reference (``pairs``) or order
    number (``orders``) names something."""
    # Written in full, prefix and all: "FV26/00091" names FV26/00091, not the 2600091 of
    # another series. A transfer counts when every document its text names so was issued later.
    full = hits.filter(pl.col("strength") >= FULL_STRENGTH)
    if full.height == 0 or pending.height == 0:
        return pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
    # Issue and booking dates gathered by row number (t, i): a join of the million hits first
    # would cost more than the few late ones it finds.
    n_t = max(int(pending["t"].max()), int(full["t"].max())) + 1
    booked = (
        pl.repeat(None, n_t, dtype=pl.Date, eager=True)
        .scatter(pending["t"], pending["booking_date"])
        .gather(full["t"])
    )
    issued = items["issue_date"].gather(full["i"])
    late = full.filter((issued > booked).fill_null(False))
    if late.height == 0:
        return pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
    early = (
        full.join(late.select("t").unique(), on="t", how="semi")
        .select("t", "chain_no", "i")
        .unique()
        .join(pending.select("t", "transaction_id", "booking_date"), on="t")
        .join(pairs.select("t").unique(), on="t", how="anti")
        .join(orders.select("t").unique(), on="t", how="anti")
        .join(items.select("i", "invoice_id", "issue_date", "amount_open_cents"), on="i")
        .filter((pl.col("issue_date") > pl.col("booking_date")).fill_null(False).all().over("t"))
    )
    return exception_rows(
        early.select(
            "transaction_id",
            invoice_ids=pl.concat_list("invoice_id"),
            amount_cents="amount_open_cents",
            rule=pl.lit(Rule.INVOICE_NUMBER),
            score=pl.lit(0.5),
        ),
        REASON_AMBIGUOUS_REFERENCE,
    )
