"""The local Prefect server of the embedded default: started once, shared, gone when idle.

Prefect's ephemeral API costs every `o2c` command 7-10 s (a uvicorn process, its imports, the
SQLite migrations check), and its history lands in whatever PREFECT_HOME says. Instead the first
command without PREFECT_API_URL starts `python -m o2c.local_server` in the background on a free
loopback port, with its SQLite database in the data folder beside the warehouse
(`data/prefect/prefect.db`); the next commands find it in `data/prefect/server.json` and use it.
`o2c ui` serves the Prefect UI from that same server, so finance sees every earlier run.

Coordination is three files and two flocks, so a crash (even SIGKILL) leaves nothing held:
- `server.lock`: held exclusive by whoever checks or starts the server: two commands at once
  start one server;
- `server.users`: each command holds it shared while it talks to the server (and touches it when
  done); the server stops itself once it can take it exclusive and nobody used it for the idle
  time (O2C_PREFECT_IDLE_S, 600 s). It keeps it exclusive while it stops, so a command arriving
  then waits and starts a fresh server instead of talking to a dying one;
- `server.json`: pid and port. A stale one (dead pid, a pid that is not our server, a server not
  answering) is replaced by a new server.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from o2c.locking import seconds_from_env

IDLE_ENV = "O2C_PREFECT_IDLE_S"
DEFAULT_IDLE_S = 600.0
START_TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
DEFAULT_START_TIMEOUT_S = 120.0
_MODULE = "o2c.local_server"
_IDLE_POLL_S = 0.5
_STOP_GRACE_S = 15.0  # uvicorn's and Prefect's own shutdown first; then out, whatever it does
_UNHEALTHY_GRACE_S = 5.0


@dataclass(frozen=True)
class ServerFiles:
    """Where one data folder's local server keeps its database, state, locks and log."""

    home: Path

    @property
    def state(self) -> Path:
        return self.home / "server.json"

    @property
    def start_lock(self) -> Path:
        return self.home / "server.lock"

    @property
    def users(self) -> Path:
        return self.home / "server.users"

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    @property
    def database(self) -> Path:
        return self.home / "prefect.db"


@dataclass(frozen=True)
class LocalServer:
    """A running local server: its pid and loopback port."""

    pid: int
    port: int

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"


def files_for(warehouse: str | os.PathLike[str]) -> ServerFiles:
    """A warehouse's server lives in `prefect/` beside it: `data/o2c.duckdb` -> `data/prefect`."""
    return ServerFiles(Path(warehouse).resolve().parent / "prefect")


def idle_seconds() -> float:
    return seconds_from_env(IDLE_ENV, DEFAULT_IDLE_S)


# --- the command's side ---------------------------------------------------------------------


@contextlib.contextmanager
def using(
    files: ServerFiles, announce: Callable[[LocalServer], None] | None = None
) -> Iterator[LocalServer]:
    """A live local server for the `with` block: the running one, else one started now.

    While the block runs the server cannot stop for idleness; at its end the idle clock restarts.
    `announce(server)` is called when this command had to start it.
    """
    files.home.mkdir(parents=True, exist_ok=True)
    with _open_lock_file(files.users) as users:
        with _open_lock_file(files.start_lock) as start:
            fcntl.flock(start, fcntl.LOCK_EX)
            fcntl.flock(users, fcntl.LOCK_SH)  # waits while a server is stopping
            server = _running(files)
            if server is None:
                server = _start(files)
                if announce is not None:
                    announce(server)
            fcntl.flock(start, fcntl.LOCK_UN)
        try:
            yield server
        finally:
            with contextlib.suppress(OSError):
                os.utime(files.users)  # the idle clock starts now
            fcntl.flock(users, fcntl.LOCK_UN)


def running(files: ServerFiles) -> LocalServer | None:
    """The server serving this data folder now, if any (nothing is started)."""
    if not files.home.is_dir():
        return None
    with _open_lock_file(files.start_lock) as start:
        fcntl.flock(start, fcntl.LOCK_EX)
        return _running(files, grace_s=0.0)


def stop_if_unused(files: ServerFiles) -> bool:
    """Stop the server now unless a command is using it; True when none is left running."""
    if not files.home.is_dir():
        return True
    with _open_lock_file(files.start_lock) as start, _open_lock_file(files.users) as users:
        fcntl.flock(start, fcntl.LOCK_EX)
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        state = _read_state(files)
        if state is not None and _is_our_server(state.pid, files):
            _terminate(state.pid)
        _remove_state(files, None)
        return True


def _running(files: ServerFiles, grace_s: float = _UNHEALTHY_GRACE_S) -> LocalServer | None:
    """The recorded server when it is ours and answers; a stale record is cleared (lock held)."""
    state = _read_state(files)
    if state is None:
        return None
    if _is_our_server(state.pid, files):
        deadline = time.monotonic() + grace_s
        while True:
            if _healthy(state):
                return state
            if time.monotonic() >= deadline or not _alive(state.pid):
                break
            time.sleep(0.2)
        _terminate(state.pid)  # ours but not answering: replaced, not left beside the new one
    _remove_state(files, None)
    return None


