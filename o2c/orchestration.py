"""What every o2c flow shares with Prefect: the warehouse writer slot, artifacts, run ids.

Business logic never lives here; this is the seam between plain functions and Prefect.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.runtime import flow_run

from o2c.warehouse import db_path


def current_flow_run_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None


def slot_name(db: str | None) -> str:
    """The global concurrency limit that serialises writers of one warehouse file."""
    resolved = str(db_path(db).resolve())
    digest = hashlib.sha256(resolved.encode()).hexdigest()[:10]
    stem = re.sub(r"[^a-z0-9-]+", "-", Path(resolved).stem.lower()).strip("-")
    return f"duckdb-{stem}-{digest}"


def ensure_slot(name: str) -> None:
    """Create the one-slot limit if the server does not know it yet (strict mode needs it)."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with suppress(ObjectAlreadyExists):
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )


@contextmanager
def warehouse_writer(db: str | None, timeout_seconds: float = 600) -> Iterator[None]:
    """Hold the warehouse's single writer slot: DuckDB allows one writing process per file."""
    name = slot_name(db)
    ensure_slot(name)
    with concurrency(name, occupy=1, strict=True, timeout_seconds=timeout_seconds):
        yield


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
