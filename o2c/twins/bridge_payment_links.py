"""A local twin of Bridge's payment-link API on loopback, for tests and for the demo.

It speaks the contract tasks/connectors/payment_links.py follows (see its docstring, and what is
unconfirmed there): application credentials on every call, links created, read and revoked, a
payer who completes a link on demand (`complete`), and the signed `payment.link.updated`
webhook sent to a URL. It refuses what Bridge documents as refused: missing credentials (401),
a missing required field or a link living more than 90 days (400). Faults are queued with
`inject` and consumed one per matching request, in order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from o2c.twins.loopback import LoopbackTwin, QuietHandler

LINKS_PATH = "/v3/payment/payment-links"


@dataclass
class Fault:
    """One bad answer to the next request on `path` (any path when None)."""

    status: int
    path: str | None = None
    retry_after: str | None = None


@dataclass
class Link:
    id: str
    body: dict[str, Any]
    status: str = "valid"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class BridgePaymentLinksTwin(LoopbackTwin):
    """Start with `with BridgePaymentLinksTwin(...) as twin:`; `twin.url` is its base URL."""

    def __init__(
        self,
        client_id: str = "twin-client",
        client_secret: str = "twin-secret",
        webhook_secret: str = "twin-webhook-secret",
        webhook_url: str | None = None,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.webhook_secret, self.webhook_url = webhook_secret, webhook_url
        self.links: dict[str, Link] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path), in order
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._listen(_handler(self))

    def complete(self, link_id: str) -> dict[str, Any]:
        """The payer went through the bank's pages: the link is `completed` (a transfer was
        initiated, not yet received), and the webhook says so."""
        with self._lock:
            link = self.links[link_id]
            link.status = "completed"
        event = {
            "content": {
                "payment_link_id": link.id,
                "client_reference": link.body.get("client_reference"),
                "status": "completed",
            },
            "timestamp": int(datetime.now(UTC).timestamp() * 1000),
            "type": "payment.link.updated",
        }
        if self.webhook_url:
            raw = json.dumps(event).encode()
            httpx.post(
                self.webhook_url,
                content=raw,
                headers={"Content-Type": "application/json", "BridgeApi-Signature": self.sign(raw)},
                timeout=5,
            )
        return event

    def sign(self, raw: bytes) -> str:
        digest = hmac.new(self.webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
        return f"v1={digest.upper()}"

    # -- answers -----------------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple:
        with self._lock:
            self.requests.append((method, path))
            fault = next((f for f in self._faults if f.path in (None, path)), None)
            if fault:
                self._faults.remove(fault)
        if fault:
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return fault.status, {"type": "fault", "message": "injected"}, extra
        if (
            headers.get("client-id") != self.client_id
            or headers.get("client-secret") != self.client_secret
        ):
            return 401, {"type": "unauthorized", "message": "invalid client credentials"}, {}
        if not headers.get("bridge-version"):
            return 400, {"type": "invalid_request", "message": "Bridge-Version is missing"}, {}
        if method == "POST" and path == LINKS_PATH:
            return self._create(raw)
        parts = path.removeprefix(LINKS_PATH + "/").split("/")
        link = self.links.get(parts[0]) if path.startswith(LINKS_PATH + "/") else None
        if link is None:
            return 404, {"type": "not_found", "message": "no such payment link"}, {}
        if method == "GET" and len(parts) == 1:
            return 200, self._view(link), {}
        if method == "POST" and parts[1:] == ["revoke"]:
            if link.status in ("valid",):
                link.status = "revoked"
            return 200, self._view(link), {}
        return 404, {"type": "not_found", "message": "no such route"}, {}

    def _create(self, raw: bytes) -> tuple:
        try:
            body = json.loads(raw, parse_float=Decimal)
        except ValueError:
            return 400, {"type": "invalid_request", "message": "body is not JSON"}, {}
        problem = _problem(body)
        if problem:
            return 400, {"type": "invalid_request", "message": problem}, {}
        link = Link(id=str(uuid.uuid4()), body=body)
        with self._lock:
            self.links[link.id] = link
        return 200, {"id": link.id, "url": f"{self.url}/link/{link.id}"}, {}

    def _view(self, link: Link) -> dict[str, Any]:
        return {
            "id": link.id,
            "status": link.status,
            "client_reference": link.body.get("client_reference"),
            "expired_date": link.body.get("expired_date"),
        }


def _problem(body: Any) -> str | None:
    """What Bridge would refuse in a link request, or None."""
    if not isinstance(body, dict):
        return "body must be an object"
    user = body.get("user") or {}
    if not (user.get("company_name") or (user.get("first_name") and user.get("last_name"))):
        return "user needs company_name, or first_name and last_name"
    if not body.get("client_reference"):
        return "client_reference is required"
    expires = body.get("expired_date")
    if expires:
        try:
            when = datetime.fromisoformat(expires.replace("Z", "+00:00"))
        except ValueError:
            return "expired_date is not a date-time"
        if when > datetime.now(UTC) + timedelta(days=90, minutes=5):
            return "expired_date is more than 90 days ahead"
    transactions = body.get("transactions")
    if not isinstance(transactions, list) or not transactions:
        return "transactions is required"
    for t in transactions:
        for name in ("amount", "currency", "label", "end_to_end_id"):
            if t.get(name) in (None, ""):
                return f"transactions[].{name} is required"
        try:
            amount = Decimal(str(t["amount"]))
        except InvalidOperation:
            return "transactions[].amount is not a number"
        if amount <= 0 or amount.as_tuple().exponent < -2:
            return "transactions[].amount must be positive with at most 2 decimals"
        if len(t["label"]) > 50 or len(t["end_to_end_id"]) > 35:
            return "label is at most 50 characters, end_to_end_id at most 35"
    return None


def _handler(twin: BridgePaymentLinksTwin) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _serve(self) -> None:
            answer = twin.answer(self.command, self.path, self.lower_headers(), self.body())
            status, body, extra = answer
            self.answer(status, json.dumps(body, default=str).encode(), extra)

        do_GET = do_POST = _serve

    return Handler
