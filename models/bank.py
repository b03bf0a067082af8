"""Typed rows of a bank statement, as every parser (file or Open Banking) gives the loader.

A statement's lines come in one of two shapes: `lines`, a list of StatementLine, from the parsers
that read a file entry by entry; or `table`, a Polars frame (models.schemas.STATEMENT_LINE, money
in cents), from the columnar readers of big files, where an object per entry would cost more than
the parsing itself. Read them through `line_table()`, `line_rows()` and `line_count()`, which
serve either shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypedDict

import polars as pl

from o2c.models.schemas import STATEMENT_LINE


class RemittanceDocument(TypedDict):
    """One document a transfer names (models.schemas.REMITTANCE_DOCUMENT)."""

    doc_number: str | None
    doc_type: str | None
    doc_date: date | None
    amount_cents: int | None  # in the line's currency; < 0 for a netted credit note
    # What the payer took off what it owes on the document for a reason of its own (a penalty, a
    # damaged delivery: camt `AdjstmntAmtAndRsn`), > 0 when taken off, and that reason.
    adjustment_cents: int | None
    adjustment_reason: str | None


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
    remittance_documents: list[RemittanceDocument] | None = None  # structured remittance


class SubCentAmountError(ValueError):
    """An amount below the cent: the warehouse keeps cents, so the statement cannot be stored."""


def to_cents(amount: Decimal, where: str = "") -> int:
    """Exact cents of an amount, or SubCentAmountError (never a rounding)."""
    scaled = amount.scaleb(2)
    cents = int(scaled)
    if cents != scaled:
        raise SubCentAmountError(f"{where}amount {amount} has a fraction of a cent")
    return cents


_TEXT_FIELDS = [name for name, dtype in STATEMENT_LINE.items() if dtype == pl.String]


def lines_table(lines: list[StatementLine]) -> pl.DataFrame:
    """The columnar shape of row-built lines (amounts to exact cents)."""
    columns: dict[str, list] = {name: [] for name in STATEMENT_LINE}
    for line in lines:
        columns["amount_cents"].append(to_cents(line.amount, f"{line.booking_date}: "))
        columns["booking_date"].append(line.booking_date)
        columns["value_date"].append(line.value_date)
        columns["is_reversal"].append(line.is_reversal)
        columns["detail_index"].append(line.detail_index)
        columns["remittance_documents"].append(line.remittance_documents)
        for name in _TEXT_FIELDS:
            columns[name].append(getattr(line, name))
    return pl.DataFrame(columns, schema=STATEMENT_LINE)


@dataclass(slots=True)
class Statement:
    """One statement (a file may hold several) with the balances that frame it."""

    format: str  # camt.053 | camt.052 | camt.054 | mt940 | mt942 | cfonb120 | ofx | csv
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
    # The lines as a frame (STATEMENT_LINE), set by columnar readers instead of `lines`.
    table: pl.DataFrame | None = None

    def line_table(self) -> pl.DataFrame:
        return self.table if self.table is not None else lines_table(self.lines)

    def line_rows(self) -> list[StatementLine]:
        """Row objects (for small statements, reports and tests)."""
        if self.table is None:
            return self.lines
        rows = self.table.to_dicts()
        return [StatementLine(amount=Decimal(r.pop("amount_cents")).scaleb(-2), **r) for r in rows]

    def line_count(self) -> int:
        return self.table.height if self.table is not None else len(self.lines)

    def line_currencies(self) -> set[str]:
        if self.table is not None:
            return set(self.table["currency"].unique().drop_nulls().to_list())
        return {line.currency for line in self.lines}
