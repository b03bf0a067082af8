"""The ERP source contract: what a source module (tasks/erp/sources/<name>.py) gives the loader.

A source reads its ERP's API and yields `Page`s: rows in the export contract of models/erp.py
(text columns, as a file export is read), so the same normalising, expectations, quarantine
and idempotent load run on them as on a file. Each page carries the cursor that is true once it
is loaded; the loader stores that cursor in the transaction that loads the page
(sql/018_erp_cursors.sql), so a crash between pages resumes after the last page loaded.

A cursor is the pair (write_date, record id): rows are read in that order, and the id breaks
ties between rows written in the same second, so no page boundary skips or repeats a row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

import polars as pl

# Which export a page's rows follow: tasks.erp.ingest.INVOICES or CUSTOMERS.
PageKind = Literal["invoices", "customers"]
# The start of time for a model never pulled.
FIRST_WRITE_DATE = "1970-01-01 00:00:00"


@dataclass(frozen=True, order=True)
class Cursor:
    """How far a model has been read: everything up to and including (write_date, record_id)."""

    write_date: str  # the ERP's own UTC text, compared as the ERP compares it
    record_id: int

    @classmethod
    def start(cls) -> Cursor:
        return cls(FIRST_WRITE_DATE, 0)


@dataclass(frozen=True)
class Page:
    """One call's worth of rows, in the export contract, and the cursor they bring us to.

    `rows` has the export's columns as text plus `_line` (the record's id in the ERP, which a
    quarantined row is then named by). `cursor` is None for a page that does not move one (a
    resync of open invoices). `label` names the page in load_batches and the artifact; `sha256`
    identifies this fetch (its content and time), so a load batch is never taken for another.
    """

    source: str
    model: str
    kind: PageKind
    rows: pl.DataFrame
    cursor: Cursor | None
    label: str
    sha256: str


@dataclass(frozen=True)
class ErpAllocation:
    """One allocation of ours (table allocations) to write back to the ERP as a payment."""

    allocation_id: str  # ours: what the ERP's payment carries in its memo, so a retry finds it
    invoice_id: str
    amount: Decimal  # > 0, in the invoice's currency
    currency: str
    pay_date: date
    # The write-back batch it was written to the outbox in (tasks/erp/push.py): a webhook sends
    # the allocations sharing one together, under that Idempotency-Key; None for Odoo.
    batch: str | None = None


@dataclass
class PushSummary:
    pushed: list[str] = field(default_factory=list)  # allocation ids posted now
    already: list[str] = field(default_factory=list)  # found in the ERP by their memo
    failed: dict[str, str] = field(default_factory=dict)  # allocation id -> why
    # failed ids a later run may get past (a 5xx or a timeout after the retries), sent again then
    retryable: set[str] = field(default_factory=set)

    @property
    def message(self) -> str:
        return (
            f"{len(self.pushed)} pushed, {len(self.already)} already there,"
            f" {len(self.failed)} failed"
        )


class ErpSource(Protocol):
    """One ERP reached through its API."""

    name: str  # its key in erp_cursors and on the command line: odoo, ...

    def pull(self, since: Mapping[str, Cursor]) -> Iterator[Page]:
        """Pages of rows changed after each model's cursor (a model not in `since`: from the
        start), customers before the invoices that name them, in cursor order."""
        ...

    def resync(self, invoice_ids: Sequence[str]) -> Iterator[Page]:
        """These invoices read again whatever the cursor says (pages without a cursor): how a
        payment the ERP records without marking the invoice changed still reaches us."""
        ...


class ErpPush(Protocol):
    """An ERP that payments are written back to (tasks/erp/push.py keeps the outbox)."""

    name: str

    def push(self, allocations: Sequence[ErpAllocation]) -> PushSummary:
        """Each allocation recorded in the ERP once: pushed now, already there, or failed with
        why; never raises for one allocation's failure."""
        ...
