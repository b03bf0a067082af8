"""open-banking-sync: new transactions from the Bridge aggregation API, on an interval schedule.

Three tasks, so that no network call is made while the warehouse writer lock is held:
fetch (cursors read in a short read-only connection, closed, then network only; the only task
retried, and only for errors a later try can fix), stage (pure mapping), write (the writer lock,
the load and the cursor moves, then the lock is released).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.run_names import hourly_name
from o2c.models.settings_bridge import BridgeSettings, load_bridge_settings
from o2c.orchestration import (
    current_flow_run_id,
    markdown_artifact,
    secret_from_block,
    table_artifact,
    writing,
)
from o2c.tasks.bank import open_banking
from o2c.tasks.bank.report import summary_markdown
from o2c.tasks.common.escaping import md_text
from o2c.tasks.common.language import label
from o2c.tasks.connectors.bridge import BridgeClient
from o2c.tasks.connectors.http import ConnectorError


def retry_if_retryable(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: retry only what a later try can fix (5xx, 429, timeouts).

    A 401/403/404, bad data or a settings error fails the run at once: retrying them only
    delays the same answer (and a 401 retried hammers the provider with wrong credentials).
    """
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        try:
            state.result(raise_on_failure=True)
        except Exception as raised:
            exc = raised
    return isinstance(exc, ConnectorError) and exc.retryable


@task(
    name="fetch-bridge",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=60,
    retry_condition_fn=retry_if_retryable,
)
def fetch(db: str | None, settings: BridgeSettings) -> open_banking.FetchResult:
    """Network only: the cursors are read and their connection closed before the first call."""
    cursors = open_banking.stored_cursors(db)
    now = datetime.now(UTC)
    # The connector's lines (one per request, each retry) go to the run's log, already redacted.
    with BridgeClient(settings, logger=get_run_logger()) as client:
        return open_banking.fetch_transactions(
            client,
            since=now - timedelta(days=settings.initial_history_days),
            cursor_state=cursors,
        )


@task(name="stage-bridge", cache_policy=NO_CACHE)
def stage(fetched: open_banking.FetchResult, user: str) -> open_banking.StagedSync:
    """Pure mapping: statements, fingerprint, cursor moves; no I/O."""
    return open_banking.stage(fetched, user=user)


@task(name="write-bridge", cache_policy=NO_CACHE)
def write(db: str | None, staged: open_banking.StagedSync) -> open_banking.SyncResult:
    """The one short hold of the writer lock: load the rows, move the cursors."""
    with writing(db) as con:
        return open_banking.write(
            con, staged, now=datetime.now(UTC), flow_run_id=current_flow_run_id()
        )


@flow(name="open-banking-sync", flow_run_name=hourly_name("open-banking-sync"), log_prints=True)
def open_banking_sync(db: str | None = None) -> dict[str, object]:
    """Fetch since the stored cursors, load once, move the cursors; publish what came in.

    Args:
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
    """
    # O2C_BRIDGE_* variables, the secret maybe from a Secret block (read once, not retried: a
    # missing setting is no passing fault); the secret never leaves its SecretStr.
    settings = load_bridge_settings(secret_from_block)
    fetched = fetch.with_options(
        retries=settings.run_retries, retry_delay_seconds=settings.run_retry_delay_s
    )(db, settings)
    staged = stage(fetched, settings.user_uuid or settings.external_user_id or "")
    result = write(db, staged)
    summary = result.summary()
    title = label("bank.open_banking_title")
    body = (
        summary_markdown(result.load, title=title)
        if result.load
        else f"# {title}\n\n{label('bank.open_banking_nothing')}\n"
    )
    body += "\n" + "\n".join(f"- {md_text(k)}: {md_text(v)}" for k, v in summary.items()) + "\n"
    markdown_artifact("open-banking-sync", body, "Last Open Banking sync")
    if result.withdrawn_stored:
        table_artifact(
            "open-banking-withdrawn",
            [asdict(w) for w in result.withdrawn_stored],
            "Transactions the bank withdrew after they were stored: to review",
        )
    print(", ".join(f"{k}: {v}" for k, v in summary.items()))
    return summary
