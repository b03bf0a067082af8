"""Payments written back to an ERP through an outbox (sql/020_erp_push_outbox.sql).

What is pushed: the payment allocations (kind `payment`, amount > 0, not reversed since) of
invoices this source gave us (the invoice's load batch is labelled `<source>:...`, see
tasks/erp/sources), not in the outbox yet. Their pay date is the bank transaction's booking
date.

How, so that nothing is written twice and nothing is lost:
1. one short transaction writes a `pending` row per new allocation, with its batch key when
   the ERP takes batches (a webhook's Idempotency-Key, from the source's `batches`), and reads
   every row due: pending (new, or left by a crash) and failed-but-retryable;
2. the ERP is called with no connection open (`push`);
3. one short transaction records each row's outcome: pushed, already (the ERP had it), failed
   with its reason.
A crash between 2 and 3 leaves rows pending: the next run sends them again, with the same
batch keys, and the ERP's own check (Odoo: the payment's memo; a webhook: the Idempotency-Key
it has seen) answers "already" instead of recording the payment a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

from o2c.models.erp_source import ErpAllocation, ErpPush, PushSummary
from o2c.tasks.erp.sources import Writer
from o2c.warehouse import transaction

PENDING, PUSHED, ALREADY, FAILED = "pending", "pushed", "already", "failed"
Batches = Callable[..., list[tuple[str, list[ErpAllocation]]]]  # RestSource.batches


@dataclass(frozen=True)
class Outcome:
    """One allocation's row after a run, for the artifact."""

    allocation_id: str
    invoice_id: str
    amount: Decimal
    currency: str
    status: str
    reason: str | None


@dataclass
class PushReport:
    source: str
    queued: int = 0  # allocations written to the outbox by this run
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def message(self) -> str:
        return (
            f"{self.source}: {self.count(PUSHED)} pushed, {self.count(ALREADY)} already there,"
            f" {self.count(FAILED)} failed"
        )


def new_allocations(con: duckdb.DuckDBPyConnection, source: str) -> list[ErpAllocation]:
    """Payment allocations of this source's invoices that the outbox does not hold yet."""
    rows = con.execute(
        """SELECT a.allocation_id, a.invoice_id, a.amount, a.currency,
                  COALESCE(t.booking_date, CAST(a.created_at AS DATE)) AS pay_date
        FROM allocations a
        JOIN invoices i ON i.invoice_id = a.invoice_id
        JOIN load_batches b ON b.batch_id = i.batch_id
        LEFT JOIN bank_transactions t ON t.transaction_id = a.transaction_id
        WHERE a.kind = 'payment' AND a.amount > 0 AND starts_with(b.file_name, ?)
          AND NOT EXISTS (SELECT 1 FROM allocations r
                          WHERE r.reverses_allocation_id = a.allocation_id)
          AND NOT EXISTS (SELECT 1 FROM erp_push_outbox o
                          WHERE o.source = ? AND o.allocation_id = a.allocation_id)
        ORDER BY pay_date, a.allocation_id""",
        [f"{source}:", source],
    ).fetchall()
    return [ErpAllocation(r[0], r[1], Decimal(r[2]), r[3], r[4]) for r in rows]


def enqueue(
    con: duckdb.DuckDBPyConnection,
    source: str,
    allocations: Sequence[ErpAllocation],
    batches: Batches | None,
    flow_run_id: str | None,
) -> int:
    """Write each allocation as a pending row (with its batch key, when the ERP batches)."""
    keyed: list[ErpAllocation] = list(allocations)
    if batches is not None:
        keyed = [replace(a, batch=key) for key, batch in batches(allocations) for a in batch]
    now = datetime.now()
    for a in keyed:
        con.execute(
            """INSERT INTO erp_push_outbox (source, allocation_id, invoice_id, amount, currency,
                pay_date, batch_key, status, flow_run_id, created_at, updated_at)
            SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
            WHERE NOT EXISTS (SELECT 1 FROM erp_push_outbox
                              WHERE source = ? AND allocation_id = ?)""",
            [source, a.allocation_id, a.invoice_id, a.amount, a.currency, a.pay_date, a.batch,
             PENDING, flow_run_id, now, now, source, a.allocation_id],
        )  # fmt: skip
    return len(keyed)


