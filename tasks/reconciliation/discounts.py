"""A cash discount the payer took and said: "Rechnungen FA-1 und FA-2 abzgl. 2% Skonto".

German, Austrian and Swiss buyers (and some French ones: "escompte") pay within the discount
period less the agreed percentage, on each invoice, rounded per invoice, and say so. Spread
oldest first, such a payment would settle the first invoices whole and leave the last one short
by the sum of every discount. A careful controller reads it as the payer wrote it: each named
invoice paid its own share less the discount, the discount written off.

The transfer must say discount (one of DISCOUNT_WORDS) and name its invoices (numbers in the
text, all of one customer, none ambiguous); the amount must be exactly the sum of each invoice's
open amount less the percentage written in the text (or, when none is written, one of
DEFAULT_RATES), each rounded to the cent, and exactly one rate may fit. Anything else is left to
the cascade, which reads the same text as a partial or short payment or asks finance.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from o2c.models.reconciliation import Rule
from o2c.models.schemas import ALLOCATION
from o2c.tasks.reconciliation.references import invoice_numbers

_ALLOC = {k: v for k, v in ALLOCATION.items() if k != "allocation_id"}
# Words payers use for a cash discount, as whole words, any case.
DISCOUNT_WORDS = (
    r"(?i)(?:^|[^A-Z])(?:SKONTO|ESCOMPTE|SCONTO|KORTING|DESCUENTO|CASH DISCOUNT)(?:[^A-Z]|$)"
)
# A percentage written in the text ("2%", "2 %", "2,5 %"), in hundredths of a percent.
_PERCENT = r"([0-9]{1,2}(?:[.,][0-9]{1,2})?)[ ]?%"
# The usual rates when the text gives none, in hundredths of a percent.
DEFAULT_RATES = (200, 300)
# A retention on a works contract ("retenue de garantie", RG; Sicherheitseinbehalt): 5 % in
# France by law, held until the end of the guarantee year.
RETENTION_WORDS = (
    r"(?i)(?:RETENUE DE GARANTIE|RETENUE GARANTIE|RET\.? ?GARANTIE|(?:^|[^A-Z])RG(?:[^A-Z]|$)|"
    r"EINBEHALT|RETENCION|RITENUTA)"
)
RETENTION_RATES = (500,)
# A discount above this (in hundredths of a percent) is no cash discount.
_MAX_RATE = 1000


def discount_allocations(
    pending: pl.DataFrame,
    open_items: pl.DataFrame,
    hits: pl.DataFrame,
    payers: Callable[[pl.DataFrame], pl.DataFrame],
) -> pl.DataFrame:
    """ALLOCATION rows (with ``t`` and ``i``) for the transfers that took a cash discount or
    held a retention they said: each named invoice paid its open amount less the rate (a credit
    note named is netted whole); a discount is written off, a retention stays open (it is paid
    at the end of the guarantee). Same arguments as _deducted."""
    discounts = _deducted(pending, open_items, hits, payers, DISCOUNT_WORDS, DEFAULT_RATES, True)
    rest = pending.join(discounts.select("t").unique(), on="t", how="anti")
    retained = _deducted(rest, open_items, hits, payers, RETENTION_WORDS, RETENTION_RATES, False)
    return pl.concat([discounts, retained])


def _deducted(
    pending: pl.DataFrame,
    open_items: pl.DataFrame,
    hits: pl.DataFrame,
    payers: Callable[[pl.DataFrame], pl.DataFrame],
    words: str,
    default_rates: tuple[int, ...],
    write_off: bool,
) -> pl.DataFrame:
    """The transfers whose text holds ``words``: each named invoice paid its open amount less
    the rate written in the text (else one of ``default_rates``), the rest written off when
    ``write_off``.

    ``pending``: transactions with ``t``; ``open_items``: items still open with ``i``; ``hits``:
    references.text_hits of the run (by ``t``); ``payers``: of some transactions, the
    transaction_id, customer_id whom a known IBAN says paid (asked of the few that say
    discount): a number two documents share alike ("2025/466": FA-2025-0466 and LGE-2025-0466)
    names the payer's."""
    empty = pl.DataFrame(schema={**_ALLOC, "t": pl.UInt32, "i": pl.UInt32})
    said = pending.filter(
        pl.col("remittance_unstructured").str.contains(words).fill_null(False)
        & (pl.col("amount_cents") > 0)
    )
    if said.height == 0:
        return empty
    named = invoice_numbers(said, open_items, hits=hits)
    known = payers(said)
    owner = named.join(open_items.select("invoice_id", "customer_id"), on="invoice_id")
    named = pl.concat(
        [
            owner.join(known.select("transaction_id"), on="transaction_id", how="anti").filter(
                ~pl.col("ambiguous").any().over("transaction_id")
            ),
            owner.join(known, on=["transaction_id", "customer_id"]),
        ]
    )
    rows = (
        named.select("transaction_id", "invoice_id")
        .join(said.select("transaction_id", "t", "amount_cents", "currency"), on="transaction_id")
        .join(
            open_items.select(
                "invoice_id", "i", "customer_id", "amount_open_cents", item_currency="currency"
            ),
            on="invoice_id",
        )
        .filter(
            (pl.col("customer_id").n_unique().over("t") == 1)
            & (pl.col("amount_open_cents") > 0).any().over("t")
            & (pl.col("currency") == pl.col("item_currency")).all().over("t")
        )
    )
    if rows.height == 0:
        return empty
    written = (
        said.select(
            "t",
            rate=pl.col("remittance_unstructured")
            .str.extract_all(_PERCENT)
            .list.eval(
                (
                    pl.element()
                    .str.replace("%", "")
                    .str.strip_chars()
                    .str.replace(",", ".")
                    .cast(pl.Float64)
                    * 100
                )
                .round(0)
                .cast(pl.Int64)
            ),
        )
        .explode("rate")
        .drop_nulls("rate")
    )
    rates = (
        pl.concat(
            [
                written,
                said.select("t")
                .join(written, on="t", how="anti")
                .with_columns(rate=pl.lit(list(default_rates), pl.List(pl.Int64)))
                .explode("rate"),
            ]
        )
        .filter((pl.col("rate") > 0) & (pl.col("rate") <= _MAX_RATE))
        .unique()
    )
    # A credit note named is netted whole; the rate applies to invoices.
    share = (
        pl.when(pl.col("amount_open_cents") < 0)
        .then(pl.col("amount_open_cents"))
        .otherwise((pl.col("amount_open_cents") * (10_000 - pl.col("rate")) + 5_000) // 10_000)
    )
    fits = (
        rows.join(rates, on="t")
        .with_columns(pay=share)
        .filter(pl.col("pay").sum().over("t", "rate") == pl.col("amount_cents"))
        .filter(pl.col("rate").n_unique().over("t") == 1)
    )
    base = dict(
        confidence=pl.lit(1.0), reverses_allocation_id=pl.lit(None, pl.String), t="t", i="i"
    )
    payments = fits.select(
        "transaction_id",
        "invoice_id",
        "customer_id",
        amount_cents="pay",
        currency="currency",
        kind=pl.lit("payment"),
        rule=pl.when(pl.len().over("t") > 1)
        .then(pl.lit(Rule.GROUPED_INVOICE_NUMBERS))
        .otherwise(pl.lit(Rule.INVOICE_NUMBER)),
        **base,
    )
    write_offs = fits.filter(
        pl.lit(write_off) & (pl.col("amount_open_cents") > pl.col("pay"))
    ).select(
        "transaction_id",
        "invoice_id",
        "customer_id",
        amount_cents=pl.col("amount_open_cents") - pl.col("pay"),
        currency="currency",
        kind=pl.lit("write_off"),
        rule=pl.lit(Rule.SHORT_PAYMENT_WRITE_OFF),
        **base,
    )
    return pl.concat([payments, write_offs]).select(*_ALLOC, "t", "i").cast(empty.schema)
