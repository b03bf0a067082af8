"""Any REST ERP as a source, described by its YAML mapping (models/erp_rest.py), and a signed
webhook to write payments back.

Pull: customers then invoices, each endpoint asked for rows changed since the stored cursor
(`updated_since_param` = the cursor's updated_at text, inclusive), page after page in the
mapping's pagination style, through the shared HTTP client (timeouts, retries on 5xx/429/
timeouts only, rate limit, secrets redacted). Each JSON record becomes a row of the export
contract by its dotted-path field mapping, so the same expectations, quarantine and idempotent
load run on it as on a file (tasks/erp/sources/__init__.py).

The cursor is (updated_at, id), and rows must come sorted by it; a page that is not is refused
(a cursor taken from it could skip rows). Rows at or before the stored cursor are dropped (the
parameter is inclusive). A page followed by another stores (its last updated_at, 0): a crash
there re-reads that instant's rows, loaded as unchanged, rather than trusting an order within
one instant the API may not keep; the pull's last page stores the exact (updated_at, last id).
The source reads one page ahead (to know whether a page is the last), so a crash loses at most
the page loaded next, never a row.

Prefer cursor or Link pagination: with page or offset pagination, a row that changes while a
pull runs moves to the end of the list and shifts the rows after it one place back, so one row
can slip across a page boundary unread while the cursor moves past it (it comes back when it
changes again). Keep page/offset for APIs that have nothing else, pulled often.
A REST source has no resync: its API must move an invoice's updated_at when it is paid.

Push: allocations POSTed in batches as JSON to the mapping's webhook URL, with
`X-O2C-Signature: sha256=<hex HMAC-SHA256 of the raw body>` and `Idempotency-Key`, a key derived
from the batch's allocation ids (tasks/erp/push.py stores it with each allocation in the outbox,
so a batch sent again after a crash carries the same key and the receiver answers it once).
Retried on 5xx, 429 and timeouts only; a 4xx fails the batch, not retried. A receiver that
answers a key it has seen with `Idempotent-Replayed: true` has its batch counted "already there".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import polars as pl

from o2c.models.erp import CUSTOMER_COLUMNS, INVOICE_COLUMNS
from o2c.models.erp_rest import RestEndpoint, RestSourceMapping, SecretRef
from o2c.models.erp_source import Cursor, ErpAllocation, Page, PageKind, PushSummary
from o2c.tasks.connectors.http import (
    ConnectorDataError,
    ConnectorError,
    HttpClient,
    Logger,
    RetryPolicy,
    json_bytes,
    origin,
)
from o2c.tasks.erp.tabular_files import LINE

SIGNATURE_HEADER = "X-O2C-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;[^,]*\brel="?next"?', re.IGNORECASE)


class RestSecretMissing(ValueError):
    """A secret the mapping names that is neither in the environment nor in a block."""


def read_secret(ref: SecretRef, what: str) -> str:
    """The secret: its environment variable when set, else its Prefect Secret block."""
    import os

    if ref.secret_env and os.environ.get(ref.secret_env):
        return os.environ[ref.secret_env]
    if ref.secret_block:
        from o2c.orchestration import secret_from_block

        value = secret_from_block(ref.secret_block)
        if value:
            return value
    named = " or ".join(
        n
        for n in (
            f"the variable {ref.secret_env}" if ref.secret_env else "",
            f"the Prefect Secret block {ref.secret_block!r}" if ref.secret_block else "",
        )
        if n
    )
    raise RestSecretMissing(f"{what}: no secret: set {named}")


def sign(secret: str, body: bytes) -> str:
    """The X-O2C-Signature value of a body: `sha256=` and the hex HMAC-SHA256 by the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def idempotency_key(source: str, allocation_ids: Sequence[str], salt: str = "") -> str:
    """A batch's key: the same allocations give the same key, whatever their order (`salt`: a
    batch sent again on purpose, after a refusal was fixed, gets a new one)."""
    text = "\n".join([source, salt, *sorted(allocation_ids)])
    return "o2c-" + hashlib.sha256(text.encode()).hexdigest()[:40]


def dig(record: Any, path: str) -> Any:
    """The value at a dotted path (`customer.address.city`; a digit indexes a list), or None."""
    value = record
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is None:
            return None
    return value


