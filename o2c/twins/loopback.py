"""What every local twin shares: an HTTP server on a free loopback port, serving from a thread
while the twin is used in a `with` block, faults a test queues for it, and a request handler
that reads a body, answers bytes and logs nothing (a test reads the twin's own record instead).

Each twin (ar24, bridge_payment_links, odoo, rest_erp, erp_webhook) keeps only what its
contract says: the routes, the answers, the faults it knows.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackTwin:
    """A twin's server; a subclass builds its state, then calls `_listen(handler)`."""

    _faults: list[Any]
    _lock: threading.Lock | threading.RLock

    def _listen(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True  # a hung client never keeps a test process alive
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def root(self) -> str:
        """http://127.0.0.1:<port>, the server's own address."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """Where a client is pointed: the root, unless the contract has a prefix."""
        return self.root

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def inject(self, *faults: Any) -> None:
        """Queue faults; each twin says which request takes each one."""
        with self._lock:
            self._faults.extend(faults)


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that reads the body, answers in one call and does not log to stderr."""

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def lower_headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def answer(
        self,
        status: int,
        data: bytes,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = "application/json",
    ) -> None:
        """Status, headers and body; a client that gave up (a timeout) ends the connection."""
        try:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass
