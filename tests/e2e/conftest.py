"""End-to-end fixtures: a real `prefect server start` on loopback and o2c processes beside it.

Every process runs in its own process group with its output in a file under the test's tmp
folder; the group is terminated at the end (no orphan servers or workers) and the outputs are
printed when a test fails, so a red run says what the server, `o2c serve` and `o2c watch` saw.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's bin: `o2c` and `prefect` live beside python
SERVER_START_TIMEOUT = float(os.environ.get("O2C_E2E_SERVER_TIMEOUT", "120"))
_QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false"}

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Prefect setting that could point elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(_QUIET)
    env.update(extra)
    return env


def tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return f"--- {path.name}: (no output file)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return f"--- {path} (last {min(lines, len(text))} of {len(text)} lines)\n" + "\n".join(
        text[-lines:]
    )


@dataclass
class Processes:
    """Subprocesses of one test or module, output kept in `folder/<name>.log`."""

    folder: Path
    env: dict[str, str]
    running: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: list[Path] = field(default_factory=list)

    def _log(self, name: str) -> Path:
        path = self.folder / f"{name}.log"
        self.logs.append(path)
        return path

    def start(self, name: str, args: list[str], cwd: Path = REPO) -> subprocess.Popen:
        """A long-running process (server, serve, watch) in its own process group."""
        with open(self._log(name), "wb") as out:
            proc = subprocess.Popen(
                args,
                cwd=cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.running[name] = proc
        return proc

    def run(self, name: str, args: list[str], timeout: float, cwd: Path = REPO) -> str:
        """A command to completion; a non-zero exit or a timeout fails with its output."""
        proc = self.start(name, args, cwd)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(name)
            raise AssertionError(
                f"{' '.join(args)} still running after {timeout:.0f} s\n" + self.report()
            ) from None
        self.running.pop(name, None)
        output = (self.folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        assert code == 0, f"{' '.join(args)} exited with {code}\n{self.report()}"
        return output

    def check_alive(self) -> None:
        for name, proc in self.running.items():
            if proc.poll() is not None:
                raise AssertionError(
                    f"{name} exited early with code {proc.returncode}\n{self.report()}"
                )

    def stop(self, name: str) -> None:
        proc = self.running.pop(name, None)
        if proc is not None:
            terminate_group(proc)

    def stop_all(self) -> None:
        for name in list(self.running)[::-1]:
            self.stop(name)

    def report(self) -> str:
        return "\n".join(tail(p) for p in self.logs)


def terminate_group(proc: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM to the process group we created, SIGKILL if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
    # Children that outlived their leader (a flow run subprocess) share its group id.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def wait_for(
    what: str,
    probe: Callable[[], T | None],
    *,
    timeout: float,
    every: float = 1.0,
    context: Callable[[], str] = lambda: "",
) -> T:
    """Poll `probe` until it returns something truthy; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = probe()
            if value:
                return value
        except (httpx.HTTPError, OSError) as exc:  # server busy or restarting: try again
            last_error = exc
        if time.monotonic() > deadline:
            note = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(
                f"timed out after {timeout:.0f} s waiting for {what}{note}\n" + context()
            )
        time.sleep(every)


@dataclass(frozen=True)
class PrefectServer:
    url: str  # the UI, e.g. http://127.0.0.1:4321
    api_url: str  # http://127.0.0.1:4321/api
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, timeout=30, transport=RetryBusy())


class RetryBusy(httpx.HTTPTransport):
    """Retries a 503 as Prefect's own client does. Prefect 3.8.8's server on SQLite answers 503
    now and then under load ("database is locked", or SQLAlchemy's "Can't evaluate bulk DML
    statement"), where its client, unlike raw httpx, tries again."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(5):
            response = super().handle_request(request)
            if response.status_code != 503 or attempt == 4:
                return response
            response.close()
            time.sleep(1 + attempt)
        raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """`prefect server start` on a free loopback port, own PREFECT_HOME and SQLite database."""
    folder = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = clean_env(
        PREFECT_HOME=str(folder / "home"),
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{folder / 'prefect.db'}",
        # The UI asks this address for the API; by default it would be port 4200.
        PREFECT_UI_API_URL=f"{url}/api",
    )
    procs = Processes(folder, env)
    server = procs.start(
        "prefect-server",
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        cwd=folder,
    )

    def healthy() -> bool:
        procs.check_alive()
        return httpx.get(f"{url}/api/health", timeout=5).status_code == 200

    try:
        wait_for(f"{url}/api/health", healthy, timeout=SERVER_START_TIMEOUT, context=procs.report)
        yield PrefectServer(url, f"{url}/api", folder / "prefect-server.log")
    finally:
        terminate_group(server)


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]):
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def failed(request: pytest.FixtureRequest) -> bool:
    reports = request.node.stash.get(_REPORTS, {})
    return any(r.failed for r in reports.values())


@pytest.fixture
def o2c_env(prefect_server: PrefectServer, tmp_path: Path) -> dict[str, str]:
    """What o2c processes of one test see: the server, their own warehouse and Prefect home."""
    return clean_env(
        PREFECT_API_URL=prefect_server.api_url,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        O2C_DB=str(tmp_path / "o2c.duckdb"),
    )


@pytest.fixture
def procs(
    o2c_env: dict[str, str], tmp_path: Path, prefect_server: PrefectServer, request
) -> Iterator[Processes]:
    """Processes of one test: stopped at the end, their output printed if the test failed."""
    folder = tmp_path / "logs"
    folder.mkdir()
    processes = Processes(folder, o2c_env)
    try:
        yield processes
    finally:
        processes.stop_all()
        if failed(request):
            print(processes.report())
            print(tail(prefect_server.log, 80))


@pytest.fixture
def api(prefect_server: PrefectServer) -> Iterator[httpx.Client]:
    with prefect_server.client() as client:
        yield client


@pytest.fixture
def own_automations(api: httpx.Client) -> Iterator[None]:
    """The server serves the whole e2e session and `o2c serve` gives each served deployment its
    trigger automations. A test that serves starts and ends with none left, or an automation
    of an earlier test (same deployment, same event) would fire beside its own."""

    def clear() -> None:
        for automation in api.post("/automations/filter", json={}).raise_for_status().json():
            api.delete(f"/automations/{automation['id']}").raise_for_status()

    clear()
    yield
    clear()
