"""Odoo's external API behind one adapter: JSON-RPC (Odoo 17/18) or JSON-2 (Odoo 19 on).

Contract used (../shared/CONTRACTS.md section 3; odoo/documentation external_rpc_api.rst and
external_api.rst):
- JSON-RPC: `POST /jsonrpc` with `{"jsonrpc": "2.0", "method": "call", "params": {"service":
  "common", "method": "authenticate", "args": [db, login, api_key, {}]}}` answers the uid (false
  when refused); then service `object`, method `execute_kw`, args `[db, uid, api_key, model,
  method, args, kwargs]`. An Odoo error comes with HTTP 200 in the `error` member, its class in
  `error.data.name` (`odoo.exceptions.AccessDenied` ...).
- JSON-2: `POST /json/2/<model>/<method>`, `Authorization: bearer <api key>`, `X-Odoo-Database`,
  body `{ids, context, ...kwargs}`; the answer is the method's result itself; an error is an
  HTTP error status with `{name, message}`.

What is retried: what the shared client retries (5xx, 429, timeouts, dropped connections) and,
for JSON-RPC, an `error` member naming a server-side fault (a database serialisation failure, a
worker killed). An error Odoo raises about the request itself (access denied or refused, a record
missing, a user or validation error) is the caller's to fix: it fails at once, not retried.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import count
from typing import Any

import httpx

from o2c.models.settings_odoo import OdooSettings
from o2c.tasks.connectors.http import (
    ClosingClient,
    ConnectorDataError,
    ConnectorError,
    HttpClient,
    Logger,
    RetryPolicy,
)

SERVICE = "Odoo"
JSONRPC_PATH = "/jsonrpc"
JSON2_PATH = "/json/2"
# Odoo exceptions about the request, not the server: retrying cannot help.
CLIENT_FAULTS = frozenset(
    {
        "odoo.exceptions.AccessDenied",
        "odoo.exceptions.AccessError",
        "odoo.exceptions.MissingError",
        "odoo.exceptions.UserError",
        "odoo.exceptions.ValidationError",
        "odoo.exceptions.RedirectWarning",
        "werkzeug.exceptions.NotFound",
        "werkzeug.exceptions.BadRequest",
        "builtins.ValueError",
        "builtins.KeyError",
        "builtins.TypeError",
    }
)

Domain = list[Any]


class OdooError(ConnectorError):
    """Odoo refused the request itself (AccessDenied, UserError ...): not retried."""


def _decode(content: bytes, endpoint: str) -> Any:
    """JSON with every number holding a fraction as Decimal: Odoo's amounts are floats."""
    try:
        return json.loads(content, parse_float=Decimal)
    except ValueError:
        raise ConnectorDataError(
            f"Odoo {endpoint}: response is not JSON", service=SERVICE, endpoint=endpoint
        ) from None


