"""Dunning's contracts: what a planned communication is, and the words each table stores.

The plan (tasks/dunning/plan.py) produces `Communication`s; templates render them, the outbox
records them before any channel is called, channels send them, the audit log chains every step.
Each of those modules reads these types, so a field cannot mean one thing to the plan and another
to the letter. Money is integer cents in the communication's currency.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import polars as pl


class Channel(StrEnum):
    """How a level reaches the customer."""

    EMAIL = "email"
    ERE_LETTER = "ere_letter"  # electronic registered letter through AR24 (issue 18)
    PHONE_TASK = "phone_task"  # a line on the collector's worklist, nothing is sent
    LITIGATION = "litigation"  # the case leaves dunning for a lawyer or a collection agency


class CustomerKind(StrEnum):
    """French law treats them apart: the 40 EUR indemnity and LRE consent depend on it."""

    BUSINESS = "business"
    CONSUMER = "consumer"


class ContactRole(StrEnum):
    """Whom a reminder goes to: `accounting` first, then `main`."""

    ACCOUNTING = "accounting"
    MAIN = "main"


class OutboxStatus(StrEnum):
    """What became of one communication in the outbox."""

    PENDING = "pending"  # written, not yet handed to a channel (or the send is under way)
    SENT = "sent"  # the channel took it; provider_id says under which id
    FAILED = "failed"  # temporary failures exhausted the retries; a later run may try again
    BOUNCED = "bounced"  # refused for good (SMTP 5xx, invalid address): never retried
    UNKNOWN = "unknown"  # a send was cut off and nobody can tell whether it left: finance decides
    CANCELLED = "cancelled"  # dropped before sending (paid since the plan, excluded, refused)


class ExclusionKind(StrEnum):
    """Why a customer or an invoice is not chased, until `until` (or for good)."""

    DISPUTE = "dispute"  # per invoice
    PAYMENT_PLAN = "payment_plan"  # only missed instalments are chased
    PROMISE_TO_PAY = "promise_to_pay"  # until the promised date, then dunning resumes by itself
    OPT_OUT = "opt_out"  # the customer is never dunned automatically
    BELOW_THRESHOLD = "below_threshold"
    NET_CREDIT = "net_credit"


class AuditEvent(StrEnum):
    """One row of the append-only, hash-chained audit log."""

    PLAN = "plan"
    APPROVAL = "approval"
    SEND = "send"
    STATUS = "status"
    EXCLUSION = "exclusion"


@dataclass(frozen=True)
class DunnedItem:
    """One open document inside a communication: an overdue invoice, or a credit that nets it."""

    invoice_id: str
    document_type: str  # invoice | credit_note | unapplied_credit (an overpayment kept as credit)
    issue_date: date | None
    due_date: date | None
    total_cents: int  # the document's amount (credits < 0)
    open_cents: int  # what is left today: for a partly paid invoice only that (credits < 0)
    days_late: int  # calendar days past due at the plan's as-of date (0 for credits)
    penalty_cents: int = 0  # late-payment penalties accrued (ECB rate + 10 points), business only
    indemnity_cents: int = 0  # the 40 EUR flat recovery indemnity (C. com. D441-5), business only


@dataclass(frozen=True)
class Communication:
    """One letter or email to one customer, at one level, in one currency, listing every
    overdue item at the highest level reached. Its `key` is the outbox's idempotency key."""

    as_of: date
    customer_id: str
    customer_name: str
    language: str  # fr | en: the customer's, never the sender's
    customer_kind: CustomerKind
    currency: str
    level: int  # 1-based rank in the policy; a courtesy reminder before due date is level 1 too
    level_name: str
    channel: Channel
    template: str  # template name without language or extension, e.g. "reminder_friendly"
    recipients: tuple[str, ...]  # email addresses, accounting contacts first
    needs_approval: bool
    items: tuple[DunnedItem, ...]  # overdue invoices, oldest first
    credits: tuple[DunnedItem, ...] = ()  # open credit notes and unapplied credits, netted
    previous_key: str | None = None  # the last communication of the same case (In-Reply-To)
    payment_link: str | None = None
    key: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "key",
            communication_key(
                self.customer_id,
                self.level,
                self.currency,
                [i.invoice_id for i in (*self.items, *self.credits)],
            ),
        )

    @property
    def overdue_cents(self) -> int:
        return sum(i.open_cents for i in self.items)

    @property
    def credits_cents(self) -> int:
        """Negative or zero."""
        return sum(c.open_cents for c in self.credits)

    @property
    def penalties_cents(self) -> int:
        return sum(i.penalty_cents for i in self.items)

    @property
    def indemnities_cents(self) -> int:
        return sum(i.indemnity_cents for i in self.items)

    @property
    def due_cents(self) -> int:
        """What the customer is asked to pay now: overdue items net of credits."""
        return self.overdue_cents + self.credits_cents


