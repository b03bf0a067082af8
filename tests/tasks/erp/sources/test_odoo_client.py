"""The Odoo client over the twin: what is retried (server faults) and what is not (Odoo
refusing the request), the same answers through JSON-RPC and JSON-2."""

from __future__ import annotations

import pytest

from o2c.tasks.connectors.http import ConnectorHTTPError, ConnectorTransportError
from o2c.tasks.connectors.odoo import OdooError
from o2c.twins.odoo import Fault
from tests.tasks.erp.sources.conftest import company

FIELDS = ("name", "amount_total", "write_date")


def _moves(twin) -> int:
    return sum(1 for model, _ in twin.calls if model == "account.move")


@pytest.mark.parametrize("protocol", ["jsonrpc", "json2"])
def test_access_denied_is_not_retried(twin, client, protocol):
    company(twin, invoices=1)
    odoo = client(protocol=protocol, api_key="a-revoked-api-key", max_retries=3)
    error = OdooError if protocol == "jsonrpc" else ConnectorHTTPError
    with pytest.raises(error) as refused:
        odoo.search_read("account.move", [], FIELDS)
    assert not refused.value.retryable
    assert odoo.requests_made == 1
    assert "not retried" in str(refused.value)


def test_a_user_error_in_the_error_member_is_not_retried_and_names_the_exception(twin, client):
    odoo = client(max_retries=3)
    with pytest.raises(OdooError) as refused:
        odoo.read("account.move", [999_999], FIELDS)
    assert "odoo.exceptions.MissingError" in str(refused.value)
    assert odoo.requests_made == 2  # authenticate, then the one read


@pytest.mark.parametrize("protocol", ["jsonrpc", "json2"])
@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=503),
        Fault("status", status=429, retry_after="0"),
        Fault("drop"),
        Fault("timeout", seconds=3.0),
    ],
    ids=["503", "429", "dropped", "timeout"],
)
def test_server_faults_are_retried(twin, client, protocol, fault):
    company(twin, invoices=2)
    odoo = client(protocol=protocol, timeout_s=1.0, max_retries=2)
    fault.method = "search_read"
    twin.inject(fault)
    rows = odoo.search_read("account.move", [], FIELDS, order="id asc")
    assert [r["name"] for r in rows] == ["INV/2026/00000", "INV/2026/00001"]
    assert _moves(twin) == 2


def test_a_server_error_in_the_error_member_is_retried(twin, client):
    company(twin, invoices=1)
    odoo = client(max_retries=2)
    twin.inject(Fault("error", method="search_read"))  # a serialisation failure
    assert len(odoo.search_read("account.move", [], FIELDS)) == 1
    assert _moves(twin) == 2


def test_retries_end_with_an_error_that_says_a_later_run_may_succeed(twin, client):
    odoo = client(max_retries=1)
    twin.inject(Fault("drop", method="search_read"), Fault("drop", method="search_read"))
    with pytest.raises(ConnectorTransportError) as failed:
        odoo.search_read("account.move", [], FIELDS)
    assert failed.value.retryable and failed.value.attempts == 2


def test_both_protocols_answer_the_same_records(twin, client):
    company(twin, invoices=3)
    domain = [("move_type", "in", ["out_invoice"]), ("amount_total", ">", 100)]
    answers = [
        client(protocol=p).search_read("account.move", domain, FIELDS, order="id asc", limit=2)
        for p in ("jsonrpc", "json2")
    ]
    assert answers[0] == answers[1] and len(answers[0]) == 2
