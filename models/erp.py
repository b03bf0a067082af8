"""The ERP export contract: which columns an invoice or customer master export has, in order.

Defined once so that the loader (tasks/erp/normalise.py) and the demo company that writes such
exports (tasks/demo/company.py) cannot drift apart; the README's "Invoice export format" table
describes the same columns for people.

What dunning needs of a customer (payment terms, contacts by role, language, business or
consumer, segment, consent to registered e-mail) travels as columns of the same one-row-per-
customer export, not as a contacts file: an ERP adds columns to an export it already has more
easily than it produces a second file, the load stays one file per customer with one line
number to name in a rejection, and the roles are a short fixed list (models.dunning.ContactRole),
each column holding one or more addresses separated by `,` or `;`. Every one of them is optional:
an export without them loads as before (README, "Invoice export format", says the defaults).
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
# What dunning needs of the customer, optional on an invoice row (the demo's invoices leave it to
# the customer master): same meaning as CUSTOMER_DUNNING.
INVOICE_DUNNING: tuple[str, ...] = (
    "customer_payment_terms",
    "customer_accounting_email",
    "customer_main_email",
    "customer_kind",
    "customer_segment",
    "customer_lre_consent_date",
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
    *INVOICE_DUNNING,
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
# What dunning needs of a customer:
# - payment_terms: "30 jours", "net 60", "45 jours fin de mois", "eom45", "comptant" ...;
# - accounting_email, main_email: the dunning contacts by role (models.dunning.ContactRole),
#   one or more addresses each; reminders go to accounting first. `email` (the invoicing address)
#   stands in as the main contact when neither is given;
# - customer_kind: business (the default) or consumer (b2b/b2c, professionnel/particulier too);
# - segment: the dunning policy's segment (an unknown or empty one is the policy's default);
# - lre_consent_date: the day a consumer agreed to registered e-mail (LRE); none, no consent.
CUSTOMER_DUNNING: tuple[str, ...] = (
    "payment_terms",
    "accounting_email",
    "main_email",
    "customer_kind",
    "segment",
    "lre_consent_date",
)
CUSTOMER_OPTIONAL: tuple[str, ...] = (
    "email",
    "iban",
    "siren",
    "vat_number",
    "language",
    "legal_entity",
    *CUSTOMER_ADDRESS,
    *CUSTOMER_DUNNING,
)
CUSTOMER_COLUMNS: tuple[str, ...] = (*CUSTOMER_REQUIRED, *CUSTOMER_OPTIONAL)
# Payment terms as the loader reads them (tasks/erp/normalise.py): days, and whether they run
# to the end of the month first ("45 jours fin de mois").
CUSTOMER_TERMS_PARSED: tuple[str, ...] = ("payment_terms_days", "payment_terms_end_of_month")
# The customers table's columns that come from the ERP (what a load writes).
CUSTOMER_STORED: tuple[str, ...] = (*CUSTOMER_COLUMNS, *CUSTOMER_TERMS_PARSED)

# The customer as an invoice row describes it: customers-table column <- normalised invoice column
# (the export's column, or what the loader reads out of it).
CUSTOMER_FROM_INVOICE: dict[str, str] = {
    "name": "customer_name",
    "email": "customer_email",
    "iban": "customer_iban",
    "siren": "customer_siren",
    "vat_number": "customer_vat",
    "language": "language",
    "legal_entity": "legal_entity",
    **dict(zip(CUSTOMER_ADDRESS, INVOICE_ADDRESS, strict=True)),
    **dict(zip(CUSTOMER_DUNNING, INVOICE_DUNNING, strict=True)),
    **{c: f"customer_{c}" for c in CUSTOMER_TERMS_PARSED},
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
