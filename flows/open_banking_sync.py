"""open-banking-sync: new transactions from the Bridge aggregation API, on an interval schedule."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.models.settings_bridge import BridgeSettings, load_bridge_settings
from o2c.orchestration import (
    current_flow_run_id,
    markdown_artifact,
    secret_from_block,
    table_artifact,
    warehouse_writer,
)
from o2c.tasks.bank import open_banking
from o2c.tasks.bank.report import summary_markdown
from o2c.warehouse import connect


@task(name="sync-bridge", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=60)
def sync_bridge(db: str | None, settings: BridgeSettings) -> open_banking.SyncResult:
    with warehouse_writer(db), connect(db) as con:
        return open_banking.sync(
            con, settings, now=datetime.now(UTC), flow_run_id=current_flow_run_id()
        )


@flow(name="open-banking-sync", log_prints=True)
def open_banking_sync(db: str | None = None) -> dict[str, object]:
    """Fetch since the stored cursors, load once, move the cursors; publish what came in."""
    # O2C_BRIDGE_* variables, the secret maybe from a Secret block (read once, not retried: a
    # missing setting is no passing fault); the secret never leaves its SecretStr.
    settings = load_bridge_settings(secret_from_block)
    result = sync_bridge(db, settings)
    summary = result.summary()
    body = (
        summary_markdown(result.load, title="Open Banking sync")
        if result.load
        else "# Open Banking sync\n\nNothing new since the last sync.\n"
    )
    body += "\n" + "\n".join(f"- {k}: {v}" for k, v in summary.items()) + "\n"
    markdown_artifact("open-banking-sync", body, "Last Open Banking sync")
    if result.withdrawn_stored:
        table_artifact(
            "open-banking-withdrawn",
            [w.__dict__ for w in result.withdrawn_stored],
            "Transactions the bank withdrew after they were stored: to review",
        )
    print(", ".join(f"{k}: {v}" for k, v in summary.items()))
    return summary
