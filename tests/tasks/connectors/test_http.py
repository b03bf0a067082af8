"""The connector base against a real loopback HTTP server: retries, pacing, redaction, ids."""

from __future__ import annotations

import json
import logging
import pickle
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from o2c.tasks.connectors.http import (
    REQUEST_ID_HEADER,
    ConnectorDataError,
    ConnectorError,
    ConnectorHTTPError,
    ConnectorTransportError,
    HttpClient,
    Redactor,
    RetryAfterTooLong,
    RetryPolicy,
    retry_after_seconds,
    safe_target,
)

SECRET = "sk_live_9f8e7d6c5b4a"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Server:
    """Answers queued per request in order; then 200 {"ok": true}. Records every request."""

    url: str = ""
    answers: list[Answer] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)

    def queue(self, *answers: Answer) -> None:
        self.answers.extend(answers)


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            state.seen.append({"path": self.path, "headers": dict(self.headers.items())})
            answer = state.answers.pop(0) if state.answers else Answer()
            if answer.delay_s:
                time.sleep(answer.delay_s)
            data = (
                answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
            )
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    state.url = f"http://{host}:{port}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(server: Server, sleeps: Any = None, **kw: Any) -> HttpClient:
    retry = kw.pop(
        "retry", RetryPolicy(max_retries=3, backoff_base_s=0.5, backoff_max_s=10, jitter=0)
    )
    return HttpClient(
        "acme",
        server.url,
        timeout_s=kw.pop("timeout_s", 2.0),
        retry=retry,
        secrets=[SECRET],
        sleep=sleeps if sleeps is not None else Sleeps(),
        wall_clock=lambda: NOW,
        **kw,
    )


def test_5xx_retried_with_exponential_backoff_then_success(server: Server) -> None:
    server.queue(Answer(500), Answer(502), Answer(503))
    sleeps = Sleeps()
    with client(server, sleeps) as http:
        assert http.request_json("GET", "/v1/items") == {"ok": True}
        assert http.requests_made == 4
    assert sleeps.waits == [0.5, 1.0, 2.0]


def test_5xx_exhausted_says_how_many_attempts_and_is_retryable(server: Server) -> None:
    server.queue(*[Answer(503)] * 5)
    with pytest.raises(ConnectorHTTPError) as caught, client(server) as http:
        http.request("GET", "/v1/items")
    err = caught.value
    assert (err.status, err.attempts, err.retryable) == (503, 4, True)
    assert "gave up after 4 attempts (3 retries)" in str(err)
    assert len(server.seen) == 4


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_other_4xx_never_retried_and_the_message_says_so(server: Server, status: int) -> None:
    server.queue(Answer(status, {"type": "nope", "message": "bad request"}))
    sleeps = Sleeps()
    with pytest.raises(ConnectorHTTPError) as caught, client(server, sleeps) as http:
        http.request("GET", "/v1/items")
    err = caught.value
    assert (err.status, err.attempts, err.retryable) == (status, 1, False)
    assert str(err) == f"Acme GET /v1/items answered {status} (nope: bad request); not retried"
    assert len(server.seen) == 1 and sleeps.waits == []


def test_429_honours_retry_after_in_seconds(server: Server) -> None:
    server.queue(Answer(429, headers={"Retry-After": "7"}))
    sleeps = Sleeps()
    with client(server, sleeps) as http:
        http.request("GET", "/v1/items")
    assert sleeps.waits == [7.0]


def test_429_honours_retry_after_as_an_http_date(server: Server) -> None:
    when = format_datetime(NOW.replace(second=12), usegmt=True)  # 12 s after the clock
    server.queue(Answer(429, headers={"Retry-After": when}))
    sleeps = Sleeps()
    with client(server, sleeps) as http:
        http.request("GET", "/v1/items")
    assert sleeps.waits == [12.0]


def test_retry_after_beyond_the_cap_is_a_clear_error_not_a_wait(server: Server) -> None:
    server.queue(Answer(429, headers={"Retry-After": "3600"}))
    sleeps = Sleeps()
    retry = RetryPolicy(max_retries=3, retry_after_max_s=60, jitter=0)
    with pytest.raises(RetryAfterTooLong) as caught, client(server, sleeps, retry=retry) as http:
        http.request("GET", "/v1/items")
    assert "asks to wait 3600 s, more than the 60 s allowed; not retried" in str(caught.value)
    assert caught.value.retryable is False and sleeps.waits == []


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("5", NOW) == 5.0
    assert retry_after_seconds("-3", NOW) == 0.0
    assert retry_after_seconds("Fri, 04 Dec 2026 12:00:30 GMT", NOW) == 30.0
    assert retry_after_seconds("soon", NOW) is None
    assert retry_after_seconds(None, NOW) is None


def test_jitter_adds_at_most_its_share_and_the_cap_holds() -> None:
    policy = RetryPolicy(backoff_base_s=1, backoff_max_s=5, jitter=0.5)
    assert policy.backoff(1, 0.0) == 1.0
    assert policy.backoff(1, 1.0) == 1.5
    assert policy.backoff(2, 0.5) == 2.5
    assert policy.backoff(10, 1.0) == 5.0


