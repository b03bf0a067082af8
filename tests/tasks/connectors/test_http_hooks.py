"""The connector base's hooks for signed, non-repeatable calls, against a loopback server:
form fields and files, a refresh per attempt, an answer check, a gate before each retry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from o2c.tasks.connectors.http import (
    AttemptParts,
    ConnectorError,
    ConnectorHTTPError,
    HttpClient,
    RetryPolicy,
)


class Recorder:
    """Answers (status, body) from a script, then 200 b"ok"; keeps what each request carried."""

    def __init__(self) -> None:
        self.script: list[tuple[int, bytes]] = []
        self.seen: list[dict[str, Any]] = []
        self.url = ""


@pytest.fixture
def server() -> Iterator[Recorder]:
    state = Recorder()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.seen.append({"path": self.path, "headers": headers, "body": body})
            status, data = state.script.pop(0) if state.script else (200, b"ok")
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    state.url = f"http://{host}:{port}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def client(server: Recorder, sleeps: list[float]) -> HttpClient:
    return HttpClient(
        "acme",
        server.url,
        timeout_s=2.0,
        retry=RetryPolicy(max_retries=3, backoff_base_s=0.5, jitter=0),
        sleep=sleeps.append,
    )


def test_form_fields_and_a_file_go_out_again_whole_on_a_retry(server):
    server.script = [(503, b"busy")]
    sleeps: list[float] = []
    with client(server, sleeps) as http:
        http.request(
            "POST",
            "/upload",
            data={"file_name": "notice.pdf", "ids[]": ["4", "5"]},
            files={"file": ("notice.pdf", b"%PDF-1.4 body", "application/pdf")},
        )
    bodies = [
        s["body"].replace(s["headers"]["content-type"].split("boundary=")[1].encode(), b"B")
        for s in server.seen
    ]
    second = server.seen[1]
    assert len(bodies) == 2 and bodies[0] == bodies[1] and b"%PDF-1.4 body" in bodies[1]
    assert second["headers"]["content-type"].startswith("multipart/form-data")
    assert second["body"].count(b'name="ids[]"') == 2


def test_refresh_gives_each_attempt_its_own_parameters_and_headers(server):
    server.script = [(500, b"x"), (502, b"x")]
    stamps = iter(["t1", "t2", "t3"])

    def refresh() -> AttemptParts:
        stamp = next(stamps)
        return AttemptParts(params={"date": stamp}, headers={"signature": f"sig-{stamp}"})

    with client(server, []) as http:
        http.request("GET", "/mail", params={"id": "9"}, refresh=refresh)
    assert [s["path"] for s in server.seen] == [f"/mail?id=9&date=t{i}" for i in (1, 2, 3)]
    assert [s["headers"]["signature"] for s in server.seen] == ["sig-t1", "sig-t2", "sig-t3"]


def test_check_retries_a_notice_sent_with_200_and_raises_an_error_sent_with_200(server):
    server.script = [(200, b"maintenance"), (200, b"refused")]

    def check(response: httpx.Response) -> str | None:
        if response.content == b"maintenance":
            return "down for maintenance"
        if response.content == b"refused":
            raise ConnectorError("acme refused: bad_field", service="acme")
        return None

    sleeps: list[float] = []
    with client(server, sleeps) as http, pytest.raises(ConnectorError) as error:
        http.request("GET", "/x", check=check)
    assert "bad_field" in str(error.value) and error.value.attempts == 2
    assert error.value.status == 200 and sleeps == [0.5]
    with client(server, sleeps) as http:
        assert http.request("GET", "/x", check=check).content == b"ok"


def test_a_gate_that_says_no_stops_the_retries(server):
    server.script = [(503, b"busy"), (503, b"busy")]
    asked: list[ConnectorError] = []

    def gate(failure: ConnectorError) -> bool:
        asked.append(failure)
        return len(asked) < 2

    with client(server, []) as http, pytest.raises(ConnectorHTTPError) as error:
        http.request("POST", "/mail", data={"a": "1"}, before_retry=gate)
    assert len(server.seen) == 2 and [f.status for f in asked] == [503, 503]
    assert error.value is asked[-1] and error.value.retryable
    assert "not retried further" in str(error.value)
