"""The warehouse lock: one writer or many readers per DuckDB file, released by the kernel on death.

DuckDB lets one process write a file and refuses every other opener at once ("Could not set
lock on file"). o2c serialises its own processes in front of that with `fcntl.flock` on
`<warehouse>.lock`: writers take it exclusive, readers shared, and everyone else waits. A flock
belongs to the open file, so when its holder dies (even by SIGKILL) the kernel lets go of it:
no slot stays taken after a crash, unlike a counter kept by a server.

The lock file also says who holds it (pid, command line, start time, one JSON line each), so a
waiting command can say what it waits for. Within one process the lock is re-entrant for the
thread that holds it; other threads of the process wait like other processes do. Linux and
other POSIX systems only.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

DEFAULT_TIMEOUT_S = 600.0
TIMEOUT_ENV = "O2C_LOCK_TIMEOUT_S"
_SUFFIX = ".lock"  # beside DuckDB's own `.wal`, never the same name
_POLL_FIRST_S, _POLL_MAX_S = 0.01, 0.2
_UNKNOWN_HOLDER_GRACE_S = 1.0  # a holder writes its line just after taking the lock

log = logging.getLogger(__name__)


class WarehouseLockTimeout(TimeoutError):
    """The warehouse stayed locked longer than the timeout; the message names the holder."""


@dataclass(frozen=True)
class Holder:
    """A process holding (or last seen holding) the lock, as its line in the lock file says."""

    pid: int
    mode: str  # "write" or "read"
    command: str
    since: float  # epoch seconds

    def describe(self) -> str:
        return f"pid {self.pid} ({self.command}) since {_clock(self.since)}"


def lock_path(warehouse: str | os.PathLike[str]) -> Path:
    """The lock file beside the warehouse: `data/o2c.duckdb` -> `data/o2c.duckdb.lock`."""
    target = Path(warehouse)
    return target.with_name(target.name + _SUFFIX)


def timeout_seconds(explicit: float | None = None) -> float:
    """How long to wait for the lock: the explicit value, else $O2C_LOCK_TIMEOUT_S, else 600."""
    if explicit is not None:
        return float(explicit)
    return seconds_from_env(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)


def seconds_from_env(name: str, default: float) -> float:
    """A duration in seconds from the environment variable `name`, `default` when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number of seconds") from None


def holders(warehouse: str | os.PathLike[str]) -> list[Holder]:
    """The live processes the lock file names as holders (dead ones and released ones left out)."""
    return _live_holders(lock_path(warehouse))


def _live_holders(lock_file: Path) -> list[Holder]:
    try:
        text = lock_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [h for h in _recorded(text).values() if _alive(h.pid)]


def _recorded(text: str) -> dict[str, Holder]:
    """Holders by token: each taking appends a line, each shared release a `released` line."""
    found: dict[str, Holder] = {}
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            if "released" in entry:
                found.pop(str(entry["released"]), None)
            else:
                found[str(entry["token"])] = Holder(
                    int(entry["pid"]), str(entry["mode"]), str(entry["cmd"]), float(entry["since"])
                )
        except (ValueError, KeyError, TypeError):
            continue  # a line being written right now, or garbage: it is only information
    return found


