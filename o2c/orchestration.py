"""What every o2c flow shares with Prefect: the warehouse writer lock, artifacts, run ids.

Business logic never lives here; this is the seam between plain functions and Prefect.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import duckdb
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.blocks.system import Secret
from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from o2c.locking import warehouse_lock
from o2c.warehouse import connect, db_path


def current_flow_run_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None


@contextmanager
def warehouse_writer(db: str | None, timeout_seconds: float | None = None) -> Iterator[None]:
    """Be the warehouse's one writer: DuckDB allows one writing process per file.

    An exclusive flock on `<warehouse>.lock` (o2c.locking), so a killed writer frees it at once;
    the wait is said once on stderr and in the run's log. Timeout: $O2C_LOCK_TIMEOUT_S or 600 s.
    """
    with warehouse_lock(
        db_path(db), exclusive=True, timeout_s=timeout_seconds, announce=_announce_wait
    ):
        yield


@contextmanager
def writing(db: str | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse held as its one writer (`warehouse_writer`), for a task."""
    with warehouse_writer(db), connect(db) as con:
        yield con


def _announce_wait(message: str) -> None:
    """Whoever started the run sees it on the terminal; finance sees it in the run's log."""
    print(message, file=sys.stderr, flush=True)
    with suppress(MissingContextError):
        get_run_logger().warning(message)


def secret_from_block(name: str) -> str | None:
    """The value of a Prefect Secret block, or None when there is no block of that name."""
    try:
        return str(Secret.load(name).get())
    except ValueError:  # Prefect's "Unable to find block document named ..."
        return None


def markdown_artifact(key: str, markdown: str, description: str) -> None:
    create_markdown_artifact(markdown=markdown, key=key, description=description)


def table_artifact(key: str, rows: list[dict[str, Any]], description: str) -> None:
    create_table_artifact(table=_plain(rows), key=key, description=description)


def link_artifact(key: str, link: str, text: str, description: str) -> None:
    create_link_artifact(link=link, link_text=text, key=key, description=description)


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Artifacts are JSON: dates and decimals as text, exactly as finance should read them."""
    return [
        {
            k: v if v is None or isinstance(v, str | int | float | bool) else str(v)
            for k, v in r.items()
        }
        for r in rows
    ]
