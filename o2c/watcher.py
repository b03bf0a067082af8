"""`o2c watch INBOX`: a small process that announces complete statement files to Prefect.

Prefect has no file sensor, so the watcher emits an `o2c.inbox.file.received` event per file;
the trigger of the `ingest-bank-statement` deployment (prefect.yaml) turns it into a flow run,
which moves the file to processed/ or rejected/. Without a Prefect server (no PREFECT_API_URL)
nobody would hear the events, so the watcher then runs the ingestion in-process itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from o2c.tasks.bank import inbox

# A file still in the inbox this long after its event was sent is announced again
# (past the server's ~15 minute window for dropping repeats of the same event id).
REANNOUNCE_SECONDS = 16 * 60


def watch_inbox(
    folder: Path,
    *,
    db: str | None = None,
    settle_seconds: float = 2.0,
    poll_seconds: float = 0.5,
    once: bool = False,
    echo: Callable[[str], object] = print,
) -> int:
    """Watch until interrupted (or, with `once`, until every file present is handled)."""
    folder.mkdir(parents=True, exist_ok=True)
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
    first_seen: dict[Path, tuple[inbox.FileSeen, float]] = {}
    announced: dict[str, float] = {}
    handled = 0
    while True:
        now = time.monotonic()
        pending = 0
        for path in inbox.candidates(folder):
            seen = inbox.observe(path)
            before = first_seen.get(path)
            if before is None or not inbox.settled(before[0], seen):
                first_seen[path] = (seen, now)  # new, or still being written
                pending += 1
                continue
            if now - before[1] < settle_seconds:
                pending += 1
                continue
            if use_events:
                event = inbox.file_event(path)
                sha = event["payload"]["sha256"]
                if now - announced.get(sha, -REANNOUNCE_SECONDS) < REANNOUNCE_SECONDS:
                    continue
                _emit(event)
                announced[sha] = now
                echo(f"announced {path.name} (sha256 {sha[:12]}…)")
            else:
                _ingest_here(path, db, echo)
                first_seen.pop(path, None)
            handled += 1
        first_seen = {p: v for p, v in first_seen.items() if p.exists()}
        if once and pending == 0:
            if use_events:
                _flush_events()
            return handled
        time.sleep(poll_seconds)


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
