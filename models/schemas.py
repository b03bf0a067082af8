"""Polars schemas of the frames that travel between tasks: the contracts between modules.

Money inside Polars is integer cents (Int64): exact, and fast to sum and join. It becomes
DECIMAL(18,2) again at the warehouse boundary (see o2c.warehouse and the loaders).
"""

from __future__ import annotations

import polars as pl

# One invoice or credit note after reading and normalising an ERP export (before validation).
INVOICE = {
    "invoice_id": pl.String,
    "document_type": pl.String,  # invoice | credit_note
    "customer_id": pl.String,
    "customer_name": pl.String,
    "legal_entity": pl.String,
    "issue_date": pl.Date,
    "due_date": pl.Date,
    "currency": pl.String,
    "amount_total_cents": pl.Int64,  # signed: credit notes < 0
    "amount_paid_cents": pl.Int64,
    "status": pl.String,
    "reference": pl.String,  # ISO 11649 RF, or Belgian OGM as +++123/4567/89012+++
    "po_number": pl.String,
}

# A document the payer names in a transfer's structured remittance (camt RmtInf/Strd/RfrdDocInf,
# or a list the parser reads out of the text): what it is and how much of the transfer pays it.
# amount_cents is in the transaction's currency, negative for a credit note the payer nets, null
# when the payer gave no amount. Payers who list documents with amounts give an instruction, not
# a hint: matching follows it.
REMITTANCE_DOCUMENT = pl.Struct(
    {
        "doc_number": pl.String,
        "doc_type": pl.String,  # ISO code as sent (CINV, CREN, DEBN, ...), or null
        "doc_date": pl.Date,
        "amount_cents": pl.Int64,
        "adjustment_cents": pl.Int64,  # taken off by the payer (> 0), for adjustment_reason
        "adjustment_reason": pl.String,
    }
)
REMITTANCE_DOCUMENTS = pl.List(REMITTANCE_DOCUMENT)

# One bank transaction row as parsers produce it and bank_transactions stores it.
BANK_TRANSACTION = {
    "transaction_id": pl.String,
    "account_iban": pl.String,
    "currency": pl.String,
    "booking_date": pl.Date,
    "value_date": pl.Date,
    "amount_cents": pl.Int64,  # signed: credit > 0
    "counterparty_name": pl.String,
    "counterparty_iban": pl.String,
    "remittance_unstructured": pl.String,
    "remittance_structured": pl.String,
    "end_to_end_id": pl.String,
    "bank_reference": pl.String,
    "bank_tx_code": pl.String,
    "is_reversal": pl.Boolean,
    "remittance_documents": REMITTANCE_DOCUMENTS,
}
# Columns a frame of transactions may leave out (they are then null): older callers and tests.
BANK_TRANSACTION_OPTIONAL = ("remittance_documents",)


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], what: str) -> pl.DataFrame:
    """`frame` with `schema`'s columns cast to their types (optional ones added as null); other
    columns kept. A missing column is an error naming `what` and the columns."""
    absent = [c for c in BANK_TRANSACTION_OPTIONAL if c in schema and c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, schema[c]).alias(c) for c in absent)
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {', '.join(missing)}")
    return frame.with_columns(pl.col(c).cast(t) for c, t in schema.items())


# A statement's lines, columnar: what parsers of big files give the loader (models.bank.Statement).
# The same facts as a stored transaction, before the loader adds the account and the key.
STATEMENT_LINE = {
    **{c: t for c, t in BANK_TRANSACTION.items() if c not in ("transaction_id", "account_iban")},
    "entry_ref": pl.String,
    "detail_index": pl.Int32,
    "external_id": pl.String,
}

# What reconciliation and aging read: an invoice with what is still open on it.
OPEN_ITEM = {
    "invoice_id": pl.String,
    "document_type": pl.String,
    "customer_id": pl.String,
    "legal_entity": pl.String,
    "issue_date": pl.Date,
    "due_date": pl.Date,
    "currency": pl.String,
    "amount_total_cents": pl.Int64,
    "amount_open_cents": pl.Int64,
    "reference": pl.String,
}

# What reconciliation also reads of an item when the frame has it (absent: none known): the
# buyer's order, pro forma or engagement number the invoice carries (invoices.po_number).
# Aging and dunning never read it; OPEN_ITEM stays what they read.
OPEN_ITEM_ORDER = {"po_number": pl.String}

CUSTOMER = {
    "customer_id": pl.String,
    "name": pl.String,
    "iban": pl.String,
}

# A payer known to pay for a customer (its own IBAN, or learned from finance's decisions).
PAYER_ALIAS = {
    "customer_id": pl.String,
    "payer_iban": pl.String,
    "payer_name": pl.String,
}

ALLOCATION = {
    "allocation_id": pl.String,
    "transaction_id": pl.String,
    "invoice_id": pl.String,  # null for an unapplied customer credit
    "customer_id": pl.String,
    "amount_cents": pl.Int64,
    "currency": pl.String,
    "kind": pl.String,  # payment | write_off | unapplied_credit | reversal
    "rule": pl.String,
    "confidence": pl.Float64,
    "reverses_allocation_id": pl.String,
}

# An allocation's money: how much of a transfer goes to which customer's item (the columns of
# ALLOCATION between its id and how it was decided).
ALLOCATION_MONEY = ("transaction_id", "invoice_id", "customer_id", "amount_cents", "currency")

RECONCILIATION_EXCEPTION = {
    "transaction_id": pl.String,
    "reason": pl.String,
    # JSON list, best first, of {"invoice_ids": [...], "amount_cents": n (what it would allocate),
    # "rule": r, "score": s, "amounts_cents": [per invoice], "why": [what points to it]}
    # (tasks/reconciliation/evidence.py); finance decides with "candidate N" (1-based)
    "candidates": pl.String,
}
