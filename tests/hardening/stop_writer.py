"""The real `o2c` command line, stopped at a chosen point of its invoice load for a SIGKILL.

    python tests/hardening/stop_writer.py POINT MARKERS o2c-args...

POINT is where the load stops, holding the warehouse writer lock, until the test kills it:
`before` (lock taken, nothing written), `during` (inside the load's transaction, right after
the invoices are inserted), `after` (committed, lock still held). On arrival it writes the file
MARKERS/POINT (pid and what it saw) so the test kills at that exact place instead of guessing
with sleeps. Everything else is `o2c.cli.main`: the same flow, lock and ephemeral server.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

POINTS = ("before", "during", "after")


def _stop(markers: Path, point: str, seen: str = "") -> None:
    """Say where we are (atomically: the test reads the file the moment it appears), then wait."""
    partial = markers / f".{point}.tmp"
    partial.write_text(f"{os.getpid()} {seen}".strip(), encoding="utf-8")
    partial.rename(markers / point)
    while True:
        time.sleep(60)  # until SIGKILL


class _StopInTransaction:
    """The load's connection, stopping just after the INSERT of new invoices, before COMMIT."""

    def __init__(self, con: Any, markers: Path) -> None:
        self._con, self._markers = con, markers

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        result = self._con.execute(sql, *args, **kwargs)
        if sql.lstrip().startswith("INSERT INTO invoices"):
            inside = self._con.execute("SELECT count(*) FROM invoices").fetchall()[0][0]
            _stop(self._markers, "during", f"{inside} invoices inside the open transaction")
        return result


def install(point: str, markers: Path) -> None:
    from o2c.tasks.erp import store

    load = store.load_invoice_batch

    def stopping_load(con: Any, **kwargs: Any) -> Any:
        if point == "before":
            _stop(markers, "before")
        result = load(_StopInTransaction(con, markers) if point == "during" else con, **kwargs)
        if point == "after":
            _stop(markers, "after", result.message)
        return result

    store.load_invoice_batch = stopping_load


if __name__ == "__main__":
    point, markers, *o2c_args = sys.argv[1:]
    if point not in POINTS:
        raise SystemExit(f"POINT must be one of {POINTS}")
    install(point, Path(markers))
    from o2c.cli import main

    sys.argv = ["o2c", *o2c_args]
    main()
