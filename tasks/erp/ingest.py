"""ERP ingestion without Prefect: read, validate, load; and when a load must fail its run.

The ingest flows wrap these steps as tasks (holding the warehouse writer lock around the
writes only); tests and benchmarks call `ingest_invoice_file` / `ingest_customer_file` on an
open connection, so nobody copies the flow's glue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from o2c.models.erp import CUSTOMER_REQUIRED, CUSTOMER_STORED, INVOICE_REQUIRED
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


@dataclass(frozen=True)
class ErpExport:
    """One kind of ERP export and the steps that take it into the warehouse."""

    source: str  # its table, its expectations/<source>.json, its load_batches.source
    noun: str  # what one row is, in its flow's task names and artifact keys
    required: tuple[str, ...]
    normalise: Callable[[pl.DataFrame], pl.DataFrame]
    # Writes the good rows with the file's record and quarantine, in one transaction.
    write: Callable[[duckdb.DuckDBPyConnection, store.ValidatedFile, pl.DataFrame], LoadResult]
    # A file loaded already is not validated again (a million rows cost seconds).
    skips_reload: bool

    def read(self, path: Path) -> tuple[pl.DataFrame, str]:
        """The export as text columns and its SHA-256; refused when a required column is missing."""
        validation.warm_up()  # GX imports while Polars reads
        raw = tabular_files.read_table(path)
        tabular_files.require_columns(raw, self.required, path)
        return raw, sha256_of(path)

    def validate(self, raw: pl.DataFrame) -> validation.ValidationOutcome:
        """Typed rows checked against expectations/<source>.json: good rows and quarantined ones."""
        return validation.validate(self.normalise(raw), self.source)

    def load(
        self,
        con: duckdb.DuckDBPyConnection,
        raw: pl.DataFrame,
        outcome: validation.ValidationOutcome,
        *,
        file_name: str,
        sha256: str,
        flow_run_id: str | None = None,
    ) -> LoadResult:
        """Write one validated file: its rows, its quarantine, its batch record."""
        file = store.ValidatedFile(
            file_name,
            sha256,
            raw,
            outcome.bad,
            outcome.failures_by_reason,
            flow_run_id,
            warned=outcome.warned,
            warnings_by_reason=outcome.warnings_by_reason,
        )
        return self.write(con, file, outcome.good)

    def ingest(
        self, con: duckdb.DuckDBPyConnection, path: Path, *, flow_run_id: str | None = None
    ) -> LoadResult:
        """Read, validate and load one export, as its ingest flow does."""
        path = Path(path)
        raw, sha256 = self.read(path)
        if self.skips_reload:
            duplicate = store.already_loaded(con, self.source, path.name, sha256, raw.height)
            if duplicate is not None:
                return duplicate
        outcome = self.validate(raw)
        return self.load(
            con, raw, outcome, file_name=path.name, sha256=sha256, flow_run_id=flow_run_id
        )


def _write_invoices(
    con: duckdb.DuckDBPyConnection, file: store.ValidatedFile, good: pl.DataFrame
) -> LoadResult:
    """Invoices, and the customers they describe."""
    return store.load_invoice_batch(
        con,
        file=file,
        invoices=normalise.stored_invoices(good),
        customers=normalise.customers_from_invoices(good),
    )


def _write_customers(
    con: duckdb.DuckDBPyConnection, file: store.ValidatedFile, good: pl.DataFrame
) -> LoadResult:
    return store.load_customer_batch(con, file=file, customers=good.select(CUSTOMER_STORED))


INVOICES = ErpExport(
    "invoices",
    "invoice",
    INVOICE_REQUIRED,
    normalise.normalise_invoices,
    _write_invoices,
    skips_reload=True,
)
CUSTOMERS = ErpExport(
    "customers",
    "customer",
    CUSTOMER_REQUIRED,
    normalise.normalise_customers,
    _write_customers,
    skips_reload=False,
)

# Read, validate and load one file on an open connection (tests, benchmarks, scripts).
ingest_invoice_file = INVOICES.ingest
ingest_customer_file = CUSTOMERS.ingest
