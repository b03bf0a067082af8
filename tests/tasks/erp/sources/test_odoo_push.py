"""Allocations written back to Odoo as payments through the register wizard, once each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.models.erp_source import ErpAllocation
from o2c.twins.odoo import Fault
from tests.tasks.erp.sources.conftest import company


def _allocation(invoice: str, amount: str, allocation_id: str = "A-1", currency: str = "EUR"):
    return ErpAllocation(allocation_id, invoice, Decimal(amount), currency, date(2026, 2, 10))


def _payments(twin) -> list[dict]:
    return list(twin.records["account.payment"].values())


@pytest.mark.parametrize("protocol", ["jsonrpc", "json2"])
def test_write_back_twice_gives_one_payment(twin, source, protocol):
    company(twin, invoices=2)
    src = source(protocol=protocol)
    allocation = _allocation("INV/2026/00001", "200.50")
    first = src.push([allocation])
    assert (first.pushed, first.already, first.failed) == (["A-1"], [], {})
    second = src.push([allocation])
    assert (second.pushed, second.already) == ([], ["A-1"])
    (payment,) = _payments(twin)
    assert payment["memo"] == "o2c allocation A-1" and payment["amount"] == Decimal("200.50")
    move = twin.records["account.move"][twin.move_id("INV/2026/00001")]
    assert (move["amount_residual"], move["payment_state"]) == (Decimal("1000.00"), "partial")
    assert ("account.payment.register", "action_create_payments") in twin.calls


def test_a_lost_answer_to_the_posting_call_is_not_posted_again(twin, source):
    """The twin posts the payment, then drops the connection before its answer: the push looks
    for the memo instead of trying again, and a second push finds it too."""
    company(twin, invoices=1)
    src = source(max_retries=3)
    twin.inject(Fault("drop", method="action_create_payments"))
    summary = src.push([_allocation("INV/2026/00000", "1200.50")])
    assert summary.pushed == ["A-1"] and not summary.failed
    assert src.push([_allocation("INV/2026/00000", "1200.50")]).already == ["A-1"]
    assert len(_payments(twin)) == 1
    calls = [c for c in twin.calls if c == ("account.payment.register", "action_create_payments")]
    assert len(calls) == 1  # never re-sent by the HTTP client's retries


def test_what_cannot_be_registered_fails_by_itself_naming_why(twin, source):
    partner = company(twin, invoices=1)
    twin.add_invoice(partner, "INV/2026/00009", "10", currency="USD")
    summary = source().push(
        [
            _allocation("INV/2026/99999", "10", "A-1"),
            _allocation("INV/2026/00009", "10", "A-2"),
            _allocation("INV/2026/00000", "10", "A-3"),
        ]
    )
    assert summary.pushed == ["A-3"]
    assert "no posted invoice of that name" in summary.failed["A-1"]
    assert "in USD in Odoo, the allocation in EUR" in summary.failed["A-2"]
