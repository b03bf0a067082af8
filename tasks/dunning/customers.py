"""Whom a reminder goes to, in which language, under which rules: the customer as dunning sees it.

The ERP's customer master (sql/001, sql/012) says it field by field; the plan wants one row per
customer with the recipients in the order they are written to. The defaults an export without
these fields gets are decided here, once (the README's "Invoice export format" says them):
- recipients: the accounting contacts, then the main ones (models.dunning.ContactRole); the
  invoicing `email` stands in as the main contact when neither role has an address;
- language: the customer's (fr | en), else the company's (O2C_LANGUAGE);
- kind: business unless the export says consumer;
- segment: as given (the policy treats an unknown or empty one as its `default`);
- lre_consent: a business may be sent registered e-mail; a consumer only with a consent date.
"""

from __future__ import annotations

import duckdb
import polars as pl

from o2c.models.dunning import DUNNING_CONTACT, CustomerKind
from o2c.tasks.common.language import company_language
from o2c.tasks.erp.dunning_fields import EMAIL_JOIN

_QUERY = """
    SELECT customer_id, name, language, customer_kind, segment, accounting_email, main_email,
           email, address_line1, address_line2, postal_code, city, country, lre_consent_date,
           payment_terms_days, payment_terms_end_of_month
    FROM customers ORDER BY customer_id
"""


def _addresses(column: str) -> pl.Expr:
    return (
        pl.col(column)
        .str.split(EMAIL_JOIN.strip())
        .list.eval(pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != ""))
        .fill_null(pl.lit([], pl.List(pl.String)))
    )


def contacts_from(customers: pl.DataFrame, default_language: str) -> pl.DataFrame:
    """DUNNING_CONTACT rows from customers-table rows (see the module docstring for defaults)."""
    accounting, main = _addresses("accounting_email"), _addresses("main_email")
    invoicing = _addresses("email")
    named = pl.concat_list(accounting, main)
    kind = pl.col("customer_kind").fill_null(CustomerKind.BUSINESS.value)
    return customers.with_columns(
        language=pl.col("language").fill_null(default_language),
        customer_kind=kind,
        emails=pl.when(named.list.len() > 0)
        .then(named)
        .otherwise(invoicing)
        .list.eval(pl.element().str.to_lowercase())
        .list.unique(maintain_order=True),
        lre_consent=(kind == CustomerKind.BUSINESS.value)
        | pl.col("lre_consent_date").is_not_null(),
    ).select([pl.col(c).cast(t) for c, t in DUNNING_CONTACT.items()])


def dunning_contacts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """DUNNING_CONTACT rows of every customer in the warehouse, for the plan and the letters."""
    return contacts_from(con.sql(_QUERY).pl(), company_language())
