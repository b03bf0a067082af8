"""The one HTTP client base of every connector (Bridge now; AR24, payment links, Odoo next).

Why one base: each outside API must be called the same careful way, and a fix (a leaked secret,
a retried 400) must land once. What it guarantees:
- a timeout on every request;
- retries with exponential backoff and jitter on 5xx, on 429 (honouring Retry-After, in seconds
  or as an HTTP date, up to a cap: past it a clear error), on timeouts and connection errors;
  never on another 4xx;
- a client-side rate limit (requests per second, evenly spaced);
- secrets redacted from every log line, exception message and repr: Authorization and other
  credential headers, bearer tokens, query parameters named like secrets, registered values;
- a request id per request (sent as `X-Request-Id`), logged with method, path (secret query
  values masked), status and duration;
- one exception type, `ConnectorError`, saying truthfully whether and how often it was retried,
  and whether a later run could succeed (`retryable`).
Sleep, clocks and the jitter source are injectable so tests never wait.

For APIs that sign each request or that must not repeat a call blindly (AR24), `request` also
takes: form fields and multipart files; `refresh`, called before every attempt for the
parameters, form fields and headers that must be fresh (a signed date); `check`, which reads an
answer the status alone cannot judge (an error or a maintenance notice sent with 200); and
`before_retry`, asked before every retry whether one may be made (after looking whether the
failed attempt took effect after all).
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

REQUEST_ID_HEADER = "X-Request-Id"
MASK = "***"
# Header names whose values are credentials: never logged, their values registered as secrets.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "client-secret", "x-api-key", "api-key", "cookie"}
)
# Query parameters (and JSON keys) whose values are masked wherever a URL or body text shows.
_SECRET_NAME = r"[\w.-]*(?:secret|token|passw|api[_-]?key|apikey|signature|otp|hash|auth|credential|session)[\w.-]*|key|sig|code"  # noqa: E501
_SECRET_QUERY = re.compile(rf"(?i)([?&;](?:{_SECRET_NAME})=)[^&#\s\"']*")
# `"name": "value"` (JSON) or `name=value` (form, log text); not `name: words` of a sentence.
_SECRET_FIELD = re.compile(
    rf"(?i)((?:[\"'](?:{_SECRET_NAME})[\"']\s*:\s*[\"']?)|(?:\b(?:{_SECRET_NAME})=))[^\"'&,;)}}\s]+"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_SECRET_PARAM = re.compile(rf"(?i)^(?:{_SECRET_NAME})$")

Sleep = Callable[[float], None]
Clock = Callable[[], float]
# A stdlib logger, or an adapter such as Prefect's run logger (lines then reach the run's page).
Logger = logging.Logger | logging.LoggerAdapter[Any]


@dataclass(frozen=True, slots=True)
class AttemptParts:
    """What `refresh` adds to one attempt: query parameters, form fields, headers."""

    params: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None


# Reads an answer (not 429, not 5xx): a reason to retry it (a maintenance notice), or None; may
# raise a ConnectorError of its own (the provider's error sent with 200), never retried.
AnswerCheck = Callable[[httpx.Response], str | None]
# Given the error a retry would follow: True to retry, False to give up with that error now.
RetryGate = Callable[["ConnectorError"], bool]


class ConnectorError(RuntimeError):
    """An outside call that failed for good: names the service, endpoint and status, no secret.

    `retryable` says whether a later run may succeed (5xx, 429, timeouts, connection errors);
    a 401/403/404, a malformed answer or a Retry-After beyond the cap are not.
    """

    def __init__(
        self,
        message: str,
        *,
        service: str = "",
        endpoint: str | None = None,
        status: int | None = None,
        attempts: int = 0,
        retryable: bool = False,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.endpoint = endpoint
        self.status = status
        self.attempts = attempts
        self.retryable = retryable
        self.request_id = request_id

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields survive pickling (Prefect may serialise a failed task's exception).
        fields = {
            "service": self.service,
            "endpoint": self.endpoint,
            "status": self.status,
            "attempts": self.attempts,
            "retryable": self.retryable,
            "request_id": self.request_id,
        }
        return _rebuild, (type(self), str(self), fields)


def _rebuild(cls: type[ConnectorError], message: str, fields: dict[str, Any]) -> ConnectorError:
    return cls(message, **fields)


class ConnectorHTTPError(ConnectorError):
    """The service answered a status that is not success."""


class ConnectorTransportError(ConnectorError):
    """No answer: a timeout or a connection error."""


class RetryAfterTooLong(ConnectorError):
    """The service asked to wait longer than the cap allows."""


class ConnectorDataError(ConnectorError, ValueError):
    """An answer that does not fit the contract (not JSON, a field missing or malformed)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: retries after the first attempt, backoff, jitter, Retry-After cap."""

    max_retries: int = 4
    backoff_base_s: float = 0.5  # first wait, doubled each retry
    backoff_max_s: float = 30.0  # cap on one backoff wait
    jitter: float = 0.1  # up to this fraction added to a backoff wait, at random
    retry_after_max_s: float = 120.0  # a longer Retry-After ends the call with a clear error

    def backoff(self, attempt: int, rand: float) -> float:
        """The wait after failed attempt number `attempt` (1-based), jitter included."""
        delay = min(self.backoff_base_s * 2 ** (attempt - 1), self.backoff_max_s)
        return min(delay * (1.0 + self.jitter * rand), self.backoff_max_s)


class RateLimiter:
    """At most `rate` requests a second from one client: spaces calls evenly, no burst."""

    def __init__(self, rate: float, clock: Clock, sleep: Sleep) -> None:
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


class Redactor:
    """Blanks secrets out of text: registered values, bearer tokens, secret-named fields."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        for value in secrets:
            self.add(value)
        with _LIVE_LOCK:  # so that httpx's and httpcore's own log lines are blanked too
            _LIVE_REDACTORS.add(self)

    def add(self, value: str | None) -> None:
        # Very short values would blank out ordinary words; credentials are longer than 3.
        if value and len(value) >= 4:
            self._values.add(value)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        text = _BEARER.sub(lambda m: f"{m[1]} {MASK}", text)
        text = _SECRET_QUERY.sub(rf"\1{MASK}", text)
        return _SECRET_FIELD.sub(rf"\1{MASK}", text)

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} secrets)"