def requeue_refused(con: duckdb.DuckDBPyConnection, source: str, batches: Batches | None) -> int:
    """Failed rows sent again on purpose (a person fixed the cause): pending, and for an ERP
    that batches, under new keys, since the receiver may keep its refusal under the old one."""
    rows = con.execute(
        "SELECT allocation_id, invoice_id, amount, currency, pay_date FROM erp_push_outbox"
        " WHERE source = ? AND status = ? ORDER BY pay_date, allocation_id",
        [source, FAILED],
    ).fetchall()
    allocations = [ErpAllocation(r[0], r[1], Decimal(r[2]), r[3], r[4]) for r in rows]
    keys: dict[str, str | None] = {a.allocation_id: None for a in allocations}
    if batches is not None and allocations:
        salt = f"again {datetime.now().isoformat()}"
        keys = {a.allocation_id: key for key, b in batches(allocations, salt) for a in b}
    for aid, key in keys.items():
        con.execute(
            "UPDATE erp_push_outbox SET status = ?, batch_key = ?, updated_at = ?"
            " WHERE source = ? AND allocation_id = ?",
            [PENDING, key, datetime.now(), source, aid],
        )
    return len(keys)


def due(con: duckdb.DuckDBPyConnection, source: str) -> list[ErpAllocation]:
    """Rows to send: pending ones, and failed ones a later run may get past."""
    rows = con.execute(
        "SELECT allocation_id, invoice_id, amount, currency, pay_date, batch_key"
        " FROM erp_push_outbox WHERE source = ? AND (status = ? OR (status = ? AND retryable))"
        " ORDER BY batch_key NULLS FIRST, pay_date, allocation_id",
        [source, PENDING, FAILED],
    ).fetchall()
    return [ErpAllocation(r[0], r[1], Decimal(r[2]), r[3], r[4], r[5]) for r in rows]


def record(
    con: duckdb.DuckDBPyConnection, source: str, summary: PushSummary, flow_run_id: str | None
) -> None:
    """Each allocation's outcome, in the caller's transaction."""
    now = datetime.now()
    outcomes: list[tuple[str, str, str | None, bool]] = [
        *((aid, PUSHED, None, False) for aid in summary.pushed),
        *((aid, ALREADY, None, False) for aid in summary.already),
        *((aid, FAILED, why, aid in summary.retryable) for aid, why in summary.failed.items()),
    ]
    for aid, status, reason, retryable in outcomes:
        con.execute(
            "UPDATE erp_push_outbox SET status = ?, reason = ?, retryable = ?,"
            " attempts = attempts + 1, flow_run_id = ?, updated_at = ?"
            " WHERE source = ? AND allocation_id = ?",
            [status, reason, retryable, flow_run_id, now, source, aid],
        )


def outcomes(
    con: duckdb.DuckDBPyConnection, source: str, allocation_ids: Sequence[str]
) -> list[Outcome]:
    if not allocation_ids:
        return []
    rows = con.execute(
        "SELECT allocation_id, invoice_id, amount, currency, status, reason FROM erp_push_outbox"
        " WHERE source = ? AND list_contains(?, allocation_id) ORDER BY status, allocation_id",
        [source, list(allocation_ids)],
    ).fetchall()
    return [Outcome(r[0], r[1], Decimal(r[2]), r[3], r[4], r[5]) for r in rows]


def push_into(
    pusher: ErpPush, writer: Writer, *, flow_run_id: str | None = None, retry_failed: bool = False
) -> PushReport:
    """Queue the new allocations, send what is due with no connection open, record outcomes.
    `retry_failed`: also send again the allocations the ERP refused (see requeue_refused)."""
    report = PushReport(pusher.name)
    batches: Any = getattr(pusher, "batches", None)
    with writer() as con, transaction(con):
        if retry_failed:
            requeue_refused(con, pusher.name, batches)
        report.queued = enqueue(
            con, pusher.name, new_allocations(con, pusher.name), batches, flow_run_id
        )
        todo = due(con, pusher.name)
    if not todo:
        return report
    summary = pusher.push(todo)  # the network: the writer is not held
    with writer() as con:
        with transaction(con):
            record(con, pusher.name, summary, flow_run_id)
        report.outcomes = outcomes(con, pusher.name, [a.allocation_id for a in todo])
    return report
