"""A local Bridge API v3 (aggregation) server on loopback, for tests and the demo.

It speaks the contract o2c.tasks.bank.open_banking relies on: `Client-Id`/`Client-Secret` and
`Bridge-Version` headers on every call, a user token from POST /v3/aggregation/authorization/token
sent as `Bearer`, accounts and transactions listed in pages chained by `pagination.next_uri`,
`since` on `updated_at`, `min_date`/`max_date` on the date, and withdrawn transactions served with
`deleted: true`. Amounts go out as JSON numbers written from Decimal text, as Bridge sends them.

Faults are queued with `inject(...)` and consumed one per matching request, in order.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

TOKEN_PATH = "/v3/aggregation/authorization/token"
ACCOUNTS_PATH = "/v3/aggregation/accounts"
TRANSACTIONS_PATH = "/v3/aggregation/transactions"
_NUMBER = re.compile(r'"__number__:(-?[0-9]+(?:\.[0-9]+)?)"')


@dataclass
class Fault:
    """One bad answer: a status (with Retry-After) and/or a delay before answering."""

    path: str | None = None  # only requests to this path; None for any
    status: int | None = None
    retry_after: str | None = None
    delay_s: float = 0.0
    body: dict[str, Any] | None = None
    raw: bytes | None = None  # served as is (malformed JSON, say), with `status` or 200


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int = 0


@dataclass
class BridgeFake:
    client_id: str = "fake-client-id"
    client_secret: str = "fake-client-secret-s3cr3t"
    user_uuid: str = "2f3d4a1e-0000-4000-8000-00000000c0de"
    external_user_id: str = "o2c-demo-company"
    bridge_version: str = "2025-01-15"
    max_limit: int = 500
    accounts: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_id: int = 33000191035700

    # -- test data ---------------------------------------------------------------------------

    def add_account(self, account_id: int, iban: str | None, currency: str = "EUR") -> dict:
        account = {
            "id": account_id,
            "name": f"Compte {account_id}",
            "balance": "__number__:0.00",
            "currency_code": currency,
            "iban": iban,
            "type": "checking",
            "item_id": 7984384,
        }
        self.accounts.append(account)
        return account

    def add_transaction(
        self,
        account_id: int,
        amount: str,
        booking_date: str,
        *,
        updated_at: str,
        label: str = "VIR SEPA",
        value_date: str | None = None,
        currency: str = "EUR",
        operation_type: str = "transfer",
        future: bool = False,
    ) -> dict:
        Decimal(amount)  # a typo in a test should fail here, not in the client
        with self._lock:
            self._next_id += 1
            tx = {
                "id": self._next_id,
                "clean_description": label.title(),
                "provider_description": label,
                "amount": f"__number__:{amount}",
                "date": booking_date,
                "booking_date": booking_date,
                "transaction_date": booking_date,
                "value_date": value_date or booking_date,
                "updated_at": updated_at,
                "currency_code": currency,
                "deleted": False,
                "category_id": 0,
                "operation_type": operation_type,
                "account_id": account_id,
                "future": future,
            }
            self.transactions.append(tx)
        return tx

    def withdraw(self, tx_id: int, *, updated_at: str) -> None:
        """The provider takes a transaction back: it is served again, flagged deleted."""
        for tx in self.transactions:
            if tx["id"] == tx_id:
                tx["deleted"] = True
                tx["updated_at"] = updated_at
                return
        raise KeyError(tx_id)

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    # -- serving -----------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.path in (None, path):
                    return self.faults.pop(i)
        return None

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes):
        """(status, extra headers, payload) for one request."""
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        record = Recorded(method, parts.path, query, headers)
        self.requests.append(record)
        fault = self._take_fault(parts.path)
        if fault:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            if fault.raw is not None:
                record.status = fault.status or 200
                return record.status, {}, fault.raw
            if fault.status:
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                payload = fault.body or {"type": "fault", "message": f"injected {fault.status}"}
                record.status = fault.status
                return fault.status, extra, payload
        status, payload = self._answer(method, parts.path, query, headers, body)
        record.status = status
        return status, {}, payload

    def _answer(self, method, path, query, headers, body):
        if headers.get("bridge-version") != self.bridge_version:
            return 400, _error("invalid_version", "missing or unknown Bridge-Version header")
        if (
            headers.get("client-id") != self.client_id
            or headers.get("client-secret") != self.client_secret
        ):
            return 401, _error("invalid_client", "bad client credentials")
        if path == TOKEN_PATH and method == "POST":
            return self._token(body)
        if method != "GET" or path not in (ACCOUNTS_PATH, TRANSACTIONS_PATH):
            return 404, _error("not_found", f"no route {method} {path}")
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return 401, _error("invalid_token", "user access token missing or expired")
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            return 400, _error("invalid_param", "limit is not an integer")
        if not 1 <= limit <= self.max_limit:
            return 400, _error("invalid_param", f"limit must be 1..{self.max_limit}")
        if path == ACCOUNTS_PATH:
            return 200, self._page(path, self.accounts, query, limit)
        return 200, self._page(path, self._filtered(query), query, limit)

    def _token(self, body: bytes):
        try:
            wanted = json.loads(body or b"{}")
        except ValueError:
            return 400, _error("invalid_body", "body is not JSON")
        if not (
            wanted.get("user_uuid") == self.user_uuid
            or wanted.get("external_user_id") == self.external_user_id
        ):
            return 404, _error("not_found", "unknown user")
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return 200, {
            "access_token": token,
            "expires_at": "2099-01-01T00:00:00.000Z",
            "user": {"uuid": self.user_uuid, "external_user_id": self.external_user_id},
        }

    def _filtered(self, query: dict[str, str]) -> list[dict[str, Any]]:
        rows = list(self.transactions)
        if "account_id" in query:
            rows = [t for t in rows if str(t["account_id"]) == query["account_id"]]
        if "since" in query:
            since = _ts(query["since"])
            rows = [t for t in rows if _ts(t["updated_at"]) > since]
        if "until" in query:
            until = _ts(query["until"])
            rows = [t for t in rows if _ts(t["updated_at"]) <= until]
        if "min_date" in query:
            rows = [t for t in rows if t["date"] >= query["min_date"]]
        if "max_date" in query:
            rows = [t for t in rows if t["date"] <= query["max_date"]]
        # Non-deleted rows only unless they changed since the cursor: Bridge shows deletions
        # to a client that syncs with `since`.
        if "since" not in query:
            rows = [t for t in rows if not t["deleted"]]
        return sorted(rows, key=lambda t: t["id"])

    def _page(self, path, rows, query, limit):
        start = int(base64.urlsafe_b64decode(query["after"]).decode()) if "after" in query else 0
        page = rows[start : start + limit]
        next_uri = None
        if start + limit < len(rows):
            kept = {k: v for k, v in query.items() if k != "after"}
            after = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
            next_uri = f"{path}?{urlencode({**kept, 'after': after, 'limit': limit})}"
        return {"resources": page, "pagination": {"next_uri": next_uri}}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> BridgeFake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, payload = fake.handle(self.command, self.path, headers, body)
                data = (
                    payload
                    if isinstance(payload, bytes)
                    else _NUMBER.sub(r"\1", json.dumps(payload)).encode()
                )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in extra.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away: that was the point

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _error(kind: str, message: str) -> dict[str, str]:
    return {"type": kind, "message": message, "documentation_url": None}


def _ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


if __name__ == "__main__":  # `python tests/fakes/bridge_server.py`: a fake Bridge for the demo
    demo = BridgeFake()
    demo.add_account(1001, "FR7630006000011234567890189")
    demo.add_transaction(
        1001, "1200.00", "2026-11-02", updated_at="2026-11-02T08:00:00Z",
        label="VIR SEPA ACME SARL FA-2026-0042",
    )  # fmt: skip
    demo.start()
    print(f"O2C_BRIDGE_BASE_URL={demo.url}")
    print(f"O2C_BRIDGE_CLIENT_ID={demo.client_id}")
    print(f"O2C_BRIDGE_CLIENT_SECRET={demo.client_secret}")
    print(f"O2C_BRIDGE_USER_UUID={demo.user_uuid}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        demo.stop()
