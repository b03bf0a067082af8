"""Reading what dunning needs out of an ERP export's text: terms, contacts, kind, consent.

ERPs write these fields in many ways ("45 jours fin de mois", "EOM 45", "net30"; two addresses in
one cell; "particulier" for a consumer). Each reader is a Polars expression over the raw column,
giving the typed value or null, and a check column the suites read: null when the field is
empty (allowed), false when it holds something that cannot be read, so the row is quarantined
naming the field instead of failing later in the dunning plan.
"""

from __future__ import annotations

import polars as pl

from o2c.models.dunning import CustomerKind
from o2c.tasks.erp.tabular_files import parse_date

# One address, as the suites already check customer_email.
EMAIL_PATTERN = r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$"
_EMAIL_SEPARATORS = r"[,;\s]+"
EMAIL_JOIN = ", "  # how a list of addresses is stored (customers.accounting_email, main_email)

_CASH = (
    r"^(?:comptant|au comptant|cash|immediate|immédiat|à réception|a reception|on receipt"
    r"|due on receipt)$"
)
_END_OF_MONTH = r"fin de mois|end of (?:the )?month|\beom|\bfdm\b|\bfm\b"
# Words around the number of days that say nothing more ("à 30 jours nets date de facture").
_FILLER = (
    r"date de facture|(?:from )?invoice date|\bnets?|j(?:ours?)?\b|d(?:ays?)?\b|\bà\b|\ba\b"
    r"|\ble\b|\bthe\b|[,.+]"
)
MAX_TERMS_DAYS = 365

_KIND_WORDS = {
    CustomerKind.BUSINESS.value: ["business", "b2b", "professionnel", "professional", "pro",
                                  "entreprise", "company"],
    CustomerKind.CONSUMER.value: ["consumer", "b2c", "particulier", "individual", "private",
                                  "consommateur"],
}  # fmt: skip


def _terms_text(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase().str.strip_chars().str.replace_all(r"\s+", " ")


def payment_terms_end_of_month(column: str) -> pl.Expr:
    """True for terms that run to the end of the month ("45 jours fin de mois"), else false."""
    text = _terms_text(column)
    empty = text.is_null() | (text == "")
    return pl.when(empty).then(None).otherwise(text.str.contains(_END_OF_MONTH))


def payment_terms_days(column: str) -> pl.Expr:
    """The days of the terms (0 for cash), null when empty or not understood."""
    text = _terms_text(column)
    rest = (
        text.str.replace_all(_END_OF_MONTH, " ")
        .str.replace_all(_FILLER, " ")
        .str.replace_all(r"\s+", "")
    )
    days = rest.str.extract(r"^(\d{1,3})$").cast(pl.Int32, strict=False)
    return (
        pl.when(text.str.contains(_CASH))
        .then(pl.lit(0, pl.Int32))
        .when(days <= MAX_TERMS_DAYS)
        .then(days)
        .otherwise(pl.lit(None, pl.Int32))
    )


def payment_terms_ok(column: str) -> pl.Expr:
    """Null when no terms are given; else whether they were understood."""
    text = _terms_text(column)
    return (
        pl.when(text.is_null() | (text == ""))
        .then(None)
        .otherwise(payment_terms_days(column).is_not_null())
    )


def email_list(column: str) -> pl.Expr:
    """One or more addresses in a cell, lowercased, separated by ', ' (null when none)."""
    items = pl.col(column).str.to_lowercase().str.extract_all(r"[^,;\s]+")
    joined = items.list.unique(maintain_order=True).list.join(EMAIL_JOIN)
    return pl.when(joined == "").then(None).otherwise(joined)


def emails_ok(column: str) -> pl.Expr:
    """Null when the cell is empty; else whether every address in it is an email address."""
    items = pl.col(column).str.extract_all(r"[^,;\s]+")
    good = items.list.eval(pl.element().str.contains(EMAIL_PATTERN)).list.all()
    return pl.when(items.list.len().fill_null(0) == 0).then(None).otherwise(good)


def customer_kind(column: str) -> pl.Expr:
    """business | consumer from the words ERPs use; other text lowercased (the suite rejects it)."""
    text = pl.col(column).str.to_lowercase().str.strip_chars()
    expr = pl.when(text.is_null() | (text == "")).then(pl.lit(None, pl.String))
    for kind, words in _KIND_WORDS.items():
        expr = expr.when(text.is_in(words)).then(pl.lit(kind))
    return expr.otherwise(text)


def segment(column: str) -> pl.Expr:
    """The dunning segment, trimmed and lowercased as policy files name them (null when empty)."""
    text = pl.col(column).str.strip_chars().str.to_lowercase()
    return pl.when(text == "").then(None).otherwise(text)


def consent_date(column: str) -> pl.Expr:
    return parse_date(column)


def consent_date_ok(column: str) -> pl.Expr:
    """Null when no date is given; else whether it reads as a date."""
    text = pl.col(column).str.strip_chars()
    return (
        pl.when(text.is_null() | (text == ""))
        .then(None)
        .otherwise(parse_date(column).is_not_null())
    )


def lre_consent_ok(kind: pl.Expr, consent: pl.Expr) -> pl.Expr:
    """False for a consumer with no consent to registered e-mail: loaded, with a warning (a
    formal notice to that customer must go by post)."""
    return ~((kind == CustomerKind.CONSUMER.value) & consent.is_null())


def has_dunning_email(*emails: pl.Expr) -> pl.Expr:
    """Whether any address is there to send a reminder to (a warning when none is)."""
    return pl.any_horizontal([e.is_not_null() for e in emails])
