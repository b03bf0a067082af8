"""Payments written back through the outbox (tasks/erp/push.py), to the webhook twin and to the
Odoo twin: twice gives one payment, a 4xx is not retried, a bad signature is refused, the outbox
row is pending before the send, and a crash mid-push sent again duplicates nothing."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.models.erp_source import ErpAllocation, PushSummary
from o2c.tasks.erp import push as outbox
from o2c.tasks.erp import sources
from o2c.tasks.erp.sources.rest import RestSource, sign
from o2c.twins.erp_webhook import ErpWebhookTwin
from o2c.twins.erp_webhook import Fault as HookFault
from o2c.twins.rest_erp import RestErpTwin
from o2c.warehouse import connect
from tests.tasks.erp.sources.conftest import company
from tests.tasks.erp.sources.rest_mapping import customer, mapping


def allocate(db: str, invoice_id: str, amount: str, allocation_id: str, **extra) -> None:
    """A payment allocation as reconciliation appends it, from a bank credit of 2026-02-10."""
    with connect(db) as con:
        con.execute(
            "INSERT INTO bank_transactions (transaction_id, account_iban, currency,"
            " booking_date, amount, source, loaded_at) VALUES (?, 'FR76', 'EUR', ?, ?, 'csv', ?)",
            [f"T-{allocation_id}", date(2026, 2, 10), Decimal(amount), datetime.now()],
        )
        con.execute(
            "INSERT INTO allocations (allocation_id, transaction_id, invoice_id, customer_id,"
            " amount, currency, kind, rule, confidence, reverses_allocation_id, created_at)"
            " VALUES (?, ?, ?, 'C', ?, 'EUR', ?, 'test', 1.0, ?, ?)",
            [allocation_id, f"T-{allocation_id}", invoice_id, Decimal(amount),
             extra.get("kind", "payment"), extra.get("reverses"), datetime.now()],
        )  # fmt: skip


def statuses(db: str, source: str) -> dict[str, tuple]:
    with connect(db) as con:
        rows = con.execute(
            "SELECT allocation_id, status, retryable, batch_key FROM erp_push_outbox"
            " WHERE source = ? ORDER BY allocation_id",
            [source],
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.fixture
def rest(tmp_path: Path, db: str):
    """The REST twin with three invoices pulled, and the webhook twin to push to."""
    with RestErpTwin() as twin, ErpWebhookTwin() as hook:
        customer(twin, invoices=3)
        src = RestSource(
            mapping(twin, tmp_path, push_url=hook.url, batch_size=2),
            secret=twin.secret,
            webhook_secret=hook.secret,
            sleep=lambda s: None,
        )
        sources.pull_into(src, lambda: connect(db))
        yield src, hook


def test_webhook_write_back_twice_gives_one_payment(rest, writer, db):
    src, hook = rest
    allocate(db, "F-0000", "1200.50", "A-1")
    allocate(db, "F-0001", "200.25", "A-2")
    allocate(db, "F-0002", "10.00", "A-3")
    allocate(db, "F-0002", "10.00", "A-4", kind="write_off")  # not a payment: not pushed
    first = outbox.push_into(src, writer)
    assert (first.count("pushed"), first.count("already"), first.count("failed")) == (3, 0, 0)
    assert set(hook.payments) == {"A-1", "A-2", "A-3"}
    assert hook.payments["A-2"] == {
        "allocation_id": "A-2", "invoice_id": "F-0001", "amount": "200.25",
        "currency": "EUR", "pay_date": "2026-02-10",
    }  # fmt: skip
    assert len(hook.requests) == 2  # batches of two
    second = outbox.push_into(src, writer)
    assert second.outcomes == [] and len(hook.requests) == 2  # nothing new: nothing sent
    # a warehouse that forgot it sent them (its outbox lost) sends the same batches: the
    # receiver answers them again from its Idempotency-Key, nothing recorded twice
    with connect(db) as con:
        con.execute("DELETE FROM erp_push_outbox")
    third = outbox.push_into(src, writer)
    assert third.count("already") == 3 and third.count("pushed") == 0
    assert [r.replayed for r in hook.requests] == [False, False, True, True]
    assert len(hook.payments) == 3


def test_a_reversed_payment_and_another_sources_invoice_are_not_pushed(rest, writer, db):
    src, hook = rest
    allocate(db, "F-0000", "1200.50", "A-1")
    allocate(db, "F-0000", "-1200.50", "R-1", kind="reversal", reverses="A-1")
    with connect(db) as con:  # an invoice from a file export, not from this ERP
        con.execute(
            "INSERT INTO invoices (invoice_id, document_type, customer_id, issue_date, due_date,"
            " currency, amount_total, row_hash, first_loaded_at, updated_at) VALUES"
            " ('X-1', 'invoice', 'C', DATE '2026-01-01', DATE '2026-02-01', 'EUR', 5, 'h',"
            " now(), now())"
        )
    allocate(db, "X-1", "5.00", "A-9")
    assert outbox.push_into(src, writer).outcomes == []
    assert hook.requests == []


def test_the_outbox_row_is_pending_while_the_receiver_gets_the_request(rest, writer, db):
    src, hook = rest
    allocate(db, "F-0000", "1200.50", "A-1")
    seen: list[dict] = []
    hook.on_request = lambda headers, body: seen.append(statuses(db, src.name))
    outbox.push_into(src, writer)
    assert seen and seen[0]["A-1"][0] == "pending"
    assert statuses(db, src.name)["A-1"][0] == "pushed"


def test_a_4xx_is_not_retried_and_reported_failed(rest, writer, db):
    src, hook = rest
    allocate(db, "F-0000", "1200.50", "A-1")
    hook.inject(HookFault(status=422))
    report = outbox.push_into(src, writer)
    (failed,) = report.outcomes
    assert failed.status == "failed" and "answered 422" in (failed.reason or "")
    assert len(hook.requests) == 1 and hook.payments == {}
    assert statuses(db, src.name)["A-1"][:2] == ("failed", False)
    outbox.push_into(src, writer)  # a refusal waits for a person: not sent again
    assert len(hook.requests) == 1
    # once the cause is fixed, sent again on purpose, under a new key
    again = outbox.push_into(src, writer, retry_failed=True)
    assert [o.status for o in again.outcomes] == ["pushed"] and list(hook.payments) == ["A-1"]
    assert hook.requests[1].key != hook.requests[0].key


def test_5xx_and_timeouts_are_retried_with_the_same_key(rest, writer, db):
    src, hook = rest
    allocate(db, "F-0000", "1200.50", "A-1")
    hook.inject(HookFault(status=503), HookFault(kind="slow", seconds=1.5))  # timeout is 1 s
    report = outbox.push_into(src, writer)
    assert report.count("pushed") + report.count("already") == 1
    deadline = time.monotonic() + 5
    while len(hook.requests) < 3 and time.monotonic() < deadline:  # the slow one answers late
        time.sleep(0.05)
    assert [r.status for r in hook.requests] == [503, 200, 200]
    assert len({r.key for r in hook.requests}) == 1  # one batch, one key, three attempts
    assert [r.replayed for r in hook.requests[1:]] == [False, True]
    assert list(hook.payments) == ["A-1"]


def test_a_wrong_secret_is_refused_by_the_receiver(rest, writer, db, tmp_path):
    src, hook = rest
    allocate(db, "F-0000", "1200.50", "A-1")
    forged = RestSource(src.mapping, secret="x" * 12, webhook_secret="not-the-secret-0000")
    report = outbox.push_into(forged, writer)
    assert report.outcomes[0].status == "failed" and "401" in (report.outcomes[0].reason or "")
    assert hook.requests[0].signed is False and hook.payments == {}
    assert "not-the-secret-0000" not in (report.outcomes[0].reason or "")
    # the signature is the HMAC-SHA256 of the raw body, as the receiving side recomputes it
    body = b'{"allocations":[]}'
    assert hook.signed(sign(hook.secret, body), body)
    assert not hook.signed(sign("not-the-secret-0000", body), body)


class Crash(Exception):
    """The process dies after the ERP answered, before the outcome is recorded."""


class CrashAfterSend:
    def __init__(self, real) -> None:
        self.real, self.name = real, real.name
        self.batches = getattr(real, "batches", None)
        if self.batches is None:
            del self.batches

    def push(self, allocations) -> PushSummary:
        self.real.push(allocations)
        raise Crash


def test_a_crash_mid_push_sent_again_gives_one_payment_on_the_webhook(rest, writer, db):
    src, hook = rest
    for i, invoice in enumerate(["F-0000", "F-0001", "F-0002"]):
        allocate(db, invoice, "100.00", f"A-{i}")
    with pytest.raises(Crash):
        outbox.push_into(CrashAfterSend(src), writer)
    before = statuses(db, src.name)
    assert {s for s, *_ in before.values()} == {"pending"}
    report = outbox.push_into(src, writer)
    assert report.count("already") == 3 and report.count("failed") == 0
    # the same batches, under the same keys, the second time: the receiver answered them again
    keys = [r.key for r in hook.requests]
    assert keys[:2] == keys[2:] and len(set(keys)) == 2
    assert {k for _, _, k in before.values()} == set(keys)
    assert len(hook.payments) == 3


# -- Odoo, through the same outbox ------------------------------------------------------------


@pytest.fixture
def odoo(twin, source, db):
    company(twin, invoices=2)
    src = source()
    sources.pull_into(src, lambda: connect(db))
    return src


def test_odoo_write_back_twice_and_after_a_crash_gives_one_payment(odoo, twin, writer, db):
    allocate(db, "INV/2026/00000", "200.50", "A-1")
    with pytest.raises(Crash):
        outbox.push_into(CrashAfterSend(odoo), writer)
    assert statuses(db, "odoo")["A-1"][0] == "pending"
    report = outbox.push_into(odoo, writer)
    assert [(o.allocation_id, o.status) for o in report.outcomes] == [("A-1", "already")]
    allocate(db, "INV/2026/00001", "1200.50", "A-2")
    again = outbox.push_into(odoo, writer)
    assert [(o.allocation_id, o.status) for o in again.outcomes] == [("A-2", "pushed")]
    assert outbox.push_into(odoo, writer).outcomes == []
    memos = sorted(p["memo"] for p in twin.records["account.payment"].values())
    assert memos == ["o2c allocation A-1", "o2c allocation A-2"]


def test_odoo_refusal_is_failed_not_retried(odoo, twin, writer, db):
    allocate(db, "INV/2026/00000", "200.50", "A-1")
    twin.cancel(twin.move_id("INV/2026/00000"))  # cancelled in Odoo after our pull
    (outcome,) = outbox.push_into(odoo, writer).outcomes
    assert outcome.status == "failed" and "no posted invoice" in (outcome.reason or "")
    assert statuses(db, "odoo")["A-1"][:2] == ("failed", False)
    assert twin.records["account.payment"] == {}


def test_allocations_to_push_in_a_batch_keep_their_key():
    """The key is derived from the batch's allocation ids, whatever their order."""
    from o2c.tasks.erp.sources.rest import idempotency_key

    a = ErpAllocation("A-1", "F-1", Decimal("1"), "EUR", date(2026, 1, 1))
    b = ErpAllocation("A-2", "F-1", Decimal("1"), "EUR", date(2026, 1, 1))
    assert idempotency_key("rest-x", ["A-1", "A-2"]) == idempotency_key("rest-x", ["A-2", "A-1"])
    assert idempotency_key("rest-x", ["A-1"]) != idempotency_key("rest-x", ["A-1", "A-2"])
    assert a != b
