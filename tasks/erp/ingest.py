"""ERP ingestion without Prefect: read, validate, load; and when a load must fail its run.

The ingest flows wrap these steps as tasks (holding the warehouse writer lock around the
writes only); tests and benchmarks call `ingest_invoice_file` / `ingest_customer_file` on an
open connection, so nobody copies the flow's glue.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from o2c.models.erp import CUSTOMER_COLUMNS, CUSTOMER_REQUIRED, INVOICE_REQUIRED
from o2c.models.status import LoadStatus
from o2c.tasks.common.files import sha256_of
from o2c.tasks.erp import normalise, store, tabular_files, validation
from o2c.tasks.erp.store import LoadResult


class AllRowsRejected(RuntimeError):
    """Every row of the file failed validation: nothing to load, someone must look at the export."""


def all_rows_rejected(result: LoadResult) -> AllRowsRejected | None:
    """The error a run ends with when not one row of a loaded file passed validation, else None.

    The rows are in quarantine with their reasons either way; a run that says Completed over a
    file of nothing but rejects would hide a broken export from finance.
    """
    if (
        result.status == LoadStatus.LOADED
        and result.rows_in
        and result.quarantined == result.rows_in
    ):
        reasons = "; ".join(f"{r} ({n})" for r, n in result.failures_by_reason.items())
        return AllRowsRejected(
            f"{result.file_name}: all {result.rows_in} rows failed validation: {reasons}"
        )
    return None


def _read(path: Path, required: tuple[str, ...]) -> tuple[pl.DataFrame, str]:
    validation.warm_up()  # GX imports while Polars reads
    raw = tabular_files.read_table(path)
    tabular_files.require_columns(raw, required, path)
    return raw, sha256_of(path)


def read_invoice_file(path: Path) -> tuple[pl.DataFrame, str]:
    """The export as text columns and its SHA-256; refused when a required column is missing."""
    return _read(path, INVOICE_REQUIRED)


def validate_invoices(raw: pl.DataFrame) -> validation.ValidationOutcome:
    """Typed rows checked against expectations/invoices.json: good rows and quarantined ones."""
    return validation.validate(normalise.normalise_invoices(raw), "invoices")


def load_invoices(
    con: duckdb.DuckDBPyConnection,
    raw: pl.DataFrame,
    outcome: validation.ValidationOutcome,
    *,
    file_name: str,
    sha256: str,
    flow_run_id: str | None = None,
) -> LoadResult:
    """Write one validated invoice file: invoices, the customers they describe, quarantine."""
    return store.load_invoice_batch(
        con,
        invoices=normalise.stored_invoices(outcome.good),
        customers=normalise.customers_from_invoices(outcome.good),
        bad=outcome.bad,
        raw=raw,
        file_name=file_name,
        sha256=sha256,
        failures_by_reason=outcome.failures_by_reason,
        flow_run_id=flow_run_id,
    )


def ingest_invoice_file(
    con: duckdb.DuckDBPyConnection, path: Path, *, flow_run_id: str | None = None
) -> LoadResult:
    """Read, validate and load one invoice export, as the ingest-invoices flow does.

    A file already loaded is not validated again (a million rows cost seconds): the result
    says which batch loaded it.
    """
    path = Path(path)
    raw, sha256 = read_invoice_file(path)
    duplicate = store.already_loaded(con, "invoices", path.name, sha256, raw.height)
    if duplicate is not None:
        return duplicate
    outcome = validate_invoices(raw)
    return load_invoices(
        con, raw, outcome, file_name=path.name, sha256=sha256, flow_run_id=flow_run_id
    )


def read_customer_file(path: Path) -> tuple[pl.DataFrame, str]:
    """The customer master as text columns and its SHA-256."""
    return _read(path, CUSTOMER_REQUIRED)


def validate_customers(raw: pl.DataFrame) -> validation.ValidationOutcome:
    """Typed rows checked against expectations/customers.json."""
    return validation.validate(normalise.normalise_customers(raw), "customers")


def load_customers(
    con: duckdb.DuckDBPyConnection,
    raw: pl.DataFrame,
    outcome: validation.ValidationOutcome,
    *,
    file_name: str,
    sha256: str,
    flow_run_id: str | None = None,
) -> LoadResult:
    """Write one validated customer master file, with its quarantine."""
    return store.load_customer_batch(
        con,
        customers=outcome.good.select(CUSTOMER_COLUMNS),
        bad=outcome.bad,
        raw=raw,
        file_name=file_name,
        sha256=sha256,
        failures_by_reason=outcome.failures_by_reason,
        flow_run_id=flow_run_id,
    )


def ingest_customer_file(
    con: duckdb.DuckDBPyConnection, path: Path, *, flow_run_id: str | None = None
) -> LoadResult:
    """Read, validate and load one customer master export, as the ingest-customers flow does."""
    path = Path(path)
    raw, sha256 = read_customer_file(path)
    outcome = validate_customers(raw)
    return load_customers(
        con, raw, outcome, file_name=path.name, sha256=sha256, flow_run_id=flow_run_id
    )