def test_a_slow_answer_times_out_and_is_retried(server: Server) -> None:
    server.queue(Answer(delay_s=1.0))
    sleeps = Sleeps()
    started = time.monotonic()
    with client(server, sleeps, timeout_s=0.2) as http:
        assert http.request_json("GET", "/v1/slow") == {"ok": True}
    assert time.monotonic() - started < 1.0
    assert len(sleeps.waits) == 1 and len(server.seen) == 2


def test_timeouts_exhausted_are_retryable_and_counted(server: Server) -> None:
    server.queue(*[Answer(delay_s=0.5)] * 2)
    retry = RetryPolicy(max_retries=1, backoff_base_s=0, jitter=0)
    with (
        pytest.raises(ConnectorTransportError) as caught,
        client(server, timeout_s=0.1, retry=retry) as http,
    ):
        http.request("GET", "/v1/slow")
    assert caught.value.retryable and caught.value.attempts == 2
    assert "timed out" in str(caught.value) and "2 attempts (1 retry)" in str(caught.value)


def test_connection_refused_is_retried_then_retryable() -> None:
    retry = RetryPolicy(max_retries=2, backoff_base_s=0, jitter=0)
    sleeps = Sleeps()
    http = HttpClient("acme", "http://127.0.0.1:9", timeout_s=1, retry=retry, sleep=sleeps)
    with pytest.raises(ConnectorTransportError) as caught, http:
        http.request("GET", "/v1/items")
    assert caught.value.retryable and caught.value.attempts == 3 and len(sleeps.waits) == 2


def test_rate_limit_spaces_requests(server: Server) -> None:
    with client(server, time.sleep, requests_per_second=20) as http:
        started = time.monotonic()
        for _ in range(5):
            http.request("GET", "/v1/items")
        elapsed = time.monotonic() - started
    assert elapsed >= 4 * 0.05 * 0.95


def test_rate_limit_uses_the_injected_clock_and_sleep(server: Server) -> None:
    sleeps = Sleeps()
    with client(server, sleeps, requests_per_second=2, clock=lambda: 100.0) as http:
        for _ in range(3):
            http.request("GET", "/v1/items")
    assert sleeps.waits == [0.5, 1.0]  # the frozen clock: each call waits its turn


def test_every_request_carries_its_own_request_id_and_logs_it(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="o2c.connectors")
    server.queue(Answer(500))
    with client(server) as http:
        http.request("GET", "/v1/items", params={"page": 2, "api_key": SECRET})
    ids = [seen["headers"][REQUEST_ID_HEADER] for seen in server.seen]
    assert len(ids) == 2 and len(set(ids)) == 2 and all(len(i) == 32 for i in ids)
    lines = [r.getMessage() for r in caplog.records if "request id" in r.getMessage()]
    assert len(lines) == 2
    assert lines[0].startswith("acme GET /v1/items?page=2&api_key=*** -> 500 in ")
    assert ids[0] in lines[0] and ids[1] in lines[1] and "-> 200" in lines[1]


def test_secrets_redacted_in_messages_logs_and_repr(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = "tok_abcdefghijklmnop"
    echo = {"type": "denied", "message": f"bad key {SECRET}, token={token}"}
    server.queue(Answer(500, echo), Answer(401, echo))
    headers = {"Authorization": f"Bearer {token}", "Client-Secret": SECRET}
    with pytest.raises(ConnectorHTTPError) as caught, client(server) as http:
        http.request("GET", f"/v1/items?client_secret={SECRET}", headers=headers)
    shown = "\n".join([str(caught.value), repr(caught.value), repr(http), caplog.text])
    assert SECRET not in shown and token not in shown
    assert "***" in str(caught.value)
    assert caught.value.attempts == 2 and "answered 401" in str(caught.value)
    assert "not retried further (2 attempts: 1 retry after earlier failures)" in str(caught.value)
    assert server.seen[0]["headers"]["Authorization"] == f"Bearer {token}"  # sent, not shown


def test_redactor_and_safe_target() -> None:
    redact = Redactor(["hunter2-secret"])
    text = redact(
        'pw hunter2-secret; Authorization: Bearer abc.def; {"access_token": "xyz"}; '
        "/cb?token=t1&x=1&client_secret=c2; password=p3"
    )
    for value in ("hunter2-secret", "abc.def", "xyz", "t1", "c2", "p3"):
        assert value not in text
    assert "x=1" in text
    assert safe_target("/p?since=2026&signature=abc") == "/p?since=2026&signature=***"
    assert repr(redact) == "Redactor(1 secrets)"


def test_malformed_json_is_a_data_error_not_retried(server: Server) -> None:
    server.queue(Answer(200, b'{"access_token": "' + SECRET.encode()))
    with pytest.raises(ConnectorDataError) as caught, client(server) as http:
        http.request_json("POST", "/v1/token")
    assert not caught.value.retryable and SECRET not in str(caught.value)
    assert "not JSON" in str(caught.value) and len(server.seen) == 1


def test_json_numbers_come_back_as_decimal(server: Server) -> None:
    server.queue(Answer(200, b'{"amount": 0.1}'))
    with client(server) as http:
        assert http.request_json("GET", "/v1/x") == {"amount": Decimal("0.1")}


def test_connector_errors_survive_pickling() -> None:
    err = ConnectorHTTPError("acme GET /x answered 503", service="acme", status=503, attempts=4)
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, ConnectorError)
    assert (str(back), back.status, back.attempts) == (str(err), 503, 4)
