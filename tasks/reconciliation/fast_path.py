"""The obvious settlements, decided before the cascade in a few joins.

Most transfers name one invoice, exactly, and pay exactly what is open on it. The cascade would
settle each of them in its first round (rule 1 or rules 2-3), alone on its invoice: no round,
no cross-check and no amount spreading can change that outcome. Settling them first, in one
join, leaves the cascade the transfers that need it.

The result is the cascade's own only if no other transfer could look at those invoices before
the cascade settles them, so the conditions below are strict:

- rule 1: the transfer's references name exactly one open item, named by no other transfer's
  reference;
- rules 2-3: the transfer has no reference to an open item, and every run of its text that names
  an open item names the same one, by a strong key (a short number alone needs the payer
  checked, which only the cascade does), which no other pending transfer names (by reference or
  text);
- the item is open for exactly the amount, in the transfer's currency;
- a transfer settled by its text does not come from an account known for another customer (the
  cascade asks finance about a customer paying another's invoice).

Later rules (one typo, payer and amount) run after rules 1-3 and so already saw these items
settled; they see the same here.
"""

from __future__ import annotations

import polars as pl

from o2c.models.reconciliation import Rule
from o2c.models.schemas import ALLOCATION_MONEY
from o2c.tasks.reconciliation.payers import normalize_iban


def obvious_settlements(
    pending: pl.DataFrame,
    open_items: pl.DataFrame,
    pairs: pl.DataFrame,
    hits: pl.DataFrame,
    known: pl.DataFrame,
) -> pl.DataFrame:
    """Full payments of one item by one transfer that the cascade would make in its first round.

    ``pending``: transactions with the integer row number ``t``; ``open_items``: items still open
    (amount not zero) with their row number ``i``; ``pairs``: references.structured_pairs (``t``,
    ``i``) and ``hits``: references.text_hits (``t``, ``i``, ``strength``) of a superset of them;
    ``known``: payers.known_ibans.
    Returns transaction_id, invoice_id, customer_id, amount_cents, currency, rule, confidence, t, i.
    """
    tx = pending.lazy().select("t", "transaction_id", "amount_cents", "currency")
    items = open_items.lazy().select(
        "i", "invoice_id", "customer_id", "amount_open_cents", item_currency="currency"
    )
    # What is pending and what is open, as masks over the row numbers: a gather per hit instead
    # of semi-joins of millions of hits.
    pending_t = _mask(pending["t"], pairs["t"], hits["t"])
    open_i = _mask(open_items["i"], pairs["i"], hits["i"])
    ref = pairs.select("t", "i").filter(pending_t.gather(pairs["t"]) & open_i.gather(pairs["i"]))
    text = hits.select("t", "i", "strength").filter(
        pending_t.gather(hits["t"]) & open_i.gather(hits["i"])
    )
    ref, text = ref.lazy(), text.lazy()
    # One item per transfer and one transfer per item, counted over every pending transfer
    # before any is set aside; min == max on one integer key is cheaper than distinct pairs.
    one_item = (
        text.group_by("t")
        .agg(lo=pl.col("i").min(), hi=pl.col("i").max(), confidence=pl.col("strength").max())
        # A short number alone (weak) needs the payer checked against it: the cascade's.
        .filter((pl.col("lo") == pl.col("hi")) & (pl.col("confidence") >= 0.95))
        .select("t", i="lo", confidence="confidence")
    )
    one_payer = (
        text.group_by("i")
        .agg(lo=pl.col("t").min(), hi=pl.col("t").max())
        .filter(pl.col("lo") == pl.col("hi"))
        .select("i", t="lo")
    )
    by_text = (
        one_item.join(one_payer, on=["t", "i"], how="semi")
        .join(ref.select("t"), on="t", how="anti")
        .join(ref.select("i"), on="i", how="anti")
        .with_columns(rule=pl.lit(Rule.INVOICE_NUMBER))
    )
    alone = (pl.len().over("t") == 1) & (pl.len().over("i") == 1)
    by_ref = ref.filter(alone).with_columns(
        rule=pl.lit(Rule.STRUCTURED_REFERENCE), confidence=pl.lit(1.0)
    )
    settled = (
        pl.concat(
            [f.select("t", "i", "rule", "confidence") for f in (by_ref, by_text)],
            how="vertical_relaxed",
        )
        .join(tx, on="t")
        .join(items, on="i")
        .filter(
            (pl.col("amount_cents") == pl.col("amount_open_cents"))
            & (pl.col("currency") == pl.col("item_currency"))
        )
        .select(*ALLOCATION_MONEY, "rule", "confidence", "t", "i")
        .collect()
    )
    others = _for_others(settled, pending, known)
    return settled.join(others, on="t", how="anti") if others.height else settled


def _for_others(settled: pl.DataFrame, pending: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """``t`` of the transfers settled by their text from an account known for customers, none of
    them the item's."""
    by_text = settled.filter(pl.col("rule") == Rule.INVOICE_NUMBER).select("t", "customer_id")
    if by_text.height == 0 or known.height == 0:
        return by_text.select("t").clear()
    # Each transfer's account gathered by its row number t: no join of a million rows.
    row = pl.repeat(None, int(pending["t"].max()) + 1, dtype=pl.UInt32, eager=True).scatter(
        pending["t"], pl.int_range(pending.height, dtype=pl.UInt32, eager=True)
    )
    accounts = by_text.with_columns(
        iban=pending["counterparty_iban"].gather(row.gather(by_text["t"]))
    )
    # Most banks write an IBAN as it is kept (no space, upper case): compared as it is; only the
    # others are normalised first.
    holders = known.rename({"customer_id": "holder"})
    odd = accounts.filter(pl.col("iban").str.contains(r"[^A-Z0-9]"))
    paid_from = pl.concat(
        [
            accounts.join(holders, on="iban"),
            odd.with_columns(iban=normalize_iban(pl.col("iban"))).join(holders, on="iban"),
        ]
    )
    theirs = paid_from.filter(pl.col("holder") == pl.col("customer_id")).select("t")
    return (
        paid_from.filter(pl.col("holder") != pl.col("customer_id"))
        .select("t")
        .unique()
        .join(theirs, on="t", how="anti")
    )


def _mask(members: pl.Series, *others: pl.Series) -> pl.Series:
    """A boolean per row number up to the largest in any of the series: True for ``members``."""
    size = max((int(s.max()) + 1 for s in (members, *others) if s.len()), default=0)
    return pl.repeat(False, size, eager=True).scatter(members, True)