@contextlib.contextmanager
def warehouse_lock(
    warehouse: str | os.PathLike[str],
    *,
    exclusive: bool,
    timeout_s: float | None = None,
    announce: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the warehouse lock (exclusive to write, shared to read) for the `with` block.

    Waits up to `timeout_s` (default $O2C_LOCK_TIMEOUT_S or 600 s), telling `announce` once
    (default: a line on stderr) whom it waits for; raises WarehouseLockTimeout naming them.
    """
    path = lock_path(Path(warehouse).resolve())  # one key per file, however it is spelt
    state = _state_for(path)
    wait = timeout_seconds(timeout_s)
    with contextlib.ExitStack() as slot:
        if exclusive and not state.written_by_this_thread():
            # In a flow or task run: the warehouse's Prefect slot first (o2c.concurrency), so
            # the wait shows in the run; the flock below stays the guard that survives a crash.
            from o2c.concurrency import warehouse_slot

            slot.enter_context(
                warehouse_slot(warehouse, timeout_s=wait, announce=announce or _to_stderr)
            )
        release = state.acquire(
            path,
            exclusive=exclusive,
            deadline=time.monotonic() + wait,
            waited=wait,
            announce=announce or _to_stderr,
        )
        try:
            yield
        finally:
            release()


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class _ProcessState:
    """This process's hold on one lock file: one fd, shared by its threads as the mode allows."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    fd: int | None = None
    mode: str | None = None  # None, "busy" (a thread is taking it), "read", "write"
    writer: int | None = None  # the thread that holds it exclusive
    depth: int = 0  # how many times that thread entered it
    readers: Counter[int] = field(default_factory=Counter)
    token: str = ""

    def written_by_this_thread(self) -> bool:
        """This thread already holds the lock exclusive (a nested writer goes straight in)."""
        with self.cond:
            return self.mode == "write" and self.writer == threading.get_ident()

    def acquire(
        self,
        path: Path,
        *,
        exclusive: bool,
        deadline: float,
        waited: float,
        announce: Callable[[str], None],
    ) -> Callable[[], None]:
        me = threading.get_ident()
        with self.cond:
            if self.mode == "write" and self.writer == me:
                self.depth += 1  # re-entrant: a task already holds it, or a reader inside it
                return self._release_nested
            if exclusive and self.readers[me]:
                raise RuntimeError(
                    "this thread reads the warehouse and asks to write it: close the read-only"
                    " connection first (a shared lock is not upgraded, two upgraders deadlock)"
                )
            while self.mode is not None:
                if not exclusive and self.mode == "read":
                    self.readers[me] += 1
                    return functools.partial(self._release_reader, me)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.cond.wait(remaining):
                    raise WarehouseLockTimeout(
                        f"the warehouse lock {path} is still held by another thread of this"
                        f" process (pid {os.getpid()}) after {waited:g} s"
                    )
            self.mode = "busy"
        fd = None
        try:
            fd = _open(path, exclusive)
            if fd is not None:
                _flock(fd, path, exclusive, deadline, waited, announce)
                token = uuid.uuid4().hex
                _record(fd, exclusive, token)
            else:
                token = ""
        except BaseException:
            if fd is not None:
                os.close(fd)
            with self.cond:
                self.mode = None
                self.cond.notify_all()
            raise
        with self.cond:
            self.fd, self.token = fd, token
            if exclusive:
                self.mode, self.writer, self.depth = "write", me, 1
                return self._release_writer
            self.mode = "read"
            self.readers[me] += 1
            self.cond.notify_all()  # other threads waiting to read may join
            return functools.partial(self._release_reader, me)

    def _release_nested(self) -> None:
        with self.cond:
            self.depth -= 1

    def _release_writer(self) -> None:
        with self.cond:
            self.depth -= 1
            if self.depth:
                return
            if self.fd is not None:
                with contextlib.suppress(OSError):
                    os.ftruncate(self.fd, 0)  # released cleanly: nobody to name any more
            self._close()

    def _release_reader(self, me: int) -> None:
        with self.cond:
            self.readers[me] -= 1
            if self.readers[me] <= 0:
                del self.readers[me]
            if self.readers:
                return
            if self.fd is not None:
                with contextlib.suppress(OSError):
                    os.write(self.fd, _line({"released": self.token}))
            self._close()

    def _close(self) -> None:
        """Drop the flock (closing the fd does it) and wake this process's waiting threads."""
        if self.fd is not None:
            os.close(self.fd)
        self.fd, self.mode, self.writer, self.depth, self.token = None, None, None, 0, ""
        self.cond.notify_all()


_states: dict[Path, _ProcessState] = {}
_states_guard = threading.Lock()


def _state_for(path: Path) -> _ProcessState:
    with _states_guard:
        return _states.setdefault(path, _ProcessState())


def _forget_after_fork() -> None:
    """A forked child does not hold its parent's locks: drop the inherited fds and states."""
    global _states, _states_guard
    for state in _states.values():
        if state.fd is not None:
            with contextlib.suppress(OSError):
                os.close(state.fd)  # the parent's flock stays: it still has its own fd
    _states, _states_guard = {}, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def _open(path: Path, exclusive: bool) -> int | None:
    """The lock file, created if need be; a reader that may not create it goes unlocked."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o664)
    except OSError:
        if exclusive:
            raise
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        log.warning("no lock file at %s and none can be created: reading unlocked", path)
        return None


def _flock(
    fd: int,
    path: Path,
    exclusive: bool,
    deadline: float,
    waited: float,
    announce: Callable[[str], None],
) -> None:
    """Take the flock, polling so the wait has a deadline; say once whom we wait for."""
    operation = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    started = time.monotonic()
    pause, announced = _POLL_FIRST_S, False
    while True:
        try:
            fcntl.flock(fd, operation)
            return
        except BlockingIOError:
            pass
        now = time.monotonic()
        if now >= deadline:
            raise WarehouseLockTimeout(
                f"the warehouse is still locked after {waited:g} s by {_who(path)}"
                f" (lock file {path}); set {TIMEOUT_ENV} to wait longer"
            )
        if not announced:
            known = _live_holders(path)
            if known or now - started >= _UNKNOWN_HOLDER_GRACE_S:
                announce(f"waiting for {_who(path, known)}")
                announced = True
        time.sleep(min(pause, max(deadline - now, 0)))
        pause = min(pause * 2, _POLL_MAX_S)


def _who(path: Path, known: list[Holder] | None = None) -> str:
    """'the warehouse writer: pid 1234 (o2c ingest invoices x.csv) since 10:02:11' or readers."""
    found = _live_holders(path) if known is None else known
    writers = [h for h in found if h.mode == "write"]
    if writers:
        return "the warehouse writer: " + writers[0].describe()
    if len(found) == 1:
        return "the warehouse reader: " + found[0].describe()
    if found:
        return f"{len(found)} warehouse readers: " + "; ".join(h.describe() for h in found)
    return "the warehouse lock (holder not recorded)"


def _record(fd: int, exclusive: bool, token: str) -> None:
    """Say who holds the lock: a writer replaces the file's lines, a reader adds its own."""
    if exclusive:
        previous = [h for h in _recorded(_read_all(fd)).values() if h.mode == "write"]
        for dead in previous:  # a clean release empties the file: this one died holding it
            log.warning("the previous warehouse writer died holding the lock: %s", dead.describe())
        os.ftruncate(fd, 0)
    entry = {
        "token": token,
        "pid": os.getpid(),
        "mode": "write" if exclusive else "read",
        "cmd": _command_line(),
        "since": round(time.time(), 3),
    }
    os.write(fd, _line(entry))


def _read_all(fd: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(fd, 1 << 20, 0).decode("utf-8", errors="replace")
    return ""


def _line(entry: dict) -> bytes:
    return (json.dumps(entry, ensure_ascii=False) + "\n").encode()


def _command_line() -> str:
    """What a person typed, near enough: `o2c ingest invoices x.csv`, at most 200 characters."""
    argv = sys.argv or [""]
    program = Path(argv[0]).name
    words = [program, *argv[1:]]
    if not program or program == "-c" or program.endswith(".py"):
        words.insert(0, Path(sys.executable).name)  # `python -c ...`, `python driver.py ...`
    text = " ".join(words)
    return text if len(text) <= 200 else text[:199] + "…"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _clock(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch)
    same_day = moment.date() == datetime.now().date()
    return f"{moment:%H:%M:%S}" if same_day else f"{moment:%Y-%m-%d %H:%M:%S}"
