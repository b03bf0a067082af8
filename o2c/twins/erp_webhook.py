"""A local twin of an ERP's webhook receiver on loopback: where a REST source's payments land.

`POST /hooks/o2c-payments` (any path) does what a receiving side should:
- checks `X-O2C-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with the shared secret,
  in constant time: a missing or wrong signature is a 401 and nothing is recorded;
- requires `Idempotency-Key`; a key already answered gets its first answer again, with
  `Idempotent-Replayed: true`, and nothing is recorded twice;
- records each allocation once (`payments`, by allocation id) and every request it got
  (`requests`: key, signature valid, replayed).

Faults are queued with `inject` and consumed one per request, in order: an HTTP status (500
once, 429 with Retry-After, 400...), answered before anything is recorded, or a slow answer.
`on_request(headers, body)` is called for each request before it is answered (a test reads the
warehouse's outbox from there, while the sender waits).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from o2c.twins.loopback import LoopbackTwin, QuietHandler

PATH = "/hooks/o2c-payments"


@dataclass
class Fault:
    """One bad answer to the next request: kind "status" (HTTP `status`, with `retry_after`),
    or "slow" (held `seconds`, then answered normally)."""

    kind: str = "status"
    status: int = 500
    retry_after: str | None = None
    seconds: float = 5.0


@dataclass(frozen=True)
class Received:
    key: str | None
    signed: bool
    replayed: bool
    status: int


class ErpWebhookTwin(LoopbackTwin):
    """Start with `with ErpWebhookTwin(secret=...) as hook:`; `hook.url` is the URL to post to."""

    def __init__(self, secret: str = "twin-webhook-secret-0123456789") -> None:
        self.secret = secret
        self.payments: dict[str, dict[str, Any]] = {}  # allocation id -> what was received
        self.requests: list[Received] = []
        self.on_request: Callable[[dict[str, str], bytes], None] | None = None
        self._answers: dict[str, tuple[int, bytes]] = {}
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._listen(_handler(self))

    @property
    def url(self) -> str:
        return self.root + PATH

    def _fault(self) -> Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def signed(self, signature: str, raw: bytes) -> bool:
        want = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(want, signature)

    def receive(self, headers: dict[str, str], raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        """(status, body, extra headers) of one delivery."""
        key = headers.get("idempotency-key")
        if not self.signed(headers.get("x-o2c-signature", ""), raw):
            self.requests.append(Received(key, False, False, 401))
            return 401, b'{"error": "bad signature"}', {}
        if not key:
            self.requests.append(Received(key, True, False, 400))
            return 400, b'{"error": "Idempotency-Key missing"}', {}
        with self._lock:
            if key in self._answers:
                status, body = self._answers[key]
                self.requests.append(Received(key, True, True, status))
                return status, body, {"Idempotent-Replayed": "true"}
            try:
                payload = json.loads(raw)
                allocations = payload["allocations"]
                ids = [a["allocation_id"] for a in allocations]
            except (ValueError, KeyError, TypeError):
                self.requests.append(Received(key, True, False, 422))
                return 422, b'{"error": "not a batch of allocations"}', {}
            for allocation in allocations:
                self.payments.setdefault(allocation["allocation_id"], allocation)
            body = json.dumps({"accepted": ids}).encode()
            self._answers[key] = (200, body)
            self.requests.append(Received(key, True, False, 200))
            return 200, body, {}


def _handler(hook: ErpWebhookTwin) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw, headers = self.body(), self.lower_headers()
            if hook.on_request is not None:
                hook.on_request(headers, raw)
            fault = hook._fault()
            if fault and fault.kind == "slow":
                time.sleep(fault.seconds)
            if fault and fault.kind == "status":
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                hook.requests.append(
                    Received(headers.get("idempotency-key"), True, False, fault.status)
                )
                self.answer(fault.status, b'{"error": "injected"}', extra)
                return
            self.answer(*hook.receive(headers, raw))

    return Handler
