"""A local twin of Odoo's external API on loopback, for tests, the demo and the benchmark.

It speaks the contract tasks/connectors/odoo.py follows (see its docstring): JSON-RPC
(`common.authenticate`, `object.execute_kw`) and JSON-2 (`POST /json/2/<model>/<method>`, bearer
key), over the models the ERP source reads: `account.move`, `res.partner`, `res.partner.bank`,
`res.currency`, and the `account.payment.register` wizard with the `account.payment` it posts.
`search_read` and `read` take Odoo domains (prefix `&`, `|`, `!`; =, !=, <, <=, >, >=, in, not
in, ilike) and `order` text; many2one fields answer `[id, name]`, empty ones `false`; amounts go
out as JSON floats, as Odoo sends them. Every change stamps `write_date` from the twin's clock,
which advances one second a change unless frozen (`twin.frozen = True`: rows sharing a stamp).

Faults are queued with `inject` and consumed one per matching call (by Odoo method name), in
order: an HTTP status (5xx, 429 with Retry-After), a timeout (the answer held back), a dropped
connection half-way through the body, or an Odoo error in the JSON-RPC `error` member (JSON-2: an
error status with `{name, message}`).

What is not verified against a real Odoo (CONTRACTS.md section 7): whether posting a payment
bumps the invoice's `write_date`. `payments_bump_write_date` says which the twin does (True by
default); set it False to play the other case.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any

from o2c.twins.loopback import LoopbackTwin, QuietHandler

ACCESS_DENIED = "odoo.exceptions.AccessDenied"
USER_ERROR = "odoo.exceptions.UserError"
MISSING = "odoo.exceptions.MissingError"
# many2one fields: field -> the model it points to.
MANY2ONE = {
    "partner_id": "res.partner",
    "commercial_partner_id": "res.partner",
    "currency_id": "res.currency",
}
_JSON2_STATUS = {ACCESS_DENIED: 401, "odoo.exceptions.AccessError": 403, MISSING: 404}


@dataclass
class Fault:
    """One bad answer to the next call of `method` (any method when None).

    kind: "status" (HTTP `status`, with `retry_after`), "timeout" (answer held `seconds`),
    "drop" (half the body, then the connection closed), "error" (Odoo exception `name`)."""

    kind: str
    method: str | None = None
    status: int = 500
    retry_after: str | None = None
    seconds: float = 5.0
    name: str = "psycopg2.errors.SerializationFailure"


class OdooError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name, self.message = name, message


class OdooTwin(LoopbackTwin):
    """Start with `with OdooTwin(...) as twin:`; `twin.url` is its base URL."""

    def __init__(
        self,
        db: str = "o2c",
        login: str = "api@example.com",
        api_key: str = "twin-odoo-api-key-0123456789",
        uid: int = 2,
    ) -> None:
        self.db, self.login, self.api_key, self.uid = db, login, api_key, uid
        self.records: dict[str, dict[int, dict[str, Any]]] = {
            m: {}
            for m in (
                "account.move",
                "res.partner",
                "res.partner.bank",
                "res.currency",
                "account.payment",
                "account.payment.register",
            )
        }
        self.clock = datetime(2026, 1, 1, 8, 0, 0)
        self.frozen = False
        self._tick = 0
        self.payments_bump_write_date = True
        self.calls: list[tuple[str, str]] = []  # (model, method), in order
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.RLock()
        for code in ("EUR", "USD", "GBP", "CHF"):
            self._create("res.currency", {"name": code})
        self._listen(_handler(self))

    # -- data, as a test or the demo sets it up ---------------------------------------------------

    def stamp(self) -> str:
        """The next write_date. Odoo stores microseconds and answers whole seconds; frozen, the
        twin gives each change of the same second fewer microseconds than the one before, so
        that within a second the stored order is the reverse of the ids' (the worst case)."""
        text = self.clock.strftime("%Y-%m-%d %H:%M:%S")
        self._tick += 1
        if not self.frozen:
            self.clock += timedelta(seconds=1)
            return text
        return f"{text}.{999_999 - self._tick:06d}"

    def _create(self, model: str, values: dict[str, Any]) -> int:
        with self._lock:
            rid = self._next_id
            self._next_id += 1
            self.records[model][rid] = {"id": rid, **values, "write_date": self.stamp()}
            return rid

    def write(self, model: str, ids: list[int], values: dict[str, Any]) -> None:
        with self._lock:
            stamp = self.stamp()
            for rid in ids:
                self.records[model][rid].update(values, write_date=stamp)

    def currency(self, code: str) -> int:
        return next(r["id"] for r in self.records["res.currency"].values() if r["name"] == code)

    def add_partner(self, name: str, *, iban: str | None = None, **values: Any) -> int:
        """A customer company; `values`: vat, company_registry, email, lang, ref, street ..."""
        fields = {"lang": "fr_FR", "customer_rank": 1, "is_company": True, **values}
        pid = self._create("res.partner", {"name": name, **fields})
        self.records["res.partner"][pid]["commercial_partner_id"] = pid
        if iban:
            self._create("res.partner.bank", {"partner_id": pid, "acc_number": iban})
        return pid

    def add_invoice(
        self,
        partner_id: int,
        name: str,
        amount: str | Decimal,
        *,
        invoice_date: str = "2026-01-05",
        due: str = "2026-02-04",
        currency: str = "EUR",
        refund: bool = False,
        state: str = "posted",
        payment_reference: str | None = None,
    ) -> int:
        total = Decimal(amount)
        return self._create(
            "account.move",
            {
                "name": name,
                "move_type": "out_refund" if refund else "out_invoice",
                "state": state,
                "partner_id": partner_id,
                "commercial_partner_id": self.records["res.partner"][partner_id][
                    "commercial_partner_id"
                ],
                "invoice_date": invoice_date,
                "invoice_date_due": due,
                "currency_id": self.currency(currency),
                "amount_total": total,
                "amount_residual": total,
                "payment_state": "not_paid",
                "payment_reference": payment_reference or name,
            },
        )

    def move_id(self, name: str) -> int:
        return next(r["id"] for r in self.records["account.move"].values() if r["name"] == name)

    def cancel(self, move_id: int) -> None:
        self.write("account.move", [move_id], {"state": "cancel"})

    def pay(self, move_id: int, amount: str | Decimal) -> None:
        """A payment reconciled with the invoice inside Odoo (by someone else, or by us)."""
        with self._lock:
            move = self.records["account.move"][move_id]
            residual = move["amount_residual"] - Decimal(amount)
            values = {
                "amount_residual": residual,
                "payment_state": "paid" if residual == 0 else "partial",
            }
            if self.payments_bump_write_date:
                self.write("account.move", [move_id], values)
            else:
                move.update(values)

    # -- the API -------------------------------------------------------------------------------

    def execute(self, model: str, method: str, args: list, kwargs: dict) -> Any:
        """One ORM call, as execute_kw or JSON-2 make it (JSON-2's `ids` is args[0])."""
        if model not in self.records:
            raise OdooError(USER_ERROR, f"Object {model} doesn't exist")
        table = self.records[model]
        if method == "search_read":
            domain = args[0] if args else kwargs.get("domain", [])
            found = self._search(model, domain, kwargs.get("order"))
            offset, limit = kwargs.get("offset") or 0, kwargs.get("limit")
            found = found[offset : offset + limit if limit else None]
            return [self._render(model, r, kwargs.get("fields")) for r in found]
        if method == "search_count":
            return len(self._search(model, args[0] if args else kwargs.get("domain", []), None))
        ids = list(args[0]) if args else list(kwargs.get("ids") or [])
        if method == "read":
            missing = [i for i in ids if i not in table]
            if missing:
                raise OdooError(MISSING, f"Record does not exist or has been deleted: {missing}")
            return [self._render(model, table[i], kwargs.get("fields")) for i in ids]
        if method == "write":
            self.write(model, ids, args[1] if len(args) > 1 else kwargs["vals"])
            return True
        if model == "account.payment.register" and method == "create":
            return self._register_wizard(args, kwargs)
        if model == "account.payment.register" and method == "action_create_payments":
            return self._create_payments(ids)
        raise OdooError(USER_ERROR, f"The method {model}.{method} does not exist")

    def _search(self, model: str, domain: list, order: str | None) -> list[dict[str, Any]]:
        match = compile_domain(domain)
        with self._lock:
            found = [r for r in self.records[model].values() if match(r)]
        for term in reversed([t.strip() for t in (order or "id").split(",") if t.strip()]):
            name, _, direction = term.partition(" ")
            found.sort(
                key=lambda r, n=name: (r.get(n) is not None, r.get(n) or 0),
                reverse=direction.strip().lower() == "desc",
            )
        return found

    def _render(self, model: str, record: dict[str, Any], fields: list | None) -> dict[str, Any]:
        names = fields or list(record)
        out: dict[str, Any] = {"id": record["id"]}
        for name in names:
            value = record.get(name)
            if name in MANY2ONE and value is not None:
                target = self.records[MANY2ONE[name]].get(value, {})
                value = [value, target.get("name", "")]
            elif isinstance(value, Decimal):
                value = float(value)
            elif name == "write_date" and value:
                value = value[:19]
            out[name] = False if value is None else value
        return out

    def _register_wizard(self, args: list, kwargs: dict) -> int:
        context = kwargs.get("context") or {}
        if context.get("active_model") != "account.move" or not context.get("active_ids"):
            raise OdooError(USER_ERROR, "The register payment wizard needs active_ids")
        for mid in context["active_ids"]:
            move = self.records["account.move"].get(mid)
            if move is None or move["state"] != "posted":
                raise OdooError(
                    USER_ERROR, "You can only register payment for posted journal entries."
                )
            if move["amount_residual"] == 0:
                raise OdooError(
                    USER_ERROR,
                    "You can't register a payment: nothing left to pay on the selected items.",
                )
        values = args[0] if args else kwargs.get("vals_list") or kwargs.get("values") or {}
        values = values[0] if isinstance(values, list) else values
        return self._create(
            "account.payment.register",
            {"values": values, "active_ids": list(context["active_ids"])},
        )

    def _create_payments(self, ids: list[int]) -> bool:
        for wid in ids:
            wizard = self.records["account.payment.register"][wid]
            values = wizard["values"]
            amount = Decimal(str(values["amount"]))
            for mid in wizard["active_ids"]:
                self.pay(mid, amount)
                self._create(
                    "account.payment",
                    {
                        "amount": amount,
                        "date": values.get("payment_date"),
                        "memo": values.get("communication"),  # Odoo 18 on
                        "ref": values.get("communication"),  # Odoo 17
                        "communication": values.get("communication"),
                        "state": "posted",
                        "reconciled_invoice_ids": [mid],
                    },
                )
        return True

    # -- the wire ------------------------------------------------------------------------------

    def _fault(self, method: str) -> Fault | None:
        with self._lock:
            fault = next((f for f in self._faults if f.method in (None, method)), None)
            if fault:
                self._faults.remove(fault)
            return fault

    def jsonrpc(self, body: Any) -> tuple[Fault | None, dict[str, Any]]:
        rid = body.get("id") if isinstance(body, dict) else None
        fault: Fault | None = None
        params = body.get("params") or {} if isinstance(body, dict) else {}
        service, method, args = params.get("service"), params.get("method"), params.get("args")
        try:
            if service == "common" and method == "authenticate":
                self.calls.append(("common", "authenticate"))
                fault = self._fault("authenticate")
                db, login, key = args[0], args[1], args[2]
                ok = (db, login, key) == (self.db, self.login, self.api_key)
                return fault, {"jsonrpc": "2.0", "id": rid, "result": self.uid if ok else False}
            if service == "object" and method == "execute_kw":
                db, uid, key, model, name = args[:5]
                self.calls.append((model, name))
                fault = self._fault(name)
                if fault and fault.kind == "error":
                    raise OdooError(fault.name, "injected")
                if (db, uid, key) != (self.db, self.uid, self.api_key):
                    raise OdooError(ACCESS_DENIED, "Access Denied")
                call_args = args[5] if len(args) > 5 else []
                call_kwargs = args[6] if len(args) > 6 else {}
                result = self.execute(model, name, call_args, call_kwargs)
                return fault, {"jsonrpc": "2.0", "id": rid, "result": result}
            raise OdooError("werkzeug.exceptions.NotFound", f"no service {service}.{method}")
        except OdooError as exc:
            error = {
                "code": 200,
                "message": "Odoo Server Error",
                "data": {
                    "name": exc.name,
                    "debug": "Traceback (most recent call last): ...",
                    "message": exc.message,
                    "arguments": [exc.message],
                    "context": {},
                },
            }
            return fault, {"jsonrpc": "2.0", "id": rid, "error": error}

    def json2(
        self, model: str, method: str, headers: dict[str, str], body: Any
    ) -> tuple[Fault | None, int, Any]:
        self.calls.append((model, method))
        fault = self._fault(method)
        try:
            if fault and fault.kind == "error":
                raise OdooError(fault.name, "injected")
            scheme, _, key = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or key != self.api_key:
                raise OdooError(ACCESS_DENIED, "Access Denied")
            if headers.get("x-odoo-database", self.db) != self.db:
                raise OdooError(ACCESS_DENIED, "Access Denied")
            body = dict(body or {})
            ids = body.pop("ids", None)
            return fault, 200, self.execute(model, method, [ids] if ids is not None else [], body)
        except OdooError as exc:
            status = _JSON2_STATUS.get(exc.name, 422 if exc.name == USER_ERROR else 500)
            return fault, status, {"name": exc.name, "message": exc.message}


