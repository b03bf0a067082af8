"""Bridge payment links: one link per reminder, so the customer pays in two clicks.

A link that says `completed` is not a payment: the payer's bank may still reject the transfer.
Only the transfer landing on a bank statement settles invoices, through reconciliation, which
finds our reference in it. So the reference goes in both `label` and `end_to_end_id`: Bridge
warns that not every bank shows the end-to-end id to the payee.

Contract used (../shared/CONTRACTS.md section 2; docs.bridgeapi.io, version 2025-01-15):
- POST /v3/payment/payment-links with the application's `Client-Id` / `Client-Secret` headers:
  `user` (company_name, or first_name + last_name), `client_reference`, `expired_date` (at most
  90 days ahead), `callback_url`, `transactions` [{amount, currency, label, end_to_end_id}];
  answers the link's `id` and `url`.
- GET /v3/payment/payment-links/{id}: its `status` (valid, expired, revoked, completed).
- POST /v3/payment/payment-links/{id}/revoke.
- Webhooks: header `BridgeApi-Signature: v1=<HMAC-SHA256 of the raw body, upper-case hex>`,
  possibly several comma-separated values while a secret is rotated.
NOT confirmed against Bridge's sandbox (CONTRACTS.md section 7): the nesting of `transactions`,
`amount` as a decimal number rather than cents, the 50-character `label` limit (third-party
code), the answer's field names beyond `id` and `url`. Each assumption is one constant below.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from o2c.models.settings_payment_links import PaymentLinkSettings
from o2c.tasks.common.checksums import rf_reference
from o2c.tasks.connectors.http import (
    ClosingClient,
    ConnectorDataError,
    HttpClient,
    Logger,
    RetryPolicy,
)

SERVICE = "Bridge payment links"
LINKS_PATH = "/v3/payment/payment-links"
SIGNATURE_HEADER = "BridgeApi-Signature"
LABEL_MAX = 50  # third-party clients' limit; unconfirmed
END_TO_END_MAX = 35  # the SEPA limit for an end-to-end id
STATUSES = frozenset({"valid", "expired", "revoked", "completed"})
_SEPA_TEXT = re.compile(r"[^A-Za-z0-9/?:().,'+ -]")


@dataclass(frozen=True)
class PaymentLink:
    id: str
    url: str
    status: str


@dataclass(frozen=True)
class LinkRequest:
    """What one reminder's link asks for. `reference` is what reconciliation will look for."""

    client_reference: str  # the outbox key of the communication: one link per communication
    amount_cents: int
    currency: str
    reference: str  # an RF creditor reference (ISO 11649), or an invoice's own reference
    invoice_numbers: tuple[str, ...]
    payer_company: str | None = None
    payer_first_name: str | None = None
    payer_last_name: str | None = None
    payer_id: str | None = None  # our customer id, as Bridge's user external_reference


def sepa_text(value: str, limit: int) -> str:
    """Banks pass on only the SEPA character set: accents folded, anything else a space."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return " ".join(_SEPA_TEXT.sub(" ", folded).split())[:limit].rstrip()


def link_reference(communication_key: str) -> str:
    """An RF reference of our own for a reminder that covers several invoices."""
    return rf_reference(communication_key[:21].upper())


def link_label(reference: str, invoice_numbers: Iterable[str]) -> str:
    """The reference first (what reconciliation needs), then as many invoice numbers as fit."""
    label = reference
    for number in invoice_numbers:
        candidate = f"{label} {number}"
        if len(sepa_text(candidate, LABEL_MAX + 1)) > LABEL_MAX:
            break
        label = candidate
    return sepa_text(label, LABEL_MAX)


def link_body(request: LinkRequest, settings: PaymentLinkSettings, now: datetime) -> dict:
    """The JSON Bridge receives for one link."""
    if request.amount_cents <= 0:
        raise ValueError(f"a payment link for {request.client_reference} needs an amount > 0")
    if request.payer_company:
        user: dict[str, str] = {"company_name": sepa_text(request.payer_company, 140)}
    else:
        user = {
            "first_name": sepa_text(request.payer_first_name or "", 70),
            "last_name": sepa_text(request.payer_last_name or "", 70),
        }
    if request.payer_id:
        user["external_reference"] = request.payer_id
    expires = (now + timedelta(days=settings.validity_days)).astimezone(UTC)
    body: dict[str, Any] = {
        "user": user,
        "client_reference": request.client_reference,
        "expired_date": expires.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "transactions": [
            {
                "amount": Decimal(request.amount_cents).scaleb(-2),
                "currency": request.currency,
                "label": link_label(request.reference, request.invoice_numbers),
                "end_to_end_id": sepa_text(request.reference, END_TO_END_MAX),
            }
        ],
    }
    if settings.callback_url:
        body["callback_url"] = settings.callback_url
    return body


def signature_ok(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """Whether a webhook's body was signed by Bridge with one of our webhook secrets."""
    if not header:
        return False
    offered = [
        value.strip().removeprefix("v1=").upper()
        for value in header.split(",")
        if value.strip().startswith("v1=")
    ]
    expected = [
        hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().upper() for secret in secrets
    ]
    return any(hmac.compare_digest(o, e) for o in offered for e in expected)


class PaymentLinkClient(ClosingClient):
    """Create, read and revoke payment links."""

    def __init__(
        self,
        settings: PaymentLinkSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
        logger: Logger | None = None,
    ) -> None:
        self.settings = settings
        secret = settings.client_secret.get_secret_value()
        self._http = HttpClient(
            SERVICE,
            settings.base_url,
            timeout_s=settings.timeout_s,
            retry=RetryPolicy(max_retries=settings.max_retries),
            requests_per_second=settings.requests_per_second,
            headers={
                "Bridge-Version": settings.bridge_version,
                "Accept": "application/json",
                "Client-Id": settings.client_id,
                "Client-Secret": secret,
            },
            secrets=[secret, *(s.get_secret_value() for s in settings.webhook_secrets)],
            sleep=sleep,
            clock=clock,
            rand=rand,
            transport=transport,
            logger=logger,
        )

    def __repr__(self) -> str:
        return f"PaymentLinkClient(base_url={self.settings.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def create(self, request: LinkRequest, *, now: datetime | None = None) -> PaymentLink:
        body = link_body(request, self.settings, now or datetime.now(UTC))
        answer = self._http.request_json("POST", LINKS_PATH, json_body=body)
        return self._link(answer, "POST", default_status="valid")

    def get(self, link_id: str) -> PaymentLink:
        answer = self._http.request_json("GET", f"{LINKS_PATH}/{link_id}")
        return self._link(answer, "GET")

    def revoke(self, link_id: str) -> None:
        self._http.request("POST", f"{LINKS_PATH}/{link_id}/revoke")

    def _link(self, answer: dict[str, Any], method: str, default_status: str = "") -> PaymentLink:
        link_id, url = answer.get("id"), answer.get("url")
        status = str(answer.get("status") or default_status).lower()
        if not isinstance(link_id, str) or not link_id or (method == "POST" and not url):
            raise ConnectorDataError(
                f"{SERVICE} {method} {LINKS_PATH}: the answer has no link id or url",
                service=SERVICE,
                endpoint=f"{method} {LINKS_PATH}",
            )
        if status not in STATUSES:
            raise ConnectorDataError(
                f"{SERVICE} {method} {LINKS_PATH}: unknown link status {status!r}",
                service=SERVICE,
                endpoint=f"{method} {LINKS_PATH}",
            )
        return PaymentLink(id=link_id, url=str(url or ""), status=status)
