"""ingest-customers: a customer master export into the warehouse, validated like invoices."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.orchestration import (
    current_flow_run_id,
    markdown_artifact,
    table_artifact,
    warehouse_writer,
)
from o2c.tasks.erp import ingest, store, validation
from o2c.tasks.erp.report import summary_markdown
from o2c.tasks.erp.store import LoadResult
from o2c.warehouse import connect


@task(name="read-customer-file", cache_policy=NO_CACHE)
def read_customer_file(path: Path) -> tuple[pl.DataFrame, str]:
    return ingest.read_customer_file(path)


@task(name="validate-customers", cache_policy=NO_CACHE)
def validate_customers(raw: pl.DataFrame) -> validation.ValidationOutcome:
    return ingest.validate_customers(raw)


@task(name="load-customers", cache_policy=NO_CACHE)
def load_customers(
    db: str | None,
    raw: pl.DataFrame,
    outcome: validation.ValidationOutcome,
    path: Path,
    sha256: str,
) -> LoadResult:
    with warehouse_writer(db), connect(db) as con:
        return ingest.load_customers(
            con, raw, outcome, file_name=path.name, sha256=sha256, flow_run_id=current_flow_run_id()
        )


@flow(name="ingest-customers", log_prints=True)
def ingest_customers(path: str, db: str | None = None) -> LoadResult:
    """Read, validate (expectations/customers.json) and load one customer master export."""
    file = Path(path)
    raw, sha256 = read_customer_file(file)
    outcome = validate_customers(raw)
    result = load_customers(db, raw, outcome, file, sha256)
    _publish(result)
    return result


def _publish(result: LoadResult) -> None:
    """The load's artifacts under stable keys, then a Failed run if not one row passed."""
    markdown_artifact("customer-ingestion", summary_markdown(result), "Last customer load")
    if result.failures_by_reason:
        table_artifact(
            "customer-quarantine",
            store.quarantine_summary(result),
            "Rows quarantined by the last customer load, by reason",
        )
    print(result.message)
    if error := ingest.all_rows_rejected(result):
        raise error
