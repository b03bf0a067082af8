"""Payment "selon relevé": a trade customer pays the month's statement of account as one sum
("REGLT RELEVE FIN SEPTEMBRE 2025", "SELON RELEVE DU 31/10/25", "PAIEMENT RELEVE 10-25"). The
text names no document, but it names a month: the payer's documents issued in that month are
what it pays, all of them or the one subset of them that makes the amount. Two subsets are
finance's question; an unknown payer or a month read nowhere leaves the line to the rules that
follow (payer and amount)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from o2c.models.reconciliation import Rule
from o2c.tasks.reconciliation.config import ReconciliationConfig
from o2c.tasks.reconciliation.exceptions import RECONCILIATION_EXCEPTION
from o2c.tasks.reconciliation.payers import payers_by_iban, payers_by_name
from o2c.tasks.reconciliation.purchase_orders import listed_sets, subsets_of
from o2c.tasks.reconciliation.references import CANDIDATE

# The word: relevé (de compte / de factures), estado de cuenta, extracto, statement (of account).
_STATEMENT = r"\b(?:RELEVE|RELEV|REL\.|ESTADO DE CUENTA|EXTRACTO|STATEMENT|KONTOAUSZUG)\b"
_MONTHS = {
    "JANVIER": 1, "FEVRIER": 2, "MARS": 3, "AVRIL": 4, "MAI": 5, "JUIN": 6, "JUILLET": 7,
    "AOUT": 8, "SEPTEMBRE": 9, "OCTOBRE": 10, "NOVEMBRE": 11, "DECEMBRE": 12,
    "JANUARY": 1, "FEBRUARY": 2, "MARCH": 3, "APRIL": 4, "MAY": 5, "JUNE": 6, "JULY": 7,
    "AUGUST": 8, "SEPTEMBER": 9, "OCTOBER": 10, "NOVEMBER": 11, "DECEMBER": 12,
    "ENERO": 1, "FEBRERO": 2, "MARZO": 3, "ABRIL": 4, "MAYO": 5, "JUNIO": 6, "JULIO": 7,
    "AGOSTO": 8, "SEPTIEMBRE": 9, "OCTUBRE": 10, "NOVIEMBRE": 11, "DICIEMBRE": 12,
    "JANV": 1, "FEV": 2, "AVR": 4, "JUIL": 7, "SEPT": 9, "OCT": 10, "NOV": 11, "DEC": 12,
}  # fmt: skip
_MONTH_WORD = "|".join(sorted(_MONTHS, key=len, reverse=True))
# "JUIN 2025", "FIN SEPTEMBRE 2025"; "31/10/25", "31.10.2025"; "10-25", "10/2025".
_BY_NAME = rf"\b({_MONTH_WORD})\b\.?\s*((?:20)?[0-9]{{2}})?\b"
_BY_DATE = r"\b(?:[0-3]?[0-9])[/.\-](0?[1-9]|1[0-2])[/.\-]((?:20)?[0-9]{2})\b"
_BY_MONTH = r"\b(0?[1-9]|1[0-2])[/\-]((?:20)?[0-9]{2})\b"
# At most this many documents of one month are searched for the subset (2^n sums).
MAX_MONTH_DOCUMENTS = 16


def statement_months(texts: pl.DataFrame) -> pl.DataFrame:
    """transaction_id, month (the first day of the month the statement is for) of each text
    ``remittance_unstructured`` that speaks of a statement of account and names a month. A month
    without its year is the latest one on or before the booking date."""
    text = (
        pl.col("remittance_unstructured")
        .fill_null("")
        .str.normalize("NFKD")
        .str.replace_all(r"[^\x00-\x7F]", "")
        .str.to_uppercase()
    )
    said = texts.select("transaction_id", "booking_date", text=text).filter(
        pl.col("text").str.contains(_STATEMENT)
    )
    if said.height == 0:
        return pl.DataFrame(schema={"transaction_id": pl.String, "month": pl.Date})
    by_name = pl.col("text").str.extract_groups(_BY_NAME)
    by_date = pl.col("text").str.extract_groups(_BY_DATE)
    by_month = pl.col("text").str.extract_groups(_BY_MONTH)
    parts = said.select(
        "transaction_id",
        "booking_date",
        month=pl.coalesce(
            by_name.struct.field("1").replace_strict(_MONTHS, default=None, return_dtype=pl.Int32),
            by_date.struct.field("1").cast(pl.Int32),
            by_month.struct.field("1").cast(pl.Int32),
        ),
        year=pl.coalesce(
            pl.when(by_name.struct.field("1").is_not_null()).then(by_name.struct.field("2")),
            by_date.struct.field("2"),
            by_month.struct.field("2"),
        ).cast(pl.Int32),
    ).filter(pl.col("month").is_not_null())
    year = (
        pl.when(pl.col("year").is_null())
        .then(
            pl.col("booking_date").dt.year()
            - (pl.col("month") > pl.col("booking_date").dt.month()).cast(pl.Int32)
        )
        .when(pl.col("year") < 100)
        .then(pl.col("year") + 2000)
        .otherwise(pl.col("year"))
    )
    return parts.select("transaction_id", month=pl.date(year, pl.col("month"), 1)).filter(
        pl.col("month") <= pl.lit(date.max)
    )


def statement_rule_for(
    customers: pl.DataFrame,
    aliases: pl.DataFrame,
    config: ReconciliationConfig,
    settled_later: Callable[[pl.Series], pl.DataFrame],
) -> Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]:
    """The cascade's rule: claims and exceptions, as the other rules give. Documents a transfer
    booked later paid in this run count as open then (``settled_later``, the engine's
    _Run.settled): a subset that needs one is left to finance."""

    def rule(todo: pl.DataFrame, open_items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        none = pl.DataFrame(schema=CANDIDATE)
        months = statement_months(todo)
        if months.height == 0:
            return none, pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
        said = todo.join(months, on="transaction_id")
        by_iban = payers_by_iban(said, customers, aliases)
        by_name, _ = payers_by_name(
            said.join(by_iban, on="transaction_id", how="anti"), customers, aliases, config
        )
        payers = pl.concat([by_iban, by_name.select("transaction_id", "customer_id")])
        payers = payers.filter(pl.len().over("transaction_id") == 1)
        cols = ["invoice_id", "customer_id", "amount_open_cents", "issue_date", "currency"]
        now = open_items.select(*cols).with_columns(paid_later=pl.lit(False))
        later = (
            settled_later(payers["customer_id"].unique())
            .select(*cols, "alloc_t")
            .join(now.select("invoice_id"), on="invoice_id", how="anti")
        )
        docs = (
            said.select("transaction_id", "t", "amount_cents", "currency", "month")
            .join(payers, on="transaction_id")
            .join(
                pl.concat(
                    [
                        now.with_columns(alloc_t=pl.lit(None, pl.UInt32)),
                        later.with_columns(paid_later=pl.lit(True)).cast({"alloc_t": pl.UInt32}),
                    ],
                    how="diagonal_relaxed",
                ),
                on=["customer_id", "currency"],
            )
            .filter(pl.col("issue_date").dt.truncate("1mo") == pl.col("month"))
            .filter(~pl.col("paid_later") | (pl.col("alloc_t") > pl.col("t")))
            .filter(pl.len().over("transaction_id") <= MAX_MONTH_DOCUMENTS)
        )
        claims, listed = [], []
        for (tid,), month_docs in docs.group_by(["transaction_id"], maintain_order=True):
            month_docs = month_docs.sort("issue_date", "invoice_id")
            ids, cents = (
                month_docs["invoice_id"].to_list(),
                month_docs["amount_open_cents"].to_list(),
            )
            later_ids = set(month_docs.filter("paid_later")["invoice_id"].to_list())
            fits = subsets_of(ids, cents, int(month_docs["amount_cents"][0]), 0)
            if len(fits) == 1 and not later_ids.intersection(fits[0]):
                claims += [(tid, x) for x in fits[0]]
            elif len(fits) > 1:
                listed += [(tid, list(f), sum(cents[ids.index(x)] for x in f), 0.9) for f in fits]
        found = pl.DataFrame(
            claims, schema={"transaction_id": pl.String, "invoice_id": pl.String}, orient="row"
        ).select(
            "transaction_id",
            "invoice_id",
            rule=pl.lit(Rule.STATEMENT_OF_ACCOUNT),
            confidence=pl.lit(0.9),
        )
        return found.cast(CANDIDATE), listed_sets(listed)

    return rule
