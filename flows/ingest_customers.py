"""ingest-customers: a customer master export into the warehouse, validated like invoices."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from o2c.flows.erp_tasks import erp_tasks, publish
from o2c.flows.run_names import file_name
from o2c.tasks.erp.ingest import CUSTOMERS
from o2c.tasks.erp.store import LoadResult

read_customer_file, validate_customers, load_customers = erp_tasks(CUSTOMERS)


@flow(name="ingest-customers", flow_run_name=file_name("ingest"), log_prints=True)
def ingest_customers(path: str, db: str | None = None) -> LoadResult:
    """Read, validate (expectations/customers.json) and load one customer master export.

    Args:
        path: The ERP customer master export.
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
    """
    file = Path(path)
    raw, sha256 = read_customer_file(file)
    outcome = validate_customers(raw)
    result = load_customers(db, raw, outcome, file, sha256)
    publish(CUSTOMERS, result)
    return result