def communication_key(customer_id: str, level: int, currency: str, item_ids: list[str]) -> str:
    """The outbox idempotency key: the same customer, level, currency and set of items is the
    same communication, whichever run plans it (so a re-run or a resumed run never sends twice)."""
    text = "\x1f".join([customer_id, str(level), currency, *sorted(set(item_ids))])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RenderedMessage:
    """A communication rendered for its channel, with the hashes the audit log keeps."""

    key: str
    language: str
    subject: str
    text: str
    html: str | None
    template_sha256: str  # of the template source(s) used
    content_sha256: str  # of subject + text + html as rendered


# What the plan reads as history: one row per item of each communication the outbox holds
# (tasks/dunning/outbox.py `history`), whatever its status. acted_on is the day it was sent
# (or planned, while pending).
ACTION_HISTORY = {
    "key": pl.String,
    "customer_id": pl.String,
    "currency": pl.String,
    "invoice_id": pl.String,
    "level": pl.Int32,
    "channel": pl.String,
    "status": pl.String,
    "acted_on": pl.Date,
}


# What the plan reads of exclusions (tasks/dunning/exclusions.py active_exclusions): a null
# invoice_id excludes the whole customer; a null `until` has no end.
EXCLUSION = {
    "customer_id": pl.String,
    "invoice_id": pl.String,
    "kind": pl.String,  # ExclusionKind
    "until": pl.Date,
    "reason": pl.String,
}

# The same, with the id of the fact each row comes from (tasks/dunning/exclusions.py).
ACTIVE_EXCLUSION = {**EXCLUSION, "exclusion_id": pl.Int64}

# Every exclusion as finance lists it.
EXCLUSION_ROW = {
    "exclusion_id": pl.Int64,
    "customer_id": pl.String,
    "invoice_id": pl.String,
    "kind": pl.String,
    "starts_on": pl.Date,
    "until": pl.Date,
    "reason": pl.String,
    "created_by": pl.String,
    "origin": pl.String,
    "created_at": pl.Datetime,
    "ended_on": pl.Date,
    "ended_by": pl.String,
    "end_reason": pl.String,
    "state": pl.String,  # active | ended | expired | future, on the day asked
}

# What the plan reads of customers (tasks/dunning/customers.py dunning_contacts): one row per
# customer; emails are the dunning contacts, accounting first. A customer missing here is dunned
# in French as a business, under the default segment, and has no email address.
DUNNING_CUSTOMER = {
    "customer_id": pl.String,
    "name": pl.String,
    "language": pl.String,
    "customer_kind": pl.String,  # CustomerKind
    "segment": pl.String,
    "emails": pl.List(pl.String),
}

# One row per customer as the dunning contacts (tasks/dunning/customers.py): what the plan
# reads first, then what letters and the ERE channel need.
DUNNING_CONTACT = {
    **DUNNING_CUSTOMER,
    "address_line1": pl.String,
    "address_line2": pl.String,
    "postal_code": pl.String,
    "city": pl.String,
    "country": pl.String,
    "lre_consent": pl.Boolean,  # may be sent a registered e-mail (LRE)
    "lre_consent_date": pl.Date,
    "payment_terms_days": pl.Int32,
    "payment_terms_end_of_month": pl.Boolean,
}

# What the plan reads of payment plans (tasks/dunning/exclusions.py missed_instalments): the
# instalments due and unpaid; a plan over the whole account has no invoice_id.
MISSED_INSTALMENT = {
    "exclusion_id": pl.Int64,
    "customer_id": pl.String,
    "invoice_id": pl.String,
    "currency": pl.String,
    "seq": pl.Int32,
    "due_date": pl.Date,
    "amount_cents": pl.Int64,
    "unpaid_cents": pl.Int64,
}