class OdooClient(ClosingClient):
    """`search_read`, `read` and any method on any model, over the configured protocol."""

    def __init__(
        self,
        settings: OdooSettings,
        *,
        api_key: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
        logger: Logger | None = None,
    ) -> None:
        self.settings = settings
        self._key = api_key if api_key is not None else settings.key()
        headers = {"Accept": "application/json"}
        if settings.protocol == "json2":
            headers |= {"Authorization": f"bearer {self._key}", "X-Odoo-Database": settings.db}
        self._http = HttpClient(
            SERVICE,
            settings.url,
            timeout_s=settings.timeout_s,
            retry=RetryPolicy(max_retries=settings.max_retries),
            requests_per_second=settings.requests_per_second,
            headers=headers,
            secrets=[self._key],
            sleep=sleep,
            clock=clock,
            rand=rand,
            transport=transport,
            logger=logger,
        )
        self._uid: int | None = None
        self._ids = count(1)

    def __repr__(self) -> str:
        return f"OdooClient(url={self.settings.url!r}, protocol={self.settings.protocol!r})"

    def close(self) -> None:
        self._http.close()

    @property
    def requests_made(self) -> int:
        return self._http.requests_made

    # -- the adapter ---------------------------------------------------------------------------

    def search_read(
        self,
        model: str,
        domain: Domain,
        fields: Sequence[str],
        *,
        order: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Records matching `domain`, with `fields`, in `order` (Odoo's own ORDER BY text)."""
        options: dict[str, Any] = {"fields": list(fields), "offset": offset}
        if order:
            options["order"] = order
        if limit:
            options["limit"] = limit
        if self.settings.protocol == "json2":
            result = self._json2(model, "search_read", {"domain": domain, **options})
        else:
            result = self._execute_kw(model, "search_read", [domain], options)
        return self._records(result, model, "search_read")

    def read(self, model: str, ids: Sequence[int], fields: Sequence[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        if self.settings.protocol == "json2":
            result = self._json2(model, "read", {"ids": list(ids), "fields": list(fields)})
        else:
            result = self._execute_kw(model, "read", [list(ids)], {"fields": list(fields)})
        return self._records(result, model, "read")

    def call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None = None,
        *,
        context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Any public method: on records `ids` when given, with `context` and keyword arguments."""
        if context is not None:
            kwargs["context"] = context
        if self.settings.protocol == "json2":
            body = ({"ids": list(ids)} if ids is not None else {}) | kwargs
            return self._json2(model, method, body)
        args = [list(ids)] if ids is not None else []
        return self._execute_kw(model, method, args, kwargs)

    def create(self, model: str, values: dict[str, Any], *, context: dict[str, Any]) -> int:
        """One record created with `context`; its id."""
        if self.settings.protocol == "json2":
            result = self._json2(model, "create", {"vals_list": [values], "context": context})
        else:
            result = self._execute_kw(model, "create", [values], {"context": context})
        result = result[0] if isinstance(result, list) and result else result
        if not isinstance(result, int) or isinstance(result, bool):
            raise ConnectorDataError(f"Odoo {model}.create: no id in the answer", service=SERVICE)
        return result

    def act(self, model: str, method: str, ids: Sequence[int], *, context: dict[str, Any]) -> Any:
        """A method that changes the books (posts a payment): sent once, never retried here; a
        caller that does not know whether it took effect looks for its effect before trying
        again."""
        once = {"before_retry": lambda failure: False}
        if self.settings.protocol == "json2":
            return self._json2(model, method, {"ids": list(ids), "context": context}, **once)
        s = self.settings
        args = [s.db, self.uid(), self._key, model, method, [list(ids)], {"context": context}]
        return self._jsonrpc("object", "execute_kw", args, **once)

    # -- JSON-RPC --------------------------------------------------------------------------------

    def uid(self) -> int:
        """The user id `common.authenticate` gives for the login and API key (asked once)."""
        if self._uid is None:
            s = self.settings
            uid = self._jsonrpc("common", "authenticate", [s.db, s.login, self._key, {}])
            if not isinstance(uid, int) or isinstance(uid, bool):
                raise OdooError(
                    f"Odoo {s.url}: authentication refused for login {s.login!r} on database"
                    f" {s.db!r} (check O2C_ODOO_LOGIN and the API key); not retried",
                    service=SERVICE,
                    endpoint="common.authenticate",
                    attempts=1,
                )
            self._uid = uid
        return self._uid

    def _execute_kw(self, model: str, method: str, args: list, kwargs: dict) -> Any:
        s = self.settings
        return self._jsonrpc(
            "object", "execute_kw", [s.db, self.uid(), self._key, model, method, args, kwargs]
        )

    def _jsonrpc(self, service: str, method: str, args: list, **options: Any) -> Any:
        endpoint = f"{service}.{method}" if service == "common" else f"{args[3]}.{args[4]}"
        answer: dict[str, Any] = {}

        def check(response: httpx.Response) -> str | None:
            if response.status_code != 200:
                return None  # the shared client judges statuses
            body = _decode(response.content, endpoint)
            if not isinstance(body, dict):
                raise ConnectorDataError(
                    f"Odoo {endpoint}: answer is not a JSON-RPC object", service=SERVICE
                )
            error = body.get("error")
            if error is None:
                answer["body"] = body
                return None
            name, message = _error_parts(error)
            if name in CLIENT_FAULTS:
                raise OdooError(
                    self._http.redact(f"Odoo {endpoint}: {name}: {message}; not retried"),
                    service=SERVICE,
                    endpoint=endpoint,
                )
            return f"Odoo server error {name or 'unknown'}: {message}"

        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": next(self._ids),
        }
        self._http.request("POST", JSONRPC_PATH, json_body=payload, check=check, **options)
        body = answer.get("body")
        if body is None or "result" not in body:
            raise ConnectorDataError(
                f"Odoo {endpoint}: JSON-RPC answer without a result", service=SERVICE
            )
        return body["result"]

    # -- JSON-2 ----------------------------------------------------------------------------------

    def _json2(self, model: str, method: str, body: dict[str, Any], **options: Any) -> Any:
        path = f"{JSON2_PATH}/{model}/{method}"
        response = self._http.request("POST", path, json_body=body, **options)
        return _decode(response.content, f"{model}.{method}")

    def _records(self, result: Any, model: str, method: str) -> list[dict[str, Any]]:
        if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
            raise ConnectorDataError(
                f"Odoo {model}.{method}: expected a list of records", service=SERVICE
            )
        return result


def _error_parts(error: Any) -> tuple[str, str]:
    """The exception class and its message from a JSON-RPC `error` member (never `debug`)."""
    if not isinstance(error, dict):
        return "", str(error)[:200]
    data = error.get("data") if isinstance(error.get("data"), dict) else {}
    name = str(data.get("name") or "")
    message = str(data.get("message") or error.get("message") or "")[:300]
    return name, message
