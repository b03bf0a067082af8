"""A local twin of a generic REST ERP on loopback, for tests, the demo and erp_sources/example.yaml.

It serves `GET /api/invoices` and `GET /api/customers`, JSON records with nested fields (an
invoice's `customer.id`, a customer's `address.city`), amounts as JSON numbers with their
decimals, `updated_at` as ISO 8601 UTC text stamped by the twin's clock (one second a change;
`frozen` keeps one stamp for several changes). Rows are filtered by `updated_since` (inclusive)
and sorted by (updated_at, id), as the REST source asks.

`pagination` picks the style it speaks: cursor (`cursor` in, `meta.next_cursor` out), page
(`page`, 1-based), offset (`offset`), link (the body is the array; `Link: <...>; rel="next"`);
`limit` is the page size. `auth` picks how it checks the caller: bearer, basic (`username` and
the secret as password) or api_key (`X-API-Key`); a wrong or missing credential is a 401.

Faults are queued with `inject` and consumed one per matching request, in order: an HTTP status
(500 once, 429 with Retry-After, 401), or a slow answer (held `seconds`).
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from o2c.twins.loopback import LoopbackTwin, QuietHandler

Style = Literal["cursor", "page", "offset", "link"]
Auth = Literal["bearer", "basic", "api_key"]
PREFIX = "/api"


@dataclass
class Fault:
    """One bad answer to the next request for `path` (any when None): kind "status" (HTTP
    `status`, with `retry_after`) or "slow" (the answer held `seconds`)."""

    kind: str = "status"
    path: str | None = None
    status: int = 500
    retry_after: str | None = None
    seconds: float = 5.0


class RestErpTwin(LoopbackTwin):
    """Start with `with RestErpTwin(...) as twin:`; `twin.url` is its base URL (…/api)."""

    def __init__(
        self,
        *,
        pagination: Style = "cursor",
        auth: Auth = "bearer",
        secret: str = "twin-rest-erp-token-0123456789",
        username: str = "o2c",
    ) -> None:
        self.pagination, self.auth, self.secret, self.username = pagination, auth, secret, username
        self.records: dict[str, dict[int, dict[str, Any]]] = {"invoices": {}, "customers": {}}
        self.clock = datetime(2026, 1, 1, 8, 0, 0)
        self.frozen = False
        self.unsorted = False  # answer newest first, as an API without the sort asked for does
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, query), in order
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.RLock()
        self._listen(_handler(self))

    @property
    def url(self) -> str:
        return self.root + PREFIX

    # -- data, as a test or the demo sets it up ---------------------------------------------------

    def stamp(self) -> str:
        text = self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        if not self.frozen:
            self.clock += timedelta(seconds=1)
        return text

    def _create(self, table: str, values: dict[str, Any]) -> int:
        with self._lock:
            rid = self._next_id
            self._next_id += 1
            self.records[table][rid] = {"id": rid, **values, "updated_at": self.stamp()}
            return rid

    def update(self, table: str, rid: int, **values: Any) -> None:
        with self._lock:
            self.records[table][rid].update(values, updated_at=self.stamp())

    def add_customer(self, name: str, **values: Any) -> int:
        """values: vat, siren, email, language, iban, address (line1, postal_code, city...)."""
        return self._create("customers", {"name": name, **values})

    def add_invoice(
        self,
        customer_id: int,
        number: str,
        total: str,
        *,
        issued_on: str = "2026-01-05",
        due_on: str = "2026-02-04",
        currency: str = "EUR",
    ) -> int:
        customer = self.records["customers"][customer_id]
        return self._create(
            "invoices",
            {
                "number": number,
                "customer": {"id": customer_id, "name": customer["name"]},
                "issued_on": issued_on,
                "due_on": due_on,
                "currency": currency,
                "total": Decimal(total),
                "paid": Decimal("0.00"),
                "status": "open",
            },
        )

    def invoice_id(self, number: str) -> int:
        return next(r["id"] for r in self.records["invoices"].values() if r["number"] == number)

    def pay(self, number: str, amount: str) -> None:
        rid = self.invoice_id(number)
        record = self.records["invoices"][rid]
        paid = record["paid"] + Decimal(amount)
        self.update(
            "invoices", rid, paid=paid, status="paid" if paid >= record["total"] else "partial"
        )

    def void(self, number: str) -> None:
        self.update("invoices", self.invoice_id(number), status="void")

    # -- the API -------------------------------------------------------------------------------

    def authorised(self, headers: dict[str, str]) -> bool:
        if self.auth == "bearer":
            return headers.get("authorization", "") == f"Bearer {self.secret}"
        if self.auth == "basic":
            pair = base64.b64encode(f"{self.username}:{self.secret}".encode()).decode()
            return headers.get("authorization", "") == f"Basic {pair}"
        return headers.get("x-api-key", "") == self.secret

    def fault(self, path: str) -> Fault | None:
        with self._lock:
            found = next((f for f in self._faults if f.path in (None, path)), None)
            if found:
                self._faults.remove(found)
            return found

    def answer(self, table: str, query: dict[str, str]) -> tuple[Any, dict[str, str]]:
        """The body and extra headers of one list request."""
        since = query.get("updated_since", "")
        with self._lock:
            rows = sorted(
                (r for r in self.records[table].values() if r["updated_at"] >= since),
                key=lambda r: (r["updated_at"], r["id"]),
                reverse=self.unsorted,
            )
            rows = copy.deepcopy(rows)
        limit = int(query.get("limit", "100"))
        if self.pagination == "cursor":
            after = query.get("cursor")
            if after:
                stamp, rid = json.loads(base64.urlsafe_b64decode(after))
                rows = [r for r in rows if (r["updated_at"], r["id"]) > (stamp, rid)]
            page = rows[:limit]
            more = len(rows) > limit
            token = (
                base64.urlsafe_b64encode(
                    json.dumps([page[-1]["updated_at"], page[-1]["id"]]).encode()
                ).decode()
                if more
                else None
            )
            return {"data": page, "meta": {"next_cursor": token}}, {}
        if self.pagination == "page":
            number = int(query.get("page", "1"))
            return {"data": rows[(number - 1) * limit : number * limit], "total": len(rows)}, {}
        offset = int(query.get("offset", "0"))
        page = rows[offset : offset + limit]
        if self.pagination == "offset":
            return {"data": page, "total": len(rows)}, {}
        headers = {}
        if offset + limit < len(rows):
            nxt = {**query, "offset": str(offset + limit)}
            headers["Link"] = f'<{self.url}/{table}?{urlencode(nxt)}>; rel="next"'
        return page, headers


def _handler(twin: RestErpTwin) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            headers = self.lower_headers()
            twin.requests.append((parts.path, query))
            fault = twin.fault(parts.path)
            if fault and fault.kind == "slow":
                time.sleep(fault.seconds)
            if fault and fault.kind == "status":
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(fault.status, {"error": "injected"}, extra)
                return
            if not twin.authorised(headers):
                self._send(401, {"error": "unauthorized"}, {"WWW-Authenticate": "Bearer"})
                return
            table = parts.path.removeprefix(PREFIX + "/")
            if parts.path.startswith(PREFIX + "/") and table in twin.records:
                body, extra = twin.answer(table, query)
                self._send(200, body, extra)
            else:
                self._send(404, {"error": "not found"}, {})

        def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
            self.answer(status, json.dumps(body, default=_plain).encode(), headers)

    return Handler


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):  # a JSON number, as most APIs send amounts
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
