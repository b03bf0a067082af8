"""ingest-customers: a customer master export into the warehouse, validated like invoices."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.ingest_invoices import publish_load
from o2c.orchestration import (
    current_flow_run_id,
    warehouse_writer,
)
from o2c.tasks.common.files import sha256_of
from o2c.tasks.erp import normalise, store, tabular_files, validation
from o2c.tasks.erp.store import LoadResult
from o2c.warehouse import connect


@task(name="read-customer-file", cache_policy=NO_CACHE)
def read_customer_file(path: Path) -> tuple:
    validation.warm_up()  # GX imports while Polars reads
    raw = tabular_files.read_table(path)
    tabular_files.require_columns(raw, normalise.CUSTOMER_REQUIRED, path)
    return raw, sha256_of(path)


@task(name="validate-customers", cache_policy=NO_CACHE)
def validate_customers(raw) -> validation.ValidationOutcome:
    return validation.validate(normalise.normalise_customers(raw), "customers")


@task(name="load-customers", cache_policy=NO_CACHE)
def load_customers(db: str | None, raw, outcome, path: Path, sha256: str) -> LoadResult:
    with warehouse_writer(db), connect(db) as con:
        return store.load_customer_batch(
            con,
            customers=outcome.good.select(normalise.CUSTOMER_COLUMNS),
            bad=outcome.bad,
            raw=raw,
            file_name=path.name,
            sha256=sha256,
            failures_by_reason=outcome.failures_by_reason,
            flow_run_id=current_flow_run_id(),
        )


@flow(name="ingest-customers", log_prints=True)
def ingest_customers(path: str, db: str | None = None) -> LoadResult:
    """Read, validate (expectations/customers.json) and load one customer master export."""
    file = Path(path)
    raw, sha256 = read_customer_file(file)
    outcome = validate_customers(raw)
    result = load_customers(db, raw, outcome, file, sha256)
    publish_load(result, "customer")
    return result
