"""ERP invoice and customer exports: from raw text columns to typed rows ready for validation.

The input format (documented in the README) is one row per invoice or credit note, the customer
repeated on each row. Credit notes may come signed either way; they are stored negative.
"""

from __future__ import annotations

import polars as pl

from o2c.models.bounds import CONTROL_CHARACTERS_STRICT

# The export contract lives in models/erp.py; its names stay importable from here.
from o2c.models.erp import CUSTOMER_COLUMNS as CUSTOMER_COLUMNS
from o2c.models.erp import CUSTOMER_FROM_INVOICE, INVOICE_TERMS
from o2c.models.erp import CUSTOMER_OPTIONAL as CUSTOMER_OPTIONAL
from o2c.models.erp import CUSTOMER_REQUIRED as CUSTOMER_REQUIRED
from o2c.models.erp import INVOICE_OPTIONAL as INVOICE_OPTIONAL
from o2c.models.erp import INVOICE_REQUIRED as INVOICE_REQUIRED
from o2c.tasks.common.checksums import (
    compact,
    fr_vat_ok,
    iban_ok,
    payment_reference,
    payment_reference_ok,
    siren_ok,
)
from o2c.tasks.erp import dunning_fields as dunning
from o2c.tasks.erp.tabular_files import LINE, parse_amount_cents, parse_date

# Words ERPs use for a credit note, in French and English.
_CREDIT_NOTE_WORDS = ["credit_note", "credit note", "creditnote", "avoir", "credit", "cn", "av"]
_INVOICE_WORDS = ["invoice", "facture", "inv", "fa", "fac"]


def _with_optional(raw: pl.DataFrame, optional: tuple[str, ...]) -> pl.DataFrame:
    missing = [c for c in optional if c not in raw.columns]
    return raw.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)


