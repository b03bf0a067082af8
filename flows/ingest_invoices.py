"""ingest-invoices: an ERP invoice export into the warehouse, validated, bad rows quarantined."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.erp_tasks import erp_tasks, publish
from o2c.flows.run_names import file_name
from o2c.orchestration import writing
from o2c.tasks.erp import store
from o2c.tasks.erp.ingest import INVOICES
from o2c.tasks.erp.store import LoadResult

read_invoice_file, validate_invoices, load_invoices = erp_tasks(INVOICES)


@task(name="check-previous-load", cache_policy=NO_CACHE)
def previous_load(db: str | None, sha256: str, path: Path, rows: int) -> LoadResult | None:
    """Before validating a million rows: was this very file loaded already?"""
    with writing(db) as con:
        return store.already_loaded(con, INVOICES.source, path.name, sha256, rows)


@flow(name="ingest-invoices", flow_run_name=file_name("ingest"), log_prints=True)
def ingest_invoices(path: str, db: str | None = None) -> LoadResult:
    """Read, validate (expectations/invoices.json) and load one ERP export; publish the outcome.

    Args:
        path: The ERP invoice export; loading the same file again is a no-op that says so.
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
    """
    file = Path(path)
    raw, sha256 = read_invoice_file(file)
    result = previous_load(db, sha256, file, raw.height)
    if result is None:
        outcome = validate_invoices(raw)
        result = load_invoices(db, raw, outcome, file, sha256)
    publish(INVOICES, result)
    return result
