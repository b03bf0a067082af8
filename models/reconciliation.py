"""The reconciliation rules: the name each allocation records, and what it means to finance.

Allocations store the rule's name (allocations.rule); the run's artifact shows its label. Both
live here so a rule cannot be renamed in one module and forgotten in another.
"""

from __future__ import annotations

from enum import StrEnum


class Rule(StrEnum):
    """A rule of the cascade, in its order; `label` is what a credit controller reads."""

    label: str

    def __new__(cls, value: str, label: str) -> Rule:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    REMITTANCE_DOCUMENTS = (
        "remittance_documents",
        "documents and amounts listed in the structured remittance",
    )
    STRUCTURED_REFERENCE = ("structured_reference", "RF reference or end-to-end id")
    INVOICE_NUMBER = ("invoice_number", "invoice number in the remittance text")
    GROUPED_INVOICE_NUMBERS = ("grouped_invoice_numbers", "several invoice numbers in one transfer")
    INVOICE_NUMBER_FUZZY = ("invoice_number_fuzzy", "invoice number with one typo or truncated")
    PAYER_IBAN_AMOUNT = ("payer_iban_amount", "payer IBAN + exact amount")
    PAYER_IBAN_AMOUNT_SET = ("payer_iban_amount_set", "payer IBAN + sum of several invoices")
    PAYER_NAME_AMOUNT = ("payer_name_amount", "payer name + exact amount")
    PAYER_NAME_AMOUNT_SET = ("payer_name_amount_set", "payer name + sum of several invoices")
    STATEMENT_OF_ACCOUNT = (
        "statement_of_account",
        "the payer's documents of the month its statement payment names",
    )
    SHORT_PAYMENT_WRITE_OFF = (
        "short_payment_write_off",
        "short payment within tolerance (bank charges)",
    )
    CASH_DISCOUNT = ("cash_discount", "cash discount the payer stated, written off")
    OVERPAYMENT_CREDIT = ("overpayment_credit", "overpayment kept as customer credit")
    REVERSAL = ("reversal", "reversal of an earlier payment")
    MANUAL = ("manual", "finance's decision")