_LIVE_REDACTORS: weakref.WeakSet[Redactor] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


class _LibraryLogRedaction(logging.Filter):
    """Blanks secrets out of httpx's and httpcore's own records before any handler sees them.

    httpx logs every request's full URL at INFO (query string included) and httpcore the
    response headers at DEBUG; neither knows which values are credentials. This filter applies
    the patterns and every live client's registered values to those records.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            original = record.getMessage()
        except Exception:  # a malformed record is logging's business, not ours
            return True
        text = _PATTERNS(original)
        with _LIVE_LOCK:
            live = list(_LIVE_REDACTORS)
        for redactor in live:
            text = redactor(text)
        if text != original:
            record.msg, record.args = text, None
        return True


_PATTERNS = Redactor()
_LIBRARY_FILTER = _LibraryLogRedaction()
for _name in ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2"):
    logging.getLogger(_name).addFilter(_LIBRARY_FILTER)


def safe_target(url: str) -> str:
    """Path and query of a URL, values of secret-named parameters masked (for logs, errors)."""
    parts = urlsplit(url)
    if not parts.query:
        return parts.path or "/"
    pairs = [
        (k, MASK if _SECRET_PARAM.match(k) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return f"{parts.path or '/'}?{urlencode(pairs, safe='*:/')}"


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased: what a token may be sent to."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
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
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _attempts_text(attempts: int, *, exhausted: bool = False) -> str:
    """Whether and how often a call was retried, truthfully, for its error message."""
    retries = attempts - 1
    plural = "retry" if retries == 1 else "retries"
    if exhausted:
        if retries == 0:
            return "not retried (no retries configured)"
        return f"gave up after {attempts} attempts ({retries} {plural})"
    if retries == 0:
        return "not retried"
    return f"not retried further ({attempts} attempts: {retries} {plural} after earlier failures)"


class ClosingClient:
    """A client used as `with Client(...) as client:`, its connections closed on the way out."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError


