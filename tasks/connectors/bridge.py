"""Bridge API v3 (aggregation) client on the connector base: auth, endpoints, pagination.

Contract used (docs.bridgeapi.io, version header `Bridge-Version`):
- POST /v3/aggregation/authorization/token with the app's `Client-Id`/`Client-Secret` headers and
  {"user_uuid": ...} or {"external_user_id": ...}: a user access token, sent as `Bearer`.
- GET /v3/aggregation/accounts: each account's id, IBAN and currency.
- GET /v3/aggregation/transactions?account_id=&limit=&since=&min_date=: transactions of an
  account, `since` filtering on `updated_at`; pages chained by `pagination.next_uri`.

It returns plain JSON data (dicts, Decimal amounts) and knows nothing of the warehouse, so it can
run in a task that holds no lock and no connection.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from o2c.models.settings_bridge import BridgeSettings
from o2c.tasks.connectors.http import (
    ClosingClient,
    ConnectorDataError,
    ConnectorError,
    HttpClient,
    Logger,
    RetryPolicy,
    origin,
)

SERVICE = "Bridge"
TOKEN_PATH = "/v3/aggregation/authorization/token"
ACCOUNTS_PATH = "/v3/aggregation/accounts"
TRANSACTIONS_PATH = "/v3/aggregation/transactions"
_TOKEN_MARGIN = timedelta(seconds=60)  # renew a token this long before it expires

BridgeError = ConnectorError  # what a failed Bridge call raises (kept name for callers)


class BridgeDataError(ConnectorDataError):
    """A Bridge payload that does not fit the contract (missing or malformed field)."""


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO timestamp from Bridge (with Z or offset), UTC when naive; None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class BridgeClient(ClosingClient):
    """Bridge v3 calls: app credentials on every call, a user token on top, pages followed."""

    def __init__(
        self,
        settings: BridgeSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
        logger: Logger | None = None,
    ) -> None:
        self.settings = settings
        self._http = HttpClient(
            SERVICE,
            settings.base_url,
            timeout_s=settings.timeout_s,
            retry=RetryPolicy(
                max_retries=settings.max_retries,
                backoff_base_s=settings.backoff_base_s,
                backoff_max_s=settings.backoff_max_s,
                jitter=settings.backoff_jitter,
                retry_after_max_s=settings.retry_after_max_s,
            ),
            requests_per_second=settings.requests_per_second,
            headers={"Bridge-Version": settings.bridge_version, "Accept": "application/json"},
            secrets=[settings.client_secret.get_secret_value()],
            sleep=sleep,
            clock=clock,
            rand=rand,
            transport=transport,
            logger=logger,
        )
        self._token: SecretStr | None = None
        self._token_expires: datetime | None = None

    def __repr__(self) -> str:
        return f"BridgeClient(base_url={self.settings.base_url!r})"

    def close(self) -> None:
        self._http.close()

    @property
    def requests_made(self) -> int:
        """Every HTTP attempt, retries included."""
        return self._http.requests_made

    # -- endpoints ---------------------------------------------------------------------------

    def list_accounts(self) -> list[dict[str, Any]]:
        return list(self._paginate(ACCOUNTS_PATH, {"limit": self.settings.page_limit}))

    def iter_transactions(
        self,
        *,
        account_id: str,
        since: str | None,
        min_date: date | None,
        max_date: date | None = None,
    ) -> Iterator[dict[str, Any]]:
        """One account's transactions updated after `since`, else dated min_date..max_date."""
        params: dict[str, Any] = {"account_id": account_id, "limit": self.settings.page_limit}
        if since:
            params["since"] = since
        else:
            if min_date:
                params["min_date"] = min_date.isoformat()
            if max_date:
                params["max_date"] = max_date.isoformat()
        return self._paginate(TRANSACTIONS_PATH, params)

    # -- plumbing ----------------------------------------------------------------------------

    def _paginate(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        url: str = path
        query: dict[str, Any] | None = params
        seen: set[str] = set()
        while True:
            body = self._get(url, query)
            resources = body.get("resources")
            if not isinstance(resources, list):
                raise BridgeDataError(
                    f"Bridge GET {path}: response has no 'resources' list",
                    service=SERVICE,
                    endpoint=f"GET {path}",
                )
            yield from resources
            next_uri = (body.get("pagination") or {}).get("next_uri")
            if not next_uri:
                return
            if next_uri in seen:
                raise BridgeDataError(
                    f"Bridge GET {path}: pagination.next_uri loops",
                    service=SERVICE,
                    endpoint=f"GET {path}",
                )
            seen.add(next_uri)
            url, query = self._checked_next(path, next_uri), None

    def _checked_next(self, path: str, next_uri: str) -> str:
        # A next_uri pointing elsewhere would carry our bearer token to another host.
        parts = urlsplit(next_uri)
        if parts.scheme or parts.netloc:
            if origin(next_uri) != self._http.origin:
                raise BridgeError(
                    f"Bridge GET {path}: pagination.next_uri leaves {self._http.origin}; refused",
                    service=SERVICE,
                    endpoint=f"GET {path}",
                )
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return next_uri

    def _app_headers(self) -> dict[str, str]:
        # Bridge wants the app's credentials on every call, the user's token on top of them.
        s = self.settings
        return {"Client-Id": s.client_id, "Client-Secret": s.client_secret.get_secret_value()}

    def _get(self, url: str, params: dict[str, Any] | None) -> dict[str, Any]:
        token = self._access_token()
        headers = {**self._app_headers(), "Authorization": f"Bearer {token.get_secret_value()}"}
        return self._http.request_json("GET", url, params=params, headers=headers)

    def _access_token(self) -> SecretStr:
        now = datetime.now(UTC)
        if self._token and self._token_expires and now < self._token_expires - _TOKEN_MARGIN:
            return self._token
        s = self.settings
        payload = (
            {"user_uuid": s.user_uuid} if s.user_uuid else {"external_user_id": s.external_user_id}
        )
        body = self._http.request_json(
            "POST", TOKEN_PATH, json_body=payload, headers=self._app_headers()
        )
        raw = body.get("access_token")
        if not isinstance(raw, str) or not raw:
            raise BridgeDataError(
                f"Bridge POST {TOKEN_PATH}: response has no access_token",
                service=SERVICE,
                endpoint=f"POST {TOKEN_PATH}",
            )
        self._http.add_secret(raw)
        self._token = SecretStr(raw)
        self._token_expires = parse_timestamp(body.get("expires_at")) or now + timedelta(hours=1)
        return self._token
