"""The ERP export contract: which columns an invoice or customer master export has, in order.

Defined once so that the loader (tasks/erp/normalise.py) and the demo company that writes such
exports (tasks/demo/company.py) cannot drift apart; the README's "Invoice export format" table
describes the same columns for people.
"""

from __future__ import annotations

# Invoice export: one row per invoice or credit note, the customer repeated on each row.
INVOICE_REQUIRED: tuple[str, ...] = (
    "invoice_id",
    "customer_id",
    "customer_name",
    "issue_date",
    "due_date",
    "currency",
    "amount_total",
)
# The customer's postal address, optional on an invoice row (the demo's invoices leave it out).
INVOICE_ADDRESS: tuple[str, ...] = (
    "customer_address_line1",
    "customer_address_line2",
    "customer_postal_code",
    "customer_city",
    "customer_country",
)
INVOICE_OPTIONAL: tuple[str, ...] = (
    "document_type",
    "customer_email",
    "customer_iban",
    "customer_siren",
    "customer_vat",
    "language",
    "reference",
    "amount_paid",
    "status",
    "po_number",
    "legal_entity",
    *INVOICE_ADDRESS,
)
# Every invoice column, in the order an export writes them.
INVOICE_COLUMNS: tuple[str, ...] = (*INVOICE_REQUIRED, *INVOICE_OPTIONAL)

# Customer master export, also the columns of the customers table that come from the ERP.
CUSTOMER_REQUIRED: tuple[str, ...] = ("customer_id", "name")
# Its postal address (what an invoice row carries as INVOICE_ADDRESS).
CUSTOMER_ADDRESS: tuple[str, ...] = (
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
)
CUSTOMER_OPTIONAL: tuple[str, ...] = (
    "email",
    "iban",
    "siren",
    "vat_number",
    "language",
    "legal_entity",
    *CUSTOMER_ADDRESS,
)
CUSTOMER_COLUMNS: tuple[str, ...] = (*CUSTOMER_REQUIRED, *CUSTOMER_OPTIONAL)

# The customer as an invoice row describes it: customers-table column <- invoice export column.
CUSTOMER_FROM_INVOICE: dict[str, str] = {
    "name": "customer_name",
    "email": "customer_email",
    "iban": "customer_iban",
    "siren": "customer_siren",
    "vat_number": "customer_vat",
    "language": "language",
    "legal_entity": "legal_entity",
    **dict(zip(CUSTOMER_ADDRESS, INVOICE_ADDRESS, strict=True)),
}

# What an invoice is, whom it bills, when it falls due, in which currency: the stored invoice's
# fields after its id and before its amounts.
INVOICE_TERMS: tuple[str, ...] = (
    "document_type",
    "customer_id",
    "legal_entity",
    "issue_date",
    "due_date",
    "currency",
)
# Fields of a stored invoice (table `invoices`) that a newer export may change; each change is
# recorded in invoice_changes.
INVOICE_TRACKED: tuple[str, ...] = (
    *INVOICE_TERMS,
    "amount_total",
    "amount_paid_erp",
    "status_erp",
    "reference",
    "po_number",
)
