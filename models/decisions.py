"""The form finance fills in the Prefect UI when a reconcile run pauses on its exceptions."""

from __future__ import annotations

from decimal import Decimal

from prefect.input import RunInput
from pydantic import BaseModel, Field


class Decision(BaseModel):
    transaction_id: str = Field(description="The bank transaction, as in the exceptions table")
    invoice_id: str | None = Field(
        default=None,
        description='The invoice it pays (or "candidate N"); empty: not a customer payment',
    )
    candidate: int | None = Field(
        default=None,
        ge=1,
        description="Instead of an invoice: candidate N of the exceptions table (its invoices"
        " and amounts)",
    )
    amount: Decimal | None = Field(
        default=None, description="Amount to allocate; empty: what is open on the invoice"
    )
    note: str | None = None


class ExceptionDecisions(RunInput):
    """Each line settles one exception; the run resumes and reconciles again with them."""

    decided_by: str = Field(description="Your name, kept with each decision")
    decisions: list[Decision] = Field(default_factory=list)