class HttpClient(ClosingClient):
    """One connector's httpx client: every request timed out, retried, paced and redacted."""

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        timeout_s: float,
        retry: RetryPolicy | None = None,
        requests_per_second: float = 0.0,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rand: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
        logger: Logger | None = None,
    ) -> None:
        self.service = service
        self.retry = retry or RetryPolicy()
        self.redact = Redactor(secrets)
        self.log = logger or logging.getLogger(f"o2c.connectors.{service}")
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rand = rand
        self._limiter = RateLimiter(requests_per_second, clock, sleep)
        self.base_url = base_url
        self.origin = origin(base_url)
        for name, value in (headers or {}).items():
            if name.lower() in SECRET_HEADERS:
                self._register_header(value)
        self._http = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s),
            headers=dict(headers or {}),
            follow_redirects=False,  # a redirect would carry credentials to another place
            transport=transport,
        )
        self.requests_made = 0  # every HTTP attempt, retries included

    def __repr__(self) -> str:
        return f"HttpClient(service={self.service!r}, base_url={self.redact(self.base_url)!r})"

    def close(self) -> None:
        self._http.close()

    def add_secret(self, value: str | None) -> None:
        """Register a value (a token just received, say) to blank out wherever text shows."""
        self.redact.add(value)

    def _register_header(self, value: str) -> None:
        self.redact.add(value)
        scheme, _, credential = value.partition(" ")
        if credential and scheme.lower() in ("bearer", "basic", "token"):
            self.redact.add(credential)

    # -- calls -------------------------------------------------------------------------------

    def request_json(self, method: str, url: str, **options: Any) -> dict[str, Any]:
        """A JSON object answer; numbers with a fraction come back as Decimal, never float.

        `options` are `request`'s (params, json_body, headers).
        """
        response = self.request(method, url, **options)
        endpoint = f"{method} {urlsplit(url).path}"
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            raise ConnectorDataError(
                self.redact(f"{self._name} {endpoint}: response is not JSON ({exc})"),
                service=self.service,
                endpoint=endpoint,
                status=response.status_code,
                attempts=1,
            ) from None
        if not isinstance(body, dict):
            raise ConnectorDataError(
                f"{self._name} {endpoint}: response is not a JSON object",
                service=self.service,
                endpoint=endpoint,
                status=response.status_code,
                attempts=1,
            )
        return body

    def _failure(
        self,
        kind: type[ConnectorError],
        text: str,
        *,
        endpoint: str,
        attempts: int,
        request_id: str,
        status: int | None = None,
        retryable: bool = False,
    ) -> ConnectorError:
        """The error to raise, its message redacted, with everything a caller may act on."""
        return kind(
            self.redact(text),
            service=self.service,
            endpoint=endpoint,
            status=status,
            attempts=attempts,
            retryable=retryable,
            request_id=request_id,
        )

    @property
    def _name(self) -> str:
        return self.service.capitalize() if self.service.islower() else self.service

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        refresh: Callable[[], AttemptParts] | None = None,
        check: AnswerCheck | None = None,
        before_retry: RetryGate | None = None,
    ) -> httpx.Response:
        """One logical call, a 2xx answer: retried on 429, 5xx, timeouts, connection errors.

        `data` and `files` are sent as a form (multipart when there are files); file contents
        should be bytes, so that a retry sends them again. See the module docstring for
        `refresh`, `check` and `before_retry`.
        """
        for name, value in (headers or {}).items():
            if name.lower() in SECRET_HEADERS:
                self._register_header(value)
        endpoint = f"{method} {urlsplit(url).path}"
        policy = self.retry
        attempts = 0
        while True:
            attempts += 1
            self._limiter.wait()
            self.requests_made += 1
            request_id = uuid.uuid4().hex
            fresh = refresh() if refresh else AttemptParts()
            sent = {**(headers or {}), **(fresh.headers or {}), REQUEST_ID_HEADER: request_id}
            sent_params = {**(params or {}), **(fresh.params or {})} or None
            sent_data = {**(data or {}), **(fresh.data or {})} or None
            started = self._clock()
            status: int | None = None
            retry_after: float | None = None
            try:
                if json_body is not None:
                    sent.setdefault("Content-Type", "application/json")
                request = self._http.build_request(
                    method,
                    url,
                    params=sent_params,
                    content=None if json_body is None else json_bytes(json_body),
                    data=sent_data,
                    files=files or None,
                    headers=sent,
                )
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise ConnectorError(
                    self.redact(
                        f"{self._name} {endpoint}: invalid URL ({type(exc).__name__}); not retried"
                    ),
                    service=self.service,
                    endpoint=endpoint,
                    attempts=attempts,
                    request_id=request_id,
                ) from None
            target = str(request.url)  # what is really sent (httpx may merge params into it)
            try:
                response = self._http.send(request)
            except httpx.TimeoutException as exc:
                reason, kind = f"timed out ({type(exc).__name__})", ConnectorTransportError
                self._log_attempt(method, target, "timeout", started, request_id)
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                reason, kind = f"network error ({type(exc).__name__})", ConnectorTransportError
                self._log_attempt(method, target, "network error", started, request_id)
            except httpx.TransportError as exc:  # bad URL scheme, proxy...: no retry helps
                self._log_attempt(method, target, "transport error", started, request_id)
                raise self._failure(
                    ConnectorTransportError,
                    f"{self._name} {endpoint}: transport error ({type(exc).__name__});"
                    f" {_attempts_text(attempts)}",
                    endpoint=endpoint,
                    attempts=attempts,
                    request_id=request_id,
                ) from None
            else:
                status = response.status_code
                self._log_attempt(method, target, status, started, request_id)
                notice = None
                if check is not None and status != 429 and status < 500:
                    try:
                        notice = check(response)
                    except ConnectorError as exc:
                        exc.attempts = exc.attempts or attempts
                        exc.request_id = exc.request_id or request_id
                        exc.status = exc.status or status
                        raise
                if notice is None and 200 <= status < 300:
                    return response
                if notice is None and status != 429 and status < 500:
                    raise self._failure(
                        ConnectorHTTPError,
                        f"{self._name} {endpoint} answered {status}{_describe(response)};"
                        f" {_attempts_text(attempts)}",
                        endpoint=endpoint,
                        status=status,
                        attempts=attempts,
                        request_id=request_id,
                    )
                reason, kind = f"answered {status}", ConnectorHTTPError
                if notice is not None:
                    reason = f"answered {status} ({notice})"
                retry_after = retry_after_seconds(
                    response.headers.get("Retry-After"), self._wall_clock()
                )
            if attempts > policy.max_retries:
                raise self._failure(
                    kind,
                    f"{self._name} {endpoint} {reason}; {_attempts_text(attempts, exhausted=True)}",
                    endpoint=endpoint,
                    status=status,
                    attempts=attempts,
                    retryable=True,
                    request_id=request_id,
                )
            delay = policy.backoff(attempts, self._rand())
            if retry_after is not None:
                if retry_after > policy.retry_after_max_s:
                    raise self._failure(
                        RetryAfterTooLong,
                        f"{self._name} {endpoint} {reason} and asks to wait {retry_after:.0f} s,"
                        f" more than the {policy.retry_after_max_s:.0f} s allowed;"
                        f" {_attempts_text(attempts)}, try later",
                        endpoint=endpoint,
                        status=status,
                        attempts=attempts,
                        request_id=request_id,
                    )
                delay = max(delay, retry_after)
            self.log.warning(
                self.redact(
                    f"{self._name} {endpoint} {reason}; retry {attempts} of"
                    f" {policy.max_retries} in {delay:.2f} s"
                    + (", unless the failed attempt took effect" if before_retry else "")
                )
            )
            self._sleep(delay)
            if before_retry is not None:
                failure = self._failure(
                    kind,
                    f"{self._name} {endpoint} {reason}; {_attempts_text(attempts)}",
                    endpoint=endpoint,
                    status=status,
                    attempts=attempts,
                    retryable=True,
                    request_id=request_id,
                )
                if not before_retry(failure):
                    raise failure

    def _log_attempt(
        self, method: str, target: str, outcome: int | str, started: float, request_id: str
    ) -> None:
        """One line per attempt: method, path (secret query values masked), outcome, time, id."""
        elapsed_ms = (self._clock() - started) * 1000
        self.log.info(
            self.redact(
                f"{self.service} {method} {safe_target(target)} -> {outcome}"
                f" in {elapsed_ms:.0f} ms (request id {request_id})"
            )
        )


_DECIMAL_MARK = "\ue000decimal:"  # a private-use character no real text starts with
_MARKED_DECIMAL = re.compile('"' + _DECIMAL_MARK + r'(-?[0-9]+(?:\.[0-9]+)?)"')


def json_bytes(value: Any) -> bytes:
    """A JSON body where a Decimal amount goes out as the number it is (12.30 stays 12.30),
    never through a float."""

    def mark(obj: Any) -> str:
        if isinstance(obj, Decimal):
            return f"{_DECIMAL_MARK}{obj:f}"
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    text = json.dumps(value, default=mark, ensure_ascii=False, separators=(",", ":"))
    return _MARKED_DECIMAL.sub(r"\1", text).encode()


def _describe(response: httpx.Response) -> str:
    """The provider's own error type and message, shortened (the caller redacts)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body[key]) for key in ("type", "slug", "message", "error") if body.get(key)]
    text = ": ".join(parts)[:300]
    return f" ({text})" if text else ""
