"""`o2c watch INBOX`: a small process that announces complete statement files to Prefect.

Prefect has no file sensor, so the watcher emits an `o2c.inbox.file.received` event per file;
the trigger of the `ingest-bank-statement` deployment (prefect.yaml) turns it into a flow run,
which moves the file to processed/ or rejected/. Without a Prefect server (no PREFECT_API_URL)
nobody would hear the events, so the watcher then runs the ingestion in-process itself.

It never loops on a file: what it handed over is remembered by the entry's identity (inode,
size, mtime), so a file its run could not move is left alone until it changes. Links and other
odd entries never reach a flow: the watcher moves them (never their target) to rejected/.
Nothing one file does (unreadable, unmovable, a flow that crashes) stops the watcher.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from o2c.tasks.bank import inbox

# A file still in the inbox this long after its event was sent is announced once more
# (past the server's ~15 minute window for dropping repeats of the same event id).
REANNOUNCE_SECONDS = 16 * 60

Key = tuple[str, inbox.FileSeen]  # a name and what lstat said of it: changes when the file does


@dataclass
class _Memory:
    """What the watcher knows between two looks at the inbox."""

    first_seen: dict[str, tuple[inbox.FileSeen, float]] = field(default_factory=dict)
    announced: dict[Key, float] = field(default_factory=dict)  # server mode: when sent
    reannounced: set[Key] = field(default_factory=set)
    left_alone: set[Key] = field(default_factory=set)  # failed and still here: until it changes
    sha256: dict[Key, str] = field(default_factory=dict)  # hashed once per version of a file
    said: set[str] = field(default_factory=set)  # one-time messages already printed

    def forget_all_but(self, present: set[Key]) -> None:
        names = {name for name, _ in present}
        self.first_seen = {n: v for n, v in self.first_seen.items() if n in names}
        self.announced = {k: v for k, v in self.announced.items() if k in present}
        self.reannounced &= present
        self.left_alone &= present
        self.sha256 = {k: v for k, v in self.sha256.items() if k in present}


def watch_inbox(
    folder: Path,
    *,
    db: str | None = None,
    settle_seconds: float = 2.0,
    poll_seconds: float = 0.5,
    once: bool = False,
    echo: Callable[[str], object] = print,
) -> int:
    """Watch until interrupted (or, with `once`, until every file present is handled).

    Returns how many files were handed over (announced, ingested or refused).
    """
    folder.mkdir(parents=True, exist_ok=True)
    try:
        inbox.mark(folder)  # lets the flow of `o2c serve` archive here, and nowhere else
    except OSError as exc:
        inbox.declare(folder)
        echo(f"cannot mark {folder} as an inbox ({exc}): a served flow will not archive here")
    use_events = bool(os.environ.get("PREFECT_API_URL"))
    echo(
        f"watching {folder} ("
        + (
            "events to " + os.environ["PREFECT_API_URL"]
            if use_events
            else "no Prefect server: ingesting here"
        )
        + ")"
    )
    memory = _Memory()
    handled = 0
    while True:
        now = time.monotonic()
        pending = 0
        present: set[Key] = set()
        try:
            entries = inbox.candidates(folder)
        except OSError as exc:
            _once(memory, echo, f"cannot list {folder}: {exc.strerror or exc}; trying again")
            entries = []
            pending += 1
        for path in entries:
            seen = inbox.observe(path)
            if seen is None:
                continue
            key = (path.name, seen)
            present.add(key)
            if key in memory.left_alone:
                continue
            if key in memory.announced:
                try:
                    _maybe_reannounce(path, key, memory, now, echo)
                except Exception as exc:
                    _leave_alone(path, key, memory, echo, f"{type(exc).__name__}: {exc}")
                continue
            before = memory.first_seen.get(path.name)
            if before is None or not inbox.settled(before[0], seen):
                memory.first_seen[path.name] = (seen, now)  # new, or still being written
                pending += 1
                continue
            if now - before[1] < settle_seconds:
                pending += 1
                continue
            try:
                _hand_over(path, key, memory, use_events, db, echo, now)
            except Exception as exc:  # one file's trouble never stops the watcher
                _leave_alone(path, key, memory, echo, f"{type(exc).__name__}: {exc}")
            memory.first_seen.pop(path.name, None)
            handled += 1
        memory.forget_all_but(present)
        if once and pending == 0:
            if use_events:
                _flush_events()
            return handled
        time.sleep(poll_seconds)


def _hand_over(
    path: Path,
    key: Key,
    memory: _Memory,
    use_events: bool,
    db: str | None,
    echo: Callable[[str], object],
    now: float,
) -> None:
    """Refuse it, announce it or ingest it; remember it when it is still here afterwards."""
    refusal = inbox.screen(path)
    if refusal is None and use_events:
        try:
            sha = memory.sha256.get(key) or inbox.sha256_of_entry(path)
        except OSError as exc:
            refusal = f"{path.name}: cannot be read ({exc.strerror or exc})"
        else:
            memory.sha256[key] = sha
            _emit(inbox.file_event(path, sha))
            memory.announced[key] = now
            echo(f"announced {path.name} (sha256 {sha[:12]}…)")
            return
    if refusal is not None:
        try:
            inbox.move_rejected(path, refusal)
        except OSError as exc:
            _leave_alone(path, key, memory, echo, f"{refusal}; could not be moved: {exc}")
            return
        echo(f"{path.name}: rejected ({refusal})")
        return
    _ingest_here(path, db, echo)
    after = inbox.observe(path)
    if after is not None:
        _leave_alone(path, (path.name, after), memory, echo, "its run did not move it")


def _maybe_reannounce(
    path: Path, key: Key, memory: _Memory, now: float, echo: Callable[[str], object]
) -> None:
    """Announce a file its flow never moved once more, then leave it for a person."""
    waited = now - memory.announced[key]
    if waited < REANNOUNCE_SECONDS:
        return
    if key in memory.reannounced:
        memory.announced.pop(key)
        _leave_alone(path, key, memory, echo, "still not handled after two announcements")
        return
    memory.reannounced.add(key)
    memory.announced[key] = now
    echo(f"{path.name}: still in the inbox {waited / 60:.0f} min after its event; announced again")
    _emit(inbox.file_event(path, memory.sha256.get(key)))


def _leave_alone(
    path: Path, key: Key, memory: _Memory, echo: Callable[[str], object], why: str
) -> None:
    memory.left_alone.add(key)
    echo(f"{path.name}: left in the inbox ({why}); not tried again until it changes")


def _once(memory: _Memory, echo: Callable[[str], object], message: str) -> None:
    if message not in memory.said:
        memory.said.add(message)
        echo(message)


def _emit(event: dict) -> None:
    from prefect.events import emit_event

    emit_event(
        event=event["event"], resource=event["resource"], payload=event["payload"], id=event["id"]
    )


def _flush_events() -> None:
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()


def _ingest_here(path: Path, db: str | None, echo: Callable[[str], object]) -> None:
    from o2c.flows.ingest_bank_statement import ingest_bank_statement

    state = ingest_bank_statement(str(path), db=db, archive=True, return_state=True)
    echo(f"{path.name}: {state.name}" + (f" ({state.message})" if state.is_failed() else ""))