def _text(value: Any) -> str | None:
    """A JSON value as the export's text: numbers exactly as sent, booleans as true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def records_rows(
    records: Sequence[Mapping[str, Any]], endpoint: RestEndpoint, kind: PageKind, ids: list[int]
) -> pl.DataFrame:
    """JSON records as export rows (every contract column, text) with `_line` = their id."""
    columns = INVOICE_COLUMNS if kind == "invoices" else CUSTOMER_COLUMNS
    data: dict[str, list[Any]] = {LINE: ids}
    for column in columns:
        path = endpoint.fields.get(column)
        if path is None:
            data[column] = [None] * len(records)
            continue
        translate = endpoint.values.get(column, {})
        texts = [_text(dig(r, path)) for r in records]
        data[column] = [translate.get(t, t) if t is not None else None for t in texts]
    schema = {LINE: pl.Int64} | dict.fromkeys(columns, pl.String)
    return pl.DataFrame(data, schema=schema)


class RestSource:
    """`pull(since)`: customers, then invoices, changed after their cursors, page by page;
    `push(allocations)`: the signed webhook, when the mapping has one."""

    def __init__(
        self,
        mapping: RestSourceMapping,
        *,
        secret: str | None = None,
        webhook_secret: str | None = None,
        sleep: Any = None,
        transport: httpx.BaseTransport | None = None,
        logger: Logger | None = None,
    ) -> None:
        self.mapping = mapping
        self.name = mapping.source_name
        self.batch_size = mapping.push.batch_size if mapping.push else None
        self._secret, self._webhook_secret = secret, webhook_secret
        self._options: dict[str, Any] = {"transport": transport, "logger": logger}
        if sleep is not None:
            self._options["sleep"] = sleep
        # Made on first use: a pull needs no webhook secret, a push no API credential.
        self._api: HttpClient | None = None
        self._hook: HttpClient | None = None
        self._hook_secret: str | None = None

    def __enter__(self) -> RestSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for client in (self._api, self._hook):
            if client is not None:
                client.close()

    @property
    def _http(self) -> HttpClient:
        """The API's client, its credential read from the environment or block when first used."""
        if self._api is None:
            mapping, auth = self.mapping, self.mapping.auth
            headers = {"Accept": "application/json"}
            secrets: list[str] = []
            if auth.kind != "none":
                key = self._secret or read_secret(auth, f"{mapping.name} auth")
                secrets.append(key)
                if auth.kind == "bearer":
                    headers["Authorization"] = f"Bearer {key}"
                elif auth.kind == "basic":
                    pair = base64.b64encode(f"{auth.username}:{key}".encode()).decode()
                    headers["Authorization"] = f"Basic {pair}"
                else:
                    headers[auth.header] = key
            self._api = HttpClient(
                f"erp {mapping.name}",
                mapping.base_url,
                timeout_s=mapping.timeout_s,
                retry=RetryPolicy(max_retries=mapping.max_retries),
                requests_per_second=mapping.requests_per_second,
                headers=headers,
                secrets=secrets,
                **self._options,
            )
        return self._api

    def _webhook(self) -> tuple[HttpClient, str]:
        """The webhook's client (no API credential: the signature authenticates) and secret."""
        push = self.mapping.push
        if push is None:
            raise ValueError(f"{self.mapping.name}: the mapping has no push (webhook) section")
        if self._hook is None or self._hook_secret is None:
            self._hook_secret = self._webhook_secret or read_secret(
                push, f"{self.mapping.name} push"
            )
            self._hook = HttpClient(
                f"erp {self.mapping.name} webhook",
                self.mapping.base_url,
                timeout_s=push.timeout_s,
                retry=RetryPolicy(max_retries=push.max_retries),
                secrets=[self._hook_secret],
                **self._options,
            )
        return self._hook, self._hook_secret

    @property
    def requests_made(self) -> int:
        return self._http.requests_made

    # -- pull ----------------------------------------------------------------------------------

    def pull(self, since: Mapping[str, Cursor]) -> Iterator[Page]:
        for kind, endpoint in (
            ("customers", self.mapping.customers),
            ("invoices", self.mapping.invoices),
        ):
            if endpoint is None:
                continue
            model = endpoint.path
            yield from self._changed(kind, model, endpoint, since.get(model, Cursor.start()))

    def resync(self, invoice_ids: Sequence[str]) -> Iterator[Page]:
        """Nothing: a REST API has no common way to ask for invoices by number. Its invoices
        must change their updated_at when paid (say so in the mapping's comments)."""
        return iter(())

    def _changed(
        self, kind: PageKind, model: str, endpoint: RestEndpoint, since: Cursor
    ) -> Iterator[Page]:
        last_seen: Cursor | None = None  # the greatest (updated_at, id) read so far
        pages = self._pages(endpoint, since)
        current = next(pages, None)
        while current is not None:
            records, fetched = current
            following = next(pages, None)
            keys = [self._key(r, endpoint) for r in records]
            if keys != sorted(keys):
                raise ConnectorDataError(
                    f"{self.mapping.name} {endpoint.path}: rows not sorted by"
                    f" ({endpoint.updated_at}, {endpoint.id}); set the API's sort in"
                    f" {kind}.params so that no row is skipped",
                    service=self._http.service,
                    endpoint=f"GET {endpoint.path}",
                )
            if last_seen is not None and keys and keys[0] < last_seen:
                raise ConnectorDataError(
                    f"{self.mapping.name} {endpoint.path}: a page starts before the one before it",
                    service=self._http.service,
                    endpoint=f"GET {endpoint.path}",
                )
            fresh = [(r, k) for r, k in zip(records, keys, strict=True) if k > since]
            if keys:
                last_seen = keys[-1]
            if last_seen is None:
                cursor = None
            elif following is not None:
                cursor = Cursor(last_seen.write_date, 0)  # see the module doc
            else:
                cursor = last_seen
            if fresh or cursor is not None:
                yield self._page(kind, model, endpoint, fresh, cursor, fetched)
            current = following

    def _key(self, record: Any, endpoint: RestEndpoint) -> Cursor:
        stamp, rid = dig(record, endpoint.updated_at), dig(record, endpoint.id)
        try:
            number = int(rid) if not isinstance(rid, bool) else None
        except (TypeError, ValueError):
            number = None
        if stamp is None or number is None:
            raise ConnectorDataError(
                f"{self.mapping.name} {endpoint.path}: a record without {endpoint.updated_at}"
                f" or an integer {endpoint.id}",
                service=self._http.service,
                endpoint=f"GET {endpoint.path}",
            )
        return Cursor(str(stamp), number)

    def _get(
        self, url: str, params: Mapping[str, Any] | None, endpoint: RestEndpoint
    ) -> tuple[Any, httpx.Response]:
        response = self._http.request("GET", url, params=params)
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise ConnectorDataError(
                f"{self.mapping.name} GET {endpoint.path}: response is not JSON",
                service=self._http.service,
                endpoint=f"GET {endpoint.path}",
                status=response.status_code,
            ) from None
        return body, response

    def _items(self, body: Any, endpoint: RestEndpoint) -> list[Mapping[str, Any]]:
        items = dig(body, endpoint.items) if endpoint.items else body
        if items is None:
            items = []
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise ConnectorDataError(
                f"{self.mapping.name} GET {endpoint.path}: {endpoint.items or 'the body'}"
                " is not a list of records",
                service=self._http.service,
                endpoint=f"GET {endpoint.path}",
            )
        return items

    def _pages(
        self, endpoint: RestEndpoint, since: Cursor
    ) -> Iterator[tuple[list[Mapping[str, Any]], bytes]]:
        """(records, raw body) of each page, in the mapping's pagination style."""
        p = self.mapping.pagination
        params: dict[str, Any] = {**endpoint.params, p.size_param: p.page_size}
        if since != Cursor.start():
            params[self.mapping.updated_since_param] = since.write_date
        url: str = endpoint.path
        page, offset, cursor = p.first_page, 0, None
        while True:
            sent = dict(params)
            if p.style == "page":
                sent[p.page_param] = page
            elif p.style == "offset":
                sent[p.offset_param] = offset
            elif p.style == "cursor" and cursor:
                sent[p.cursor_param] = cursor
            following_link = p.style == "link" and url != endpoint.path
            body, response = self._get(url, None if following_link else sent, endpoint)
            records = self._items(body, endpoint)
            yield records, response.content
            if p.style == "cursor":
                cursor = _text(dig(body, p.next_cursor)) if isinstance(body, Mapping) else None
                if not cursor or not records:
                    return
            elif p.style == "link":
                found = _LINK_NEXT.search(response.headers.get("Link", ""))
                if not found:
                    return
                url = str(response.url.join(found[1]))
                if origin(url) != self._http.origin:
                    raise ConnectorDataError(
                        f"{self.mapping.name} GET {endpoint.path}: the next page is on another"
                        " host; not followed (it would carry our credentials)",
                        service=self._http.service,
                        endpoint=f"GET {endpoint.path}",
                    )
            else:
                if len(records) < p.page_size:
                    return
                page += 1
                offset += len(records)

    def _page(
        self,
        kind: PageKind,
        model: str,
        endpoint: RestEndpoint,
        fresh: list[tuple[Mapping[str, Any], Cursor]],
        cursor: Cursor | None,
        raw: bytes,
    ) -> Page:
        records = [r for r, _ in fresh]
        ids = [k.record_id for _, k in fresh]
        rows = records_rows(records, endpoint, kind, ids)
        if not fresh:
            return Page(self.name, model, kind, rows, cursor, f"{self.name}:{model} cursor", "")
        fetched = datetime.now(UTC).isoformat()
        digest = hashlib.sha256(fetched.encode() + b"\n" + raw).hexdigest()
        first, last = fresh[0][1], fresh[-1][1]
        label = f"{self.name}:{model} {first.write_date} #{first.record_id}..#{last.record_id}"
        return Page(self.name, model, kind, rows, cursor, label, digest)

    # -- push ----------------------------------------------------------------------------------

    def push(self, allocations: Sequence[ErpAllocation]) -> PushSummary:
        """Each batch (allocations sharing `batch`, else chunks of batch_size) POSTed once
        signed; a batch that fails fails all of its allocations, with the reason."""
        self._webhook()  # no section, no secret: said before anything is tried
        done = PushSummary()
        for key, batch in self.batches(allocations):
            ids = [a.allocation_id for a in batch]
            try:
                replayed = self._send(key, batch)
            except ConnectorError as exc:
                for aid in ids:
                    done.failed[aid] = str(exc)
                if exc.retryable:
                    done.retryable.update(ids)
                continue
            (done.already if replayed else done.pushed).extend(ids)
        return done

    def batches(
        self, allocations: Sequence[ErpAllocation], salt: str = ""
    ) -> list[tuple[str, list[ErpAllocation]]]:
        """(Idempotency-Key, allocations): those given a batch keep it, the others are cut into
        batches of batch_size, each keyed by its allocation ids."""
        size = self.batch_size or 1
        grouped: dict[str, list[ErpAllocation]] = {}
        loose: list[ErpAllocation] = []
        for a in allocations:
            if a.batch:
                grouped.setdefault(a.batch, []).append(a)
            else:
                loose.append(a)
        for start in range(0, len(loose), size):
            chunk = loose[start : start + size]
            ids = [a.allocation_id for a in chunk]
            grouped.setdefault(idempotency_key(self.name, ids, salt), chunk)
        return list(grouped.items())

    def payload(self, key: str, batch: Sequence[ErpAllocation]) -> dict[str, Any]:
        """A batch's JSON body: amounts as decimal text (no float on either side), dates ISO."""
        return {
            "source": self.name,
            "batch": key,
            "allocations": [
                {
                    "allocation_id": a.allocation_id,
                    "invoice_id": a.invoice_id,
                    "amount": f"{a.amount:f}",
                    "currency": a.currency,
                    "pay_date": a.pay_date.isoformat(),
                }
                for a in batch
            ],
        }

    def _send(self, key: str, batch: Sequence[ErpAllocation]) -> bool:
        """POST one batch; whether the receiver says it had it already."""
        hook, secret = self._webhook()
        payload = self.payload(key, batch)
        # The client serialises json_body with this same json_bytes: the bytes sent are these.
        raw = json_bytes(payload)
        headers = {SIGNATURE_HEADER: sign(secret, raw), IDEMPOTENCY_HEADER: key}
        url = self.mapping.push.url  # type: ignore[union-attr]
        response = hook.request("POST", url, json_body=payload, headers=headers)
        return response.headers.get(REPLAYED_HEADER, "").lower() == "true"
