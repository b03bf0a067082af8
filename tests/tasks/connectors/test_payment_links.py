"""Payment links against the local Bridge twin: a real HTTP server on loopback."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr
from stdnum import iso11649

from o2c.models.settings_payment_links import PaymentLinkSettings
from o2c.tasks.connectors.http import ConnectorError
from o2c.tasks.connectors.payment_links import (
    END_TO_END_MAX,
    LABEL_MAX,
    LinkRequest,
    PaymentLinkClient,
    link_reference,
    signature_ok,
)
from o2c.twins.bridge_payment_links import BridgePaymentLinksTwin, Fault

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def twin():
    with BridgePaymentLinksTwin() as twin:
        yield twin


def client_for(twin: BridgePaymentLinksTwin, secret: str = "twin-secret", sleeps=None):
    settings = PaymentLinkSettings(
        base_url=twin.url, client_id="twin-client", client_secret=SecretStr(secret)
    )
    if sleeps is None:
        return PaymentLinkClient(settings)
    return PaymentLinkClient(settings, sleep=sleeps.append)


def reminder(**changes) -> LinkRequest:
    values = dict(
        client_reference="bda5e0a673949b68a39d2c57e3611ec0",
        amount_cents=1_234_56,
        currency="EUR",
        reference=link_reference("bda5e0a673949b68a39d2c57e3611ec0"),
        invoice_numbers=("FA-2026-00017", "FA-2026-00019", "FA-2026-00023", "FA-2026-00031"),
        payer_company="Boulangerie Lefèvre & Fils SARL",
        payer_id="C0042",
    )
    return LinkRequest(**(values | changes))


def test_a_reminder_gets_a_link_that_carries_our_reference_twice(twin):
    with client_for(twin) as client:
        link = client.create(reminder(), now=NOW)
    assert link.status == "valid" and link.url.startswith(twin.url)
    sent = twin.links[link.id].body
    tx = sent["transactions"][0]
    reference = link_reference("bda5e0a673949b68a39d2c57e3611ec0")
    assert iso11649.is_valid(reference)
    # The reference in both fields: not every bank shows the end-to-end id to the payee.
    assert tx["end_to_end_id"] == reference and len(tx["end_to_end_id"]) <= END_TO_END_MAX
    assert tx["label"].startswith(reference) and len(tx["label"]) <= LABEL_MAX
    assert "FA-2026-00017" in tx["label"]
    # The exact amount, as a decimal number, never through a float.
    assert tx["amount"] == Decimal("1234.56") and tx["currency"] == "EUR"
    assert sent["user"] == {
        "company_name": "Boulangerie Lefevre Fils SARL",
        "external_reference": "C0042",
    }
    assert sent["client_reference"] == "bda5e0a673949b68a39d2c57e3611ec0"
    assert sent["expired_date"] == "2027-01-03T09:00:00.000Z"  # 30 days, not Bridge's 15 min


def test_a_link_is_read_back_and_revoked(twin):
    with client_for(twin) as client:
        link = client.create(reminder(), now=NOW)
        assert client.get(link.id).status == "valid"
        client.revoke(link.id)
        assert client.get(link.id).status == "revoked"


def test_a_completed_link_reads_completed(twin):
    with client_for(twin) as client:
        link = client.create(reminder(), now=NOW)
        event = twin.complete(link.id)
        assert client.get(link.id).status == "completed"
    assert event["content"]["client_reference"] == "bda5e0a673949b68a39d2c57e3611ec0"


def test_a_server_error_is_retried_and_a_refusal_is_not(twin):
    sleeps: list[float] = []
    twin.inject(Fault(503), Fault(429, retry_after="2"))
    with client_for(twin, sleeps=sleeps) as client:
        client.create(reminder(), now=NOW)
    assert [m for m, _ in twin.requests] == ["POST", "POST", "POST"]
    assert max(sleeps) >= 2  # Retry-After honoured
    twin.requests.clear()
    twin.inject(Fault(400))
    with client_for(twin) as client, pytest.raises(ConnectorError) as refused:
        client.create(reminder(), now=NOW)
    assert len(twin.requests) == 1  # a 400 is not retried
    assert "400" in str(refused.value)


def test_nothing_to_pay_makes_no_link(twin):
    with client_for(twin) as client, pytest.raises(ValueError, match="amount > 0"):
        client.create(reminder(amount_cents=0), now=NOW)
    assert twin.requests == []


def test_bad_credentials_fail_at_once_and_the_secret_shows_nowhere(twin, caplog):
    caplog.set_level(logging.DEBUG)
    with client_for(twin, secret="s3cr3t-value-xyz") as client:
        with pytest.raises(ConnectorError) as failed:
            client.create(reminder(), now=NOW)
        assert "s3cr3t-value-xyz" not in repr(client)
    assert len(twin.requests) == 1 and "401" in str(failed.value)
    assert "s3cr3t-value-xyz" not in str(failed.value) + caplog.text


def test_webhook_signatures_are_checked_with_current_and_previous_secret(twin):
    raw = json.dumps({"type": "payment.link.updated", "content": {"status": "completed"}}).encode()
    header = twin.sign(raw)
    assert signature_ok(raw, header, ["twin-webhook-secret"])
    assert signature_ok(raw, f"v0=abc, {header}", ["rotated-new", "twin-webhook-secret"])
    assert not signature_ok(raw + b" ", header, ["twin-webhook-secret"])  # body changed
    assert not signature_ok(raw, header, ["another-secret"])
    assert not signature_ok(raw, None, ["twin-webhook-secret"])