def compile_domain(domain: list) -> Callable[[dict[str, Any]], bool]:
    """An Odoo domain (prefix `&` `|` `!`, implicit AND between terms) as one predicate."""
    stack: list[Callable[[dict[str, Any]], bool]] = []
    for token in reversed(domain):
        if token == "!":
            inner = stack.pop()
            stack.append(lambda r, f=inner: not f(r))
        elif token in ("&", "|"):
            a, b = stack.pop(), stack.pop()
            if token == "&":
                stack.append(lambda r, a=a, b=b: a(r) and b(r))
            else:
                stack.append(lambda r, a=a, b=b: a(r) or b(r))
        else:
            stack.append(_leaf(*token))
    if not stack:
        return lambda r: True
    if len(stack) == 1:
        return stack[0]
    terms = list(stack)
    return lambda r: all(t(r) for t in terms)


def _leaf(field: str, op: str, value: Any) -> Callable[[dict[str, Any]], bool]:
    want = None if value is False and op in ("=", "!=") else value

    def get(r: dict[str, Any]) -> Any:
        return r.get(field)

    compare: dict[str, Callable[[Any], bool]] = {
        "=": lambda v: v == want,
        "!=": lambda v: v != want,
        ">": lambda v: v is not None and v > want,
        ">=": lambda v: v is not None and v >= want,
        "<": lambda v: v is not None and v < want,
        "<=": lambda v: v is not None and v <= want,
        "in": lambda v: v in want,
        "not in": lambda v: v not in want,
        "ilike": lambda v: v is not None and str(want).lower() in str(v).lower(),
    }
    if op not in compare:
        raise OdooError(USER_ERROR, f"Invalid domain operator {op!r}")
    test = compare[op]
    return lambda r: test(get(r))


