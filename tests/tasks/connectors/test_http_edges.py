"""Edges of the connector HTTP base on loopback: httpx's own log lines, redirects, pacing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from o2c.tasks.connectors.http import ConnectorHTTPError, HttpClient, Redactor, RetryPolicy

SECRET = "sk-live-7f3a9c2e41d84b6a"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.user-token-0d1e"


class Scripted:
    """A loopback server answering (status, headers) from a list, then 200 {}."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str]]] = []
        self.paths: list[str] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                scripted.paths.append(self.path)
                status, headers = scripted.script.pop(0) if scripted.script else (200, {})
                body = b'{"type": "x", "message": "echo ' + SECRET.encode() + b'"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://{}:{}".format(*self.httpd.server_address[:2])
        threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True).start()


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


class FakeClock:
    """Time that moves only when the client sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def make(url: str, **kw: Any) -> HttpClient:
    options: dict[str, Any] = {
        "timeout_s": 2.0,
        "retry": RetryPolicy(max_retries=2, backoff_base_s=0.1, jitter=0),
        "sleep": lambda s: None,
        "secrets": [SECRET],
    }
    return HttpClient("acme", url, **{**options, **kw})


def test_httpx_own_request_lines_are_blanked_too(
    scripted: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx logs each full URL at INFO; a token in the query must not reach that line."""
    caplog.set_level(logging.DEBUG)
    with make(scripted.url) as http:
        http.request("GET", "/v1/items", params={"access_token": TOKEN, "page": 1})
    assert scripted.paths == [f"/v1/items?access_token={TOKEN}&page=1"]  # it was sent
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines and all(TOKEN not in line for line in lines)
    assert TOKEN not in caplog.text and "access_token=***" in caplog.text


def test_the_log_line_shows_the_url_really_sent(
    scripted: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="o2c.connectors")
    with make(scripted.url) as http:
        http.request("GET", "/v1/items?page=3")
    assert "acme GET /v1/items?page=3 -> 200 in" in caplog.text


def test_a_redirect_is_refused_not_followed(scripted: Scripted) -> None:
    """Following it would carry the credentials wherever it points."""
    scripted.script.append((302, {"Location": "http://127.0.0.2:9/elsewhere"}))
    with make(scripted.url) as http, pytest.raises(ConnectorHTTPError) as caught:
        http.request("GET", "/v1/items")
    assert caught.value.status == 302 and caught.value.retryable is False
    assert scripted.paths == ["/v1/items"]
    assert SECRET not in str(caught.value)


def test_no_retries_configured_says_so(scripted: Scripted) -> None:
    scripted.script.append((502, {}))
    with (
        make(scripted.url, retry=RetryPolicy(max_retries=0)) as http,
        pytest.raises(ConnectorHTTPError) as caught,
    ):
        http.request("GET", "/v1/items")
    assert str(caught.value) == (
        "Acme GET /v1/items answered 502; not retried (no retries configured)"
    )
    assert caught.value.retryable is True and len(scripted.paths) == 1


def test_a_short_retry_after_never_shortens_the_backoff(scripted: Scripted) -> None:
    scripted.script.append((503, {"Retry-After": "0"}))
    waits: list[float] = []
    with make(scripted.url, sleep=waits.append) as http:
        http.request("GET", "/v1/items")
    assert waits == [0.1]


def test_retries_count_against_the_rate_limit(scripted: Scripted) -> None:
    scripted.script.append((500, {}))
    clock = FakeClock()
    with make(scripted.url, requests_per_second=2, clock=clock, sleep=clock.sleep) as http:
        http.request("GET", "/v1/items")
        clock.now += 10  # a quiet spell saves up no burst, and costs no wait
        http.request("GET", "/v1/items")
    assert clock.waits == pytest.approx([0.1, 0.4])  # backoff, then the rest of the 0.5 s slot


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("auth Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ('{"client_secret": "v4lue-x", "id": 1}', "v4lue-x"),
        ('{"access_token":"tok-123456"}', "tok-123456"),
        ("GET /x?token=abcd1234&page=1", "abcd1234"),
        ("GET /x?page=1&signature=zz99", "zz99"),
        ("password=hunter22 user=bob", "hunter22"),
        ("registered value s3cr3t-val inside", "s3cr3t-val"),
    ],
)
def test_redactor_blanks_each_kind_of_secret(text: str, hidden: str) -> None:
    redact = Redactor(["s3cr3t-val"])
    assert hidden not in redact(text) and "***" in redact(text)
    assert "s3cr3t" not in repr(redact)


def test_redaction_keeps_the_punctuation_after_a_secret() -> None:
    assert Redactor()("bad (client_secret=abcd1234); not retried") == (
        "bad (client_secret=***); not retried"
    )


def test_redactor_leaves_ordinary_text_alone() -> None:
    text = "Acme GET /v1/accounts?page=2&limit=50 answered 404 (not_found: unknown user)"
    assert Redactor(["ab"])(text) == text  # too short a value is never registered