def _start(files: ServerFiles) -> LocalServer:
    """Start the server in its own session, wait until it answers, record it (lock held)."""
    timeout = seconds_from_env(START_TIMEOUT_ENV, DEFAULT_START_TIMEOUT_S)
    deadline = time.monotonic() + timeout
    for _attempt in range(3):  # a free port can be taken between the probe and the bind
        port = _free_port()
        with files.log.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", _MODULE, str(files.home), str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_server_environment(files, port),
                cwd=files.home,  # keeps none of the user's directories busy
                start_new_session=True,  # no Ctrl-C of the command that started it reaches it
            )
        server = LocalServer(process.pid, port)
        while process.poll() is None and time.monotonic() < deadline:
            if _healthy(server):
                _write_state(files, server)
                return server
            time.sleep(0.1)
        if process.poll() is None:  # too slow: not left behind
            _terminate(process.pid)
            raise RuntimeError(
                f"the local Prefect server did not answer within {timeout:.0f} s"
                f" (log: {files.log}; more time: {START_TIMEOUT_ENV})"
            )
    raise RuntimeError(
        f"the local Prefect server stopped at start (exit {process.returncode});"
        f" its log: {files.log}: {_tail(files.log)}"
    )


def _server_environment(files: ServerFiles, port: int) -> dict[str, str]:
    """Its home and SQLite database in the data folder, on loopback; the user's database wins."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.setdefault("PREFECT_API_DATABASE_CONNECTION_URL", f"sqlite+aiosqlite:///{files.database}")
    # The warehouse slot's leases outlive a server restart (in memory, a slot held when the
    # server died would stay taken forever: the count is in SQLite, the lease was not).
    env.setdefault(
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE",
        "prefect.server.concurrency.lease_storage.filesystem",
    )
    env |= {
        "PREFECT_HOME": str(files.home),
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": env.get("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
    }
    return env


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(server: LocalServer) -> bool:
    try:
        with urllib.request.urlopen(f"{server.api_url}/health", timeout=2) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def _read_state(files: ServerFiles) -> LocalServer | None:
    try:
        entry = json.loads(files.state.read_text(encoding="utf-8"))
        return LocalServer(int(entry["pid"]), int(entry["port"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none, or garbage left by a crash: as good as none


def _write_state(files: ServerFiles, server: LocalServer) -> None:
    partial = files.state.with_suffix(".json.part")
    partial.write_text(
        json.dumps({"pid": server.pid, "port": server.port, "api_url": server.api_url}) + "\n",
        encoding="utf-8",
    )
    partial.replace(files.state)


def _remove_state(files: ServerFiles, only_pid: int | None) -> None:
    """Forget the recorded server (only if it is `only_pid`, when given)."""
    state = _read_state(files)
    if only_pid is None or (state is not None and state.pid == only_pid):
        with contextlib.suppress(FileNotFoundError):
            files.state.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return stat[0] == "Z"


def _is_our_server(pid: int, files: ServerFiles) -> bool:
    """A live process running this module for this home: a recycled pid is not taken for it."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return _MODULE.encode() in argv and str(files.home).encode() in argv and not _is_zombie(pid)


def _terminate(pid: int) -> None:
    """SIGTERM (uvicorn's graceful stop), then SIGKILL after the grace time."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE_S
    while _alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # our own child: reaped, not left a zombie
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])


@contextlib.contextmanager
def _open_lock_file(path: Path) -> Iterator[IO[str]]:
    """A lock file opened for flock only; not inherited by children (Python's default)."""
    handle = path.open("a+", encoding="utf-8")
    try:
        yield handle
    finally:
        handle.close()


# --- the server's side ----------------------------------------------------------------------


def _stop_when_idle(files: ServerFiles, idle_s: float, server: object) -> None:
    """Stop uvicorn once no command held `server.users` nor touched it for `idle_s`."""
    handle = files.users.open("a+", encoding="utf-8")
    last_used = time.time()
    while True:
        time.sleep(_IDLE_POLL_S)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            last_used = time.time()  # a command is using us right now
            continue
        with contextlib.suppress(OSError):
            last_used = max(last_used, files.users.stat().st_mtime)
        if time.time() - last_used < idle_s:
            fcntl.flock(handle, fcntl.LOCK_UN)
            continue
        # Idle: keep the lock until this process is gone, so no command talks to us meanwhile.
        _say(f"idle for {idle_s:.0f} s: stopping")
        _remove_state(files, os.getpid())
        server.should_exit = True  # type: ignore[attr-defined]
        time.sleep(_STOP_GRACE_S)
        os._exit(0)


def _say(message: str) -> None:
    """One line in server.log (the server's stdout): when and why it started or stopped."""
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()}: {message}", flush=True)


def serve(home: Path, port: int) -> None:
    """Run Prefect's API and UI on 127.0.0.1:port until idle or SIGTERM (in the server process)."""
    import uvicorn
    from prefect.server.api.server import create_app

    files = ServerFiles(home)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(final=True),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
        )
    )
    watcher = threading.Thread(
        target=_stop_when_idle,
        args=(files, idle_seconds(), server),
        daemon=True,
        name="o2c-idle",
    )
    watcher.start()
    # uvicorn stops gracefully on SIGTERM, then raises it again once its own handler is gone:
    # let that end the process through the `finally` below rather than by the signal.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _say(f"serving http://127.0.0.1:{port} (stops after {idle_seconds():.0f} s idle)")
    try:
        server.run()
    finally:
        _remove_state(files, os.getpid())
        _say("stopped")
    if not server.started:
        sys.exit(3)  # could not bind: the command tries another port


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]))