def _handler(twin: OdooTwin) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw, headers = self.body(), self.lower_headers()
            try:
                body = json.loads(raw or b"{}", parse_float=Decimal)
            except ValueError:
                self._send(None, 400, {"name": "werkzeug.exceptions.BadRequest"})
                return
            if self.path == "/jsonrpc":
                fault, answer = twin.jsonrpc(body)
                self._send(fault, 200, answer)
            elif self.path.startswith("/json/2/") and self.path.count("/") == 4:
                _, _, _, model, method = self.path.split("/")
                fault, status, answer = twin.json2(model, method, headers, body)
                self._send(fault, status, answer)
            else:
                self._send(None, 404, {"name": "werkzeug.exceptions.NotFound"})

        def _send(self, fault: Fault | None, status: int, body: Any) -> None:
            try:
                self._answer(fault, status, body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                self.close_connection = True

        def _answer(self, fault: Fault | None, status: int, body: Any) -> None:
            data = json.dumps(body, default=_plain).encode()
            extra: dict[str, str] = {}
            if fault and fault.kind == "status":
                status, extra = fault.status, {"Retry-After": fault.retry_after or ""}
                data = json.dumps({"name": "fault", "message": "injected"}).encode()
            if fault and fault.kind == "timeout":
                time.sleep(fault.seconds)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                if value:
                    self.send_header(name, value)
            self.end_headers()
            if fault and fault.kind == "drop":
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data)

    return Handler


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
