"""ingest-invoices: an ERP invoice export into the warehouse, validated, bad rows quarantined."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.orchestration import (
    current_flow_run_id,
    markdown_artifact,
    table_artifact,
    warehouse_writer,
)
from o2c.tasks.common.files import sha256_of
from o2c.tasks.erp import normalise, store, tabular_files, validation
from o2c.tasks.erp.report import summary_markdown
from o2c.tasks.erp.store import LoadResult
from o2c.warehouse import connect


class AllRowsRejected(RuntimeError):
    """Every row of the file failed validation: nothing to load, someone must look at the export."""


@task(name="read-invoice-file", cache_policy=NO_CACHE)
def read_invoice_file(path: Path) -> tuple:
    validation.warm_up()  # GX imports while Polars reads
    raw = tabular_files.read_table(path)
    tabular_files.require_columns(raw, normalise.INVOICE_REQUIRED, path)
    return raw, sha256_of(path)


@task(name="validate-invoices", cache_policy=NO_CACHE)
def validate_invoices(raw) -> validation.ValidationOutcome:
    return validation.validate(normalise.normalise_invoices(raw), "invoices")


@task(name="load-invoices", cache_policy=NO_CACHE)
def load_invoices(db: str | None, raw, outcome, path: Path, sha256: str) -> LoadResult:
    with warehouse_writer(db), connect(db) as con:
        return store.load_invoice_batch(
            con,
            invoices=normalise.stored_invoices(outcome.good),
            customers=normalise.customers_from_invoices(outcome.good),
            bad=outcome.bad,
            raw=raw,
            file_name=path.name,
            sha256=sha256,
            failures_by_reason=outcome.failures_by_reason,
            flow_run_id=current_flow_run_id(),
        )


@task(name="check-previous-load", cache_policy=NO_CACHE)
def previous_load(db: str | None, sha256: str, path: Path, rows: int) -> LoadResult | None:
    """Before validating a million rows: was this very file loaded already?"""
    with warehouse_writer(db), connect(db) as con:
        return store.already_loaded(con, "invoices", path.name, sha256, rows)


@flow(name="ingest-invoices", log_prints=True)
def ingest_invoices(path: str, db: str | None = None) -> LoadResult:
    """Read, validate (expectations/normalise.json) and load one ERP export; publish the outcome."""
    file = Path(path)
    raw, sha256 = read_invoice_file(file)
    result = previous_load(db, sha256, file, raw.height)
    if result is None:
        outcome = validate_invoices(raw)
        result = load_invoices(db, raw, outcome, file, sha256)
    publish_load(result, "invoice")
    return result


def publish_load(result: LoadResult, kind: str) -> None:
    """The load's artifacts under stable keys (`<kind>-ingestion`, `<kind>-quarantine`), then
    a Failed run if not one row of the file passed."""
    markdown_artifact(f"{kind}-ingestion", summary_markdown(result), f"Last {kind} load")
    if result.failures_by_reason:
        table_artifact(
            f"{kind}-quarantine",
            store.quarantine_summary(result),
            f"Rows quarantined by the last {kind} load, by reason",
        )
    print(result.message)
    if result.status == "loaded" and result.rows_in and result.quarantined == result.rows_in:
        reasons = "; ".join(f"{r} ({n})" for r, n in result.failures_by_reason.items())
        raise AllRowsRejected(
            f"{result.file_name}: all {result.rows_in} rows failed validation: {reasons}"
        )
