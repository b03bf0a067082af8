"""ingest-invoices: an ERP invoice export into the warehouse, validated, bad rows quarantined."""

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


@task(name="read-invoice-file", cache_policy=NO_CACHE)
def read_invoice_file(path: Path) -> tuple[pl.DataFrame, str]:
    return ingest.read_invoice_file(path)


@task(name="validate-invoices", cache_policy=NO_CACHE)
def validate_invoices(raw: pl.DataFrame) -> validation.ValidationOutcome:
    return ingest.validate_invoices(raw)


@task(name="load-invoices", cache_policy=NO_CACHE)
def load_invoices(
    db: str | None,
    raw: pl.DataFrame,
    outcome: validation.ValidationOutcome,
    path: Path,
    sha256: str,
) -> LoadResult:
    with warehouse_writer(db), connect(db) as con:
        return ingest.load_invoices(
            con, raw, outcome, file_name=path.name, sha256=sha256, flow_run_id=current_flow_run_id()
        )


@task(name="check-previous-load", cache_policy=NO_CACHE)
def previous_load(db: str | None, sha256: str, path: Path, rows: int) -> LoadResult | None:
    """Before validating a million rows: was this very file loaded already?"""
    with warehouse_writer(db), connect(db) as con:
        return store.already_loaded(con, "invoices", path.name, sha256, rows)


@flow(name="ingest-invoices", log_prints=True)
def ingest_invoices(path: str, db: str | None = None) -> LoadResult:
    """Read, validate (expectations/invoices.json) and load one ERP export; publish the outcome."""
    file = Path(path)
    raw, sha256 = read_invoice_file(file)
    result = previous_load(db, sha256, file, raw.height)
    if result is None:
        outcome = validate_invoices(raw)
        result = load_invoices(db, raw, outcome, file, sha256)
    _publish(result)
    return result


def _publish(result: LoadResult) -> None:
    """The load's artifacts under stable keys, then a Failed run if not one row passed."""
    markdown_artifact("invoice-ingestion", summary_markdown(result), "Last invoice load")
    if result.failures_by_reason:
        table_artifact(
            "invoice-quarantine",
            store.quarantine_summary(result),
            "Rows quarantined by the last invoice load, by reason",
        )
    print(result.message)
    if error := ingest.all_rows_rejected(result):
        raise error
