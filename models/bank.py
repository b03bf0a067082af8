"""Typed rows of a bank statement, as every parser (file or Open Banking) gives the loader."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(slots=True)
class StatementLine:
    """One transaction; a batch entry with several details gives one line per detail."""

    booking_date: date
    amount: Decimal  # signed: credit > 0, debit < 0
    currency: str
    value_date: date | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    remittance_unstructured: str | None = None
    remittance_structured: str | None = None  # RF / creditor reference
    end_to_end_id: str | None = None
    bank_reference: str | None = None  # AcctSvcrRef, MT940 ref after '//', CFONB reference zone
    bank_tx_code: str | None = None
    is_reversal: bool = False
    entry_ref: str | None = None  # the entry this line belongs to
    detail_index: int = 0  # 0 for a plain entry, 1..n for the details of a batch entry
    external_id: str | None = None  # provider id (Open Banking)


@dataclass(slots=True)
class Statement:
    """One statement (a file may hold several) with the balances that frame it."""

    format: str  # camt.053 | camt.052 | camt.054 | mt940 | cfonb120 | ofx | csv
    account_iban: str | None
    currency: str | None
    statement_ref: str | None
    from_date: date | None
    to_date: date | None
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    lines: list[StatementLine] = field(default_factory=list)
    # Sum of the entries as booked (batch entries counted once), for the balance check.
    entries_total: Decimal | None = None
    entry_count: int = 0
