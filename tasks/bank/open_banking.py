"""Open Banking pull from Bridge API v3 (aggregation): transactions in, cursor kept in DuckDB.

Contract used (docs.bridgeapi.io, version header `Bridge-Version`):
- POST /v3/aggregation/authorization/token with the app's `Client-Id`/`Client-Secret` headers and
  {"user_uuid": ...} or {"external_user_id": ...}: a user access token, sent as `Bearer`.
- GET /v3/aggregation/accounts: each account's id, IBAN and currency.
- GET /v3/aggregation/transactions?account_id=&limit=&since=&min_date=: transactions of an
  account, `since` filtering on `updated_at`; pages chained by `pagination.next_uri`.
  A transaction the provider withdrew comes back with `deleted: true`.

The incremental cursor of an account is the largest `updated_at` it has served us; the next sync
asks `since` that value. Rows are deduplicated by the loader's natural key, so fetching a
boundary row twice (or re-running after a crash) never doubles money.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import duckdb
import httpx
from pydantic import SecretStr

from o2c.models.bank import Statement, StatementLine
from o2c.models.settings_bridge import BridgeSettings
from o2c.tasks.bank.store import BankLoadResult, load_statements
from o2c.warehouse import scalar

log = logging.getLogger(__name__)

PROVIDER = "bridge"
SOURCE = "open_banking"
FORMAT = "open_banking"
TOKEN_PATH = "/v3/aggregation/authorization/token"
ACCOUNTS_PATH = "/v3/aggregation/accounts"
TRANSACTIONS_PATH = "/v3/aggregation/transactions"
_TOKEN_MARGIN = timedelta(seconds=60)  # renew a token this long before it expires
_DAY_MARGIN = 3  # days around a booking date when listing whole days by `date`


class BridgeError(RuntimeError):
    """A Bridge call that failed for good: names the endpoint and status, never a secret."""

    def __init__(self, message: str, *, endpoint: str, status: int | None, attempts: int) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.attempts = attempts


class BridgeDataError(ValueError):
    """A Bridge payload that does not fit the contract (missing or malformed field)."""


# --------------------------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------------------------


class _RateLimiter:
    """At most `rate` requests a second from this client: spaces calls evenly, no burst."""

    def __init__(self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]):
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    def wait(self) -> None:
        if not self._interval:
            return
        now = self._clock()
        if now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval


class BridgeClient:
    """httpx client for Bridge v3: timeouts, retries with backoff, rate limit, user token."""

    def __init__(
        self,
        settings: BridgeSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._limiter = _RateLimiter(settings.requests_per_second, clock, sleep)
        self._origin = _origin(settings.base_url)
        self._http = httpx.Client(
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.timeout_s),
            headers={"Bridge-Version": settings.bridge_version, "Accept": "application/json"},
            follow_redirects=False,
        )
        self._token: SecretStr | None = None
        self._token_expires: datetime | None = None
        self.requests_made = 0  # every HTTP attempt, retries included

    def __repr__(self) -> str:
        return f"BridgeClient(base_url={self.settings.base_url!r})"

    def __enter__(self) -> BridgeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- public calls ------------------------------------------------------------------------

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
                raise BridgeDataError(f"GET {path}: response has no 'resources' list")
            yield from resources
            next_uri = (body.get("pagination") or {}).get("next_uri")
            if not next_uri:
                return
            if next_uri in seen:
                raise BridgeDataError(f"GET {path}: pagination.next_uri loops ({next_uri})")
            seen.add(next_uri)
            url, query = self._checked_next(path, next_uri), None

    def _checked_next(self, path: str, next_uri: str) -> str:
        # A next_uri pointing elsewhere would carry our bearer token to another host.
        parts = urlsplit(next_uri)
        if parts.scheme or parts.netloc:
            if _origin(next_uri) != self._origin:
                raise BridgeError(
                    f"GET {path}: pagination.next_uri leaves {self._origin}; refused",
                    endpoint=f"GET {path}",
                    status=None,
                    attempts=0,
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
        return self._call("GET", url, params=params, headers=headers)

    def _access_token(self) -> SecretStr:
        now = datetime.now(UTC)
        if self._token and self._token_expires and now < self._token_expires - _TOKEN_MARGIN:
            return self._token
        s = self.settings
        payload = (
            {"user_uuid": s.user_uuid} if s.user_uuid else {"external_user_id": s.external_user_id}
        )
        body = self._call("POST", TOKEN_PATH, json_body=payload, headers=self._app_headers())
        raw = body.get("access_token")
        if not isinstance(raw, str) or not raw:
            raise BridgeDataError(f"POST {TOKEN_PATH}: response has no access_token")
        self._token = SecretStr(raw)
        self._token_expires = _parse_timestamp(body.get("expires_at")) or now + timedelta(hours=1)
        return self._token

    def _secrets(self) -> list[str]:
        found = [self.settings.client_secret.get_secret_value()]
        if self._token:
            found.append(self._token.get_secret_value())
        return [value for value in found if value]

    def _call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str],
    ) -> dict[str, Any]:
        """One logical call: retried on 429, 5xx and timeouts; any other 4xx fails at once."""
        s = self.settings
        endpoint = f"{method} {urlsplit(url).path}"
        attempts = 0
        while True:
            attempts += 1
            self._limiter.wait()
            self.requests_made += 1
            try:
                response = self._http.request(
                    method, url, params=params, json=json_body, headers=headers
                )
            except httpx.TimeoutException as exc:
                reason, status, retry_after = f"timed out ({type(exc).__name__})", None, None
            except httpx.TransportError as exc:
                raise BridgeError(
                    f"Bridge {endpoint}: network error ({type(exc).__name__}), not retried",
                    endpoint=endpoint,
                    status=None,
                    attempts=attempts,
                ) from None
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return _decode(response, endpoint)
                if status != 429 and status < 500:
                    raise BridgeError(
                        f"Bridge {endpoint} answered {status}"
                        f"{_describe(response, self._secrets())}; not retried",
                        endpoint=endpoint,
                        status=status,
                        attempts=attempts,
                    )
                reason = f"answered {status}"
                retry_after = _retry_after(response.headers.get("Retry-After"))
            if attempts > s.max_retries:
                raise BridgeError(
                    f"Bridge {endpoint} {reason}; gave up after {attempts} attempts",
                    endpoint=endpoint,
                    status=status,
                    attempts=attempts,
                )
            delay = min(s.backoff_base_s * 2 ** (attempts - 1), s.backoff_max_s)
            if retry_after is not None:
                if retry_after > s.retry_after_max_s:
                    raise BridgeError(
                        f"Bridge {endpoint} {reason} and asks to wait {retry_after:.0f} s,"
                        f" more than the {s.retry_after_max_s:.0f} s allowed; try later",
                        endpoint=endpoint,
                        status=status,
                        attempts=attempts,
                    )
                delay = max(delay, retry_after)
            log.warning(
                "Bridge %s %s; retry %d of %d in %.2f s",
                endpoint,
                reason,
                attempts,
                s.max_retries,
                delay,
            )
            self._sleep(delay)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _decode(response: httpx.Response, endpoint: str) -> dict[str, Any]:
    # Decimal, never float: 0.1 + 0.2 must stay 0.30 all the way to the warehouse.
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except ValueError as exc:
        raise BridgeDataError(f"Bridge {endpoint}: response is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise BridgeDataError(f"Bridge {endpoint}: response is not a JSON object")
    return body


def _describe(response: httpx.Response, secrets: list[str]) -> str:
    """The provider's own error type and message, shortened, with any secret blanked out."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body[key]) for key in ("type", "message") if body.get(key)]
    text = ": ".join(parts)[:300]
    for secret in secrets:
        text = text.replace(secret, "***")
    return f" ({text})" if text else ""


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from either of its two forms (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Fetch: payloads to typed lines
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class AccountFeed:
    """What one account served in one fetch."""

    account_id: str
    iban: str  # the IBAN, or 'bridge:<account id>' when the provider gives none
    currency: str | None
    # Booked lines of every day this fetch touched, in (booking date, provider id) order.
    lines: list[StatementLine] = field(default_factory=list)
    changed: int = 0  # of which new or changed since the cursor
    deleted_ids: list[str] = field(default_factory=list)  # provider ids withdrawn
    future_skipped: int = 0  # announced (`future: true`) and not yet booked: fetched again later
    cursor_before: str | None = None
    cursor_after: str | None = None  # largest updated_at seen; cursor_before when nothing came


@dataclass(slots=True)
class FetchResult:
    accounts: list[AccountFeed]

    @property
    def lines_by_iban(self) -> dict[str, list[StatementLine]]:
        grouped: dict[str, list[StatementLine]] = {}
        for feed in self.accounts:
            grouped.setdefault(feed.iban, []).extend(feed.lines)
        return grouped

    @property
    def deleted_ids(self) -> list[str]:
        return [tx_id for feed in self.accounts for tx_id in feed.deleted_ids]

    @property
    def cursors(self) -> dict[str, str | None]:
        return {feed.account_id: feed.cursor_after for feed in self.accounts}

    @property
    def transaction_count(self) -> int:
        """New or changed booked transactions (not counting same-day neighbours re-listed)."""
        return sum(feed.changed for feed in self.accounts)


def fetch_transactions(
    client: BridgeClient,
    *,
    since: datetime | None,
    cursor_state: Mapping[str, str | None],
) -> FetchResult:
    """Every account's new or changed transactions since its cursor, as whole booked days.

    `cursor_state` maps a Bridge account id to its saved cursor (the `updated_at` it reached).
    An account without one is read from `since` (its booking date, sent as `min_date`), or
    its whole history when `since` is None. Nothing is kept if any page fails: the caller
    saves no cursor and the next run asks again from the same place.

    The loader's natural key ranks identical payments (same account, day, currency, amount)
    within a statement, as a bank file does within its day. An incremental cut could hold the
    second of two such payments alone and make it look like the first, stored already: so for
    every booking day the cut touches, the day is listed again in full and all of it is handed
    over (already stored rows then count as duplicates, nothing is doubled or lost).
    """
    feeds = []
    for account in client.list_accounts():
        account_id = _text(account, "id", where="account")
        if account_id is None:
            raise BridgeDataError("Bridge account without an id")
        iban = _text(account, "iban", where=f"account {account_id}")
        feed = AccountFeed(
            account_id=account_id,
            iban=(iban.replace(" ", "").upper() if iban else f"bridge:{account_id}"),
            currency=_text(account, "currency_code", where=f"account {account_id}"),
            cursor_before=cursor_state.get(account_id),
        )
        latest: dict[str, dict[str, Any]] = {}  # a row moved across pages keeps its last state
        cursor = feed.cursor_before
        for tx_id, tx in _identified(
            client.iter_transactions(
                account_id=account_id,
                since=feed.cursor_before,
                min_date=since.date() if since and not feed.cursor_before else None,
            ),
            account_id,
        ):
            latest[tx_id] = tx
            updated = _text(tx, "updated_at", where=f"transaction {tx_id}")
            if updated and (cursor is None or _later(updated, cursor)):
                cursor = updated
        booked: dict[str, StatementLine] = {}
        for tx_id, tx in latest.items():
            if tx.get("deleted") is True:
                feed.deleted_ids.append(tx_id)
            elif tx.get("future") is True:
                feed.future_skipped += 1
            else:
                booked[tx_id] = _line(tx, tx_id, feed.currency)
        feed.changed = len(booked)
        if feed.cursor_before and booked:
            booked = {**booked, **_whole_days(client, feed, booked)}
        feed.lines = sorted(booked.values(), key=_line_order)
        feed.cursor_after = cursor
        feeds.append(feed)
    return FetchResult(feeds)


def _identified(
    rows: Iterator[dict[str, Any]], account_id: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    for tx in rows:
        tx_id = _text(tx, "id", where=f"account {account_id} transaction")
        if tx_id is None:
            raise BridgeDataError(f"Bridge account {account_id}: a transaction has no id")
        yield tx_id, tx


def _whole_days(
    client: BridgeClient, feed: AccountFeed, booked: Mapping[str, StatementLine]
) -> dict[str, StatementLine]:
    """Every booked transaction of the days in `booked`, listed by date (no cursor)."""
    days = {line.booking_date for line in booked.values()}
    # Bridge filters on `date`, which may differ from booking_date by a day or two.
    margin = timedelta(days=_DAY_MARGIN)
    found = {}
    for tx_id, tx in _identified(
        client.iter_transactions(
            account_id=feed.account_id,
            since=None,
            min_date=min(days) - margin,
            max_date=max(days) + margin,
        ),
        feed.account_id,
    ):
        if tx.get("deleted") is True or tx.get("future") is True:
            continue
        line = _line(tx, tx_id, feed.currency)
        if line.booking_date in days:
            found[tx_id] = line
    return found


def _line_order(line: StatementLine) -> tuple[date, int, str]:
    tx_id = line.external_id or ""
    return line.booking_date, len(tx_id), tx_id  # numeric ids in numeric order


def _later(a: str, b: str) -> bool:
    pa, pb = _parse_timestamp(a), _parse_timestamp(b)
    if pa is None or pb is None:
        return a > b
    return pa > pb


def _text(obj: Mapping[str, Any], key: str, *, where: str) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool | dict | list):
        raise BridgeDataError(f"Bridge {where}: field {key!r} is not a scalar ({value!r})")
    return str(value)


def _date(tx: Mapping[str, Any], key: str, tx_id: str) -> date | None:
    value = tx.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise BridgeDataError(
            f"Bridge transaction {tx_id}: field {key!r} is not a date ({value!r})"
        ) from None


def _line(tx: Mapping[str, Any], tx_id: str, account_currency: str | None) -> StatementLine:
    raw = tx.get("amount")
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        raise BridgeDataError(f"Bridge transaction {tx_id}: field 'amount' missing or not a number")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise BridgeDataError(
            f"Bridge transaction {tx_id}: 'amount' {raw!r} is not a number"
        ) from None
    if not amount.is_finite():
        raise BridgeDataError(f"Bridge transaction {tx_id}: 'amount' {raw!r} is not finite")
    booking = _date(tx, "booking_date", tx_id) or _date(tx, "date", tx_id)
    if booking is None:
        raise BridgeDataError(f"Bridge transaction {tx_id}: no 'booking_date' nor 'date'")
    currency = _text(tx, "currency_code", where=f"transaction {tx_id}") or account_currency
    if currency is None:
        raise BridgeDataError(f"Bridge transaction {tx_id}: no 'currency_code'")
    label = _text(tx, "provider_description", where=f"transaction {tx_id}")
    clean = _text(tx, "clean_description", where=f"transaction {tx_id}")
    return StatementLine(
        booking_date=booking,
        amount=amount,
        currency=currency.upper(),
        value_date=_date(tx, "value_date", tx_id),
        # The bank's own label is what a camt/MT940 file carries; the cleaned one is a fallback.
        remittance_unstructured=label or clean,
        bank_tx_code=_text(tx, "operation_type", where=f"transaction {tx_id}"),
        entry_ref=tx_id,
        external_id=tx_id,
    )


def to_statements(fetched: FetchResult) -> list[Statement]:
    """One Statement per account and currency, format 'open_banking'.

    A feed carries no balances, so opening_balance and closing_balance are None and the
    loader skips the balance check for these statements: the feed's completeness rests on the
    cursor, not on balances. The statement reference names the account and the cursor span,
    so a re-run over the same data yields the same statement.
    """
    statements = []
    for feed in fetched.accounts:
        by_currency: dict[str, list[StatementLine]] = {}
        for line in feed.lines:
            by_currency.setdefault(line.currency, []).append(line)
        for currency, lines in sorted(by_currency.items()):
            dates = [line.booking_date for line in lines]
            statements.append(
                Statement(
                    format=FORMAT,
                    account_iban=feed.iban,
                    currency=currency,
                    statement_ref=(
                        f"bridge:{feed.account_id}:{feed.cursor_before or 'start'}"
                        f"..{feed.cursor_after}"
                    ),
                    from_date=min(dates),
                    to_date=max(dates),
                    opening_balance=None,
                    closing_balance=None,
                    lines=lines,
                    entries_total=sum((line.amount for line in lines), Decimal(0)),
                    entry_count=len(lines),
                )
            )
    return statements


# --------------------------------------------------------------------------------------------
# Cursor persistence
# --------------------------------------------------------------------------------------------


def read_cursor(con: duckdb.DuckDBPyConnection, provider: str, account_id: str) -> str | None:
    return scalar(
        con,
        "SELECT cursor FROM open_banking_cursors WHERE provider = ? AND account_id = ?",
        [provider, account_id],
    )


def read_cursors(con: duckdb.DuckDBPyConnection, provider: str) -> dict[str, str | None]:
    rows = con.execute(
        "SELECT account_id, cursor FROM open_banking_cursors WHERE provider = ?", [provider]
    ).fetchall()
    return {account_id: cursor for account_id, cursor in rows}


def save_cursor(
    con: duckdb.DuckDBPyConnection,
    provider: str,
    account_id: str,
    cursor: str | None,
    *,
    now: datetime,
) -> None:
    """Upsert an account's cursor; `synced_until` is the cursor as a timestamp, for people."""
    synced = _parse_timestamp(cursor)
    con.execute(
        "INSERT INTO open_banking_cursors (provider, account_id, cursor, synced_until, updated_at)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (provider, account_id) DO UPDATE SET"
        " cursor = excluded.cursor, synced_until = excluded.synced_until,"
        " updated_at = excluded.updated_at",
        [
            provider,
            account_id,
            cursor,
            synced.astimezone(UTC).replace(tzinfo=None) if synced else None,
            now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now,
        ],
    )


# --------------------------------------------------------------------------------------------
# Sync: fetch -> load -> cursor
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WithdrawnTransaction:
    """A transaction already in the warehouse that the provider has since withdrawn."""

    external_id: str
    transaction_id: str
    account_iban: str
    booking_date: date
    amount: Decimal
    currency: str


@dataclass(slots=True)
class SyncResult:
    accounts: int
    transactions_in: int  # new or changed since the cursors
    deleted_ids: list[str]
    withdrawn_stored: list[WithdrawnTransaction]  # to surface: stored rows the bank took back
    future_skipped: int
    statements: int
    # The loader's figures count the same-day neighbours re-listed with the new rows too
    # (as duplicates); None when nothing was to load.
    load: BankLoadResult | None
    cursors: dict[str, str | None]

    def summary(self) -> dict[str, object]:
        """Figures for a run artifact."""
        return {
            "accounts": self.accounts,
            "transactions in (new or changed)": self.transactions_in,
            "statements": self.statements,
            "loaded": self.load.loaded if self.load else 0,
            "duplicates": self.load.duplicates if self.load else 0,
            "withdrawn by the provider": len(self.deleted_ids),
            "withdrawn but already stored": len(self.withdrawn_stored),
            "announced, not yet booked": self.future_skipped,
        }


def withdrawn_already_stored(
    con: duckdb.DuckDBPyConnection, external_ids: list[str]
) -> list[WithdrawnTransaction]:
    """Stored feed rows among the withdrawn ids: reported, never deleted behind finance's back."""
    if not external_ids:
        return []
    rows = con.execute(
        "SELECT external_id, transaction_id, account_iban, booking_date, amount, currency"
        " FROM bank_transactions WHERE list_contains(?, external_id)"
        " ORDER BY booking_date, external_id",
        [external_ids],
    ).fetchall()
    return [WithdrawnTransaction(*row) for row in rows]


def fingerprint(fetched: FetchResult, statements: list[Statement]) -> str:
    """SHA-256 of what a fetch brought, standing in for a file hash in load_batches."""
    digest = hashlib.sha256()
    for feed in sorted(fetched.accounts, key=lambda f: f.account_id):
        digest.update(f"{feed.account_id}|{feed.cursor_before}|{feed.cursor_after}\n".encode())
    for st in statements:
        digest.update(f"{st.account_iban}|{st.currency}|{st.statement_ref}\n".encode())
        for line in st.lines:
            digest.update(f"{line.external_id}|{line.booking_date}|{line.amount}\n".encode())
    return digest.hexdigest()


def sync(
    con: duckdb.DuckDBPyConnection,
    settings: BridgeSettings,
    *,
    now: datetime,
    flow_run_id: str | None = None,
    client: BridgeClient | None = None,
) -> SyncResult:
    """Fetch every account's news, load them with source 'open_banking', then move the cursors.

    The loader commits the rows in its own transaction; the cursors follow in a second one
    right after. A crash in between leaves the cursors behind the rows, never ahead of them:
    the next run fetches the same rows again and the loader's natural key stores them once.
    A failed fetch loads nothing and moves no cursor.
    """
    own_client = client is None
    client = client or BridgeClient(settings)
    try:
        fetched = fetch_transactions(
            client,
            since=now - timedelta(days=settings.initial_history_days),
            cursor_state=read_cursors(con, PROVIDER),
        )
    finally:
        if own_client:
            client.close()

    statements = to_statements(fetched)
    withdrawn = withdrawn_already_stored(con, fetched.deleted_ids)
    load = None
    if statements:
        load = load_statements(
            con,
            statements,
            file_name=f"bridge:{settings.user_uuid or settings.external_user_id}",
            sha256=fingerprint(fetched, statements),
            source=SOURCE,
            flow_run_id=flow_run_id,
        )
    con.execute("BEGIN TRANSACTION")
    try:
        for feed in fetched.accounts:
            if feed.cursor_after and feed.cursor_after != feed.cursor_before:
                save_cursor(con, PROVIDER, feed.account_id, feed.cursor_after, now=now)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    for item in withdrawn:
        log.warning(
            "Bridge withdrew transaction %s (%s %s %s on %s), already stored as %s",
            item.external_id,
            item.amount,
            item.currency,
            item.account_iban,
            item.booking_date,
            item.transaction_id,
        )
    return SyncResult(
        accounts=len(fetched.accounts),
        transactions_in=fetched.transaction_count,
        deleted_ids=fetched.deleted_ids,
        withdrawn_stored=withdrawn,
        future_skipped=sum(feed.future_skipped for feed in fetched.accounts),
        statements=len(statements),
        load=load,
        cursors=fetched.cursors,
    )