def _control_character_in(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.Expr:
    """The first of these text fields holding a control character (NUL, another C0 but tab),
    else null: the suites quarantine such a row naming the field, instead of storing the NUL."""
    text = [c for c in columns if c in frame.columns and frame.schema[c] == pl.String]
    flags = [
        pl.when(pl.col(c).str.contains(CONTROL_CHARACTERS_STRICT)).then(pl.lit(c)) for c in text
    ]
    found = pl.coalesce(flags) if flags else pl.lit(None, dtype=pl.String)
    return found.cast(pl.String).alias("control_character_in")


def _dunning_fields(prefix: str) -> list[pl.Expr]:
    """What dunning needs of the customer, typed, and the check columns the suites read.

    `prefix` is "customer_" on an invoice row (its customer_payment_terms ...), "" in the
    customer master; a check column is null when its field is empty, false when unreadable."""
    kind = "customer_kind"
    terms, consent = f"{prefix}payment_terms", f"{prefix}lre_consent_date"
    emails = [f"{prefix}accounting_email", f"{prefix}main_email"]
    return [
        pl.col(terms).str.strip_chars().alias(terms),
        dunning.payment_terms_days(terms).alias(f"{prefix}payment_terms_days"),
        dunning.payment_terms_end_of_month(terms).alias(f"{prefix}payment_terms_end_of_month"),
        *(dunning.email_list(c).alias(c) for c in emails),
        dunning.customer_kind(kind).alias(kind),
        dunning.segment(f"{prefix}segment").alias(f"{prefix}segment"),
        dunning.consent_date(consent).alias(consent),
        dunning.payment_terms_ok(terms).alias(f"{terms}_ok"),
        *(dunning.emails_ok(c).alias(f"{c}_ok") for c in emails),
        dunning.consent_date_ok(consent).alias(f"{consent}_ok"),
        dunning.lre_consent_ok(dunning.customer_kind(kind), dunning.consent_date(consent)).alias(
            "lre_consent_ok"
        ),
    ]


def normalise_invoices(raw: pl.DataFrame) -> pl.DataFrame:
    """Typed invoice rows plus the check columns the invoices suite reads."""
    frame = _with_optional(raw, INVOICE_OPTIONAL)
    doc = pl.col("document_type").str.to_lowercase()
    return (
        frame.select(
            pl.col(LINE),
            pl.col("invoice_id"),
            pl.when(doc.is_null() | doc.is_in(_INVOICE_WORDS))
            .then(pl.lit("invoice"))
            .when(doc.is_in(_CREDIT_NOTE_WORDS))
            .then(pl.lit("credit_note"))
            .otherwise(doc)
            .alias("document_type"),
            pl.col("customer_id"),
            pl.col("customer_name"),
            pl.col("legal_entity"),
            parse_date("issue_date").alias("issue_date"),
            parse_date("due_date").alias("due_date"),
            pl.col("currency").str.to_uppercase().alias("currency"),
            parse_amount_cents("amount_total").alias("amount_total_cents"),
            parse_amount_cents("amount_paid").alias("amount_paid_cents"),
            pl.col("amount_paid").alias("_amount_paid_text"),
            pl.col("status").str.to_lowercase().alias("status"),
            payment_reference(pl.col("reference")).alias("reference"),
            pl.col("po_number"),
            pl.col("customer_email").str.to_lowercase().alias("customer_email"),
            compact(pl.col("customer_iban")).alias("customer_iban"),
            compact(pl.col("customer_siren")).alias("customer_siren"),
            compact(pl.col("customer_vat")).alias("customer_vat"),
            pl.col("language").str.to_lowercase().alias("language"),
            pl.col("customer_address_line1"),
            pl.col("customer_address_line2"),
            pl.col("customer_postal_code"),
            pl.col("customer_city"),
            pl.col("customer_country"),
            *_dunning_fields("customer_"),
            iban_ok(pl.col("customer_iban")).alias("customer_iban_checksum_ok"),
            payment_reference_ok(pl.col("reference")).alias("reference_checksum_ok"),
            siren_ok(pl.col("customer_siren")).alias("customer_siren_checksum_ok"),
            fr_vat_ok(pl.col("customer_vat")).alias("customer_vat_checksum_ok"),
            _control_character_in(frame, (*INVOICE_REQUIRED, *INVOICE_OPTIONAL)),
        )
        .with_columns(
            amount_paid_ok=pl.col("_amount_paid_text").is_null()
            | pl.col("amount_paid_cents").is_not_null()
        )
        .drop("_amount_paid_text")
    )


def stored_invoices(valid: pl.DataFrame) -> pl.DataFrame:
    """Validated rows as the invoices table holds them: credit notes negative, whatever the sign."""
    return valid.select(
        "invoice_id",
        *INVOICE_TERMS,
        pl.when(pl.col("document_type") == "credit_note")
        .then(-pl.col("amount_total_cents").abs())
        .otherwise(pl.col("amount_total_cents"))
        .alias("amount_total_cents"),
        pl.col("amount_paid_cents"),
        pl.col("status").alias("status_erp"),
        "reference",
        "po_number",
    )


def customers_from_invoices(valid: pl.DataFrame) -> pl.DataFrame:
    """The customer as the invoice rows describe it: per field, the latest value given."""
    return (
        valid.sort(["issue_date", LINE])
        .group_by("customer_id")
        .agg(pl.all().drop_nulls().last())
        .select(
            "customer_id",
            *(pl.col(source).alias(name) for name, source in CUSTOMER_FROM_INVOICE.items()),
        )
        .sort("customer_id")
    )


def normalise_customers(raw: pl.DataFrame) -> pl.DataFrame:
    """Typed customer rows plus the check columns the customers suite reads."""
    frame = _with_optional(raw, CUSTOMER_OPTIONAL)
    return frame.select(
        pl.col(LINE),
        "customer_id",
        "name",
        pl.col("email").str.to_lowercase(),
        compact(pl.col("iban")).alias("iban"),
        compact(pl.col("siren")).alias("siren"),
        compact(pl.col("vat_number")).alias("vat_number"),
        pl.col("language").str.to_lowercase(),
        "legal_entity",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "country",
        *_dunning_fields(""),
        dunning.has_dunning_email(
            *(pl.col(c) for c in ("accounting_email", "main_email", "email"))
        ).alias("has_dunning_email"),
        iban_ok(pl.col("iban")).alias("iban_checksum_ok"),
        siren_ok(pl.col("siren")).alias("siren_checksum_ok"),
        fr_vat_ok(pl.col("vat_number")).alias("vat_number_checksum_ok"),
        _control_character_in(frame, (*CUSTOMER_REQUIRED, *CUSTOMER_OPTIONAL)),
    )
