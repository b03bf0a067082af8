"""Loading validated ERP rows into the warehouse: idempotent, recorded, and all-or-nothing.

A file whose SHA-256 was already loaded is a no-op that says so. Otherwise, in one transaction:
new invoices are inserted, known ones whose content changed are updated with the change kept
field by field in invoice_changes, unchanged ones are counted, failed rows go to quarantine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from o2c.models.erp import CUSTOMER_STORED, INVOICE_TRACKED
from o2c.models.status import LoadStatus
from o2c.tasks.erp.tabular_files import LINE
from o2c.tasks.erp.validation import FAILED_CHECKS, WARNINGS
from o2c.warehouse import first_row, new_batch_id, scalar, transaction


@dataclass
class LoadResult:
    source: str
    file_name: str
    sha256: str
    status: LoadStatus  # LOADED, or DUPLICATE_FILE (a no-op: nothing is written)
    batch_id: int | None = None
    rows_in: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    failures_by_reason: dict[str, int] = field(default_factory=dict)
    warned: int = 0  # loaded rows flagged by a warning expectation (table load_warnings)
    warnings_by_reason: dict[str, int] = field(default_factory=dict)
    previous_batch_id: int | None = None
    previous_loaded_at: datetime | None = None
    loaded_at: datetime | None = None

    @property
    def message(self) -> str:
        if self.status == LoadStatus.DUPLICATE_FILE:
            return (
                f"{self.file_name}: already loaded in batch {self.previous_batch_id}"
                f" on {self.previous_loaded_at:%Y-%m-%d %H:%M}; nothing changed"
            )
        text = (
            f"{self.file_name}: {self.rows_in} rows, {self.inserted} new, {self.updated} updated,"
            f" {self.unchanged} unchanged, {self.quarantined} quarantined"
        )
        return f"{text}, {self.warned} loaded with a warning" if self.warned else text


def previous_load(
    con: duckdb.DuckDBPyConnection, sha256: str, source: str
) -> tuple[int, datetime] | None:
    row = first_row(
        con,
        "SELECT batch_id, finished_at FROM load_batches"
        " WHERE sha256 = ? AND source = ? AND status = ? ORDER BY batch_id LIMIT 1",
        [sha256, source, LoadStatus.LOADED],
    )
    return (int(row[0]), row[1]) if row else None


def _quarantine_rows(bad: pl.DataFrame, raw: pl.DataFrame, key: str) -> pl.DataFrame:
    """Each failed row with its reasons and the row exactly as read, as JSON."""
    raw_json = raw.select(
        LINE,
        pl.struct(pl.exclude(LINE)).struct.json_encode().alias("raw_row"),
    )
    return bad.select(LINE, key, FAILED_CHECKS).join(raw_json, on=LINE, how="left")


def _start_batch(
    con, source: str, file_name: str, sha256: str, rows_in: int, run: str | None
) -> int:
    batch_id = new_batch_id(con)
    con.execute(
        "INSERT INTO load_batches (batch_id, source, file_name, sha256, rows_in, status,"
        " flow_run_id, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [batch_id, source, file_name, sha256, rows_in, LoadStatus.RUNNING, run, datetime.now()],
    )
    return batch_id


def _finish_batch(con, result: LoadResult) -> None:
    con.execute(
        "UPDATE load_batches SET rows_loaded = ?, rows_updated = ?, rows_unchanged = ?,"
        " rows_quarantined = ?, status = ?, message = ?, finished_at = ? WHERE batch_id = ?",
        [
            result.inserted,
            result.updated,
            result.unchanged,
            result.quarantined,
            LoadStatus.LOADED,
            result.message,
            datetime.now(),
            result.batch_id,
        ],
    )


def _upsert_customers(
    con, customers: pl.DataFrame, batch_id: int, now: datetime
) -> tuple[int, int]:
    """Insert new customers; update known ones where the new row says something different.

    A field the new row leaves empty keeps its stored value: an invoice export often carries
    fewer customer details than the customer master.
    """
    con.register("new_customers", customers.select(CUSTOMER_STORED))
    fields = [c for c in CUSTOMER_STORED if c != "customer_id"]
    merged = ", ".join(f"COALESCE(n.{f}, c.{f}) AS {f}" for f in fields)
    merged_values = ", ".join(f"COALESCE(n.{f}, c.{f})" for f in fields)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE customer_stage AS
        SELECT n.customer_id, {merged},
               md5(concat_ws('|', {merged_values})) AS row_hash,
               c.row_hash AS old_hash
        FROM new_customers n LEFT JOIN customers c USING (customer_id)"""
    )
    inserted = scalar(con, "SELECT count(*) FROM customer_stage WHERE old_hash IS NULL")
    updated = scalar(
        con,
        "SELECT count(*) FROM customer_stage WHERE old_hash IS NOT NULL AND old_hash <> row_hash",
    )
    cols = ", ".join(CUSTOMER_STORED)
    with transaction(con):  # changed customers updated, new ones inserted (as for invoices)
        con.execute(
            f"""UPDATE customers AS c SET
            {", ".join(f"{f} = s.{f}" for f in fields)},
            row_hash = s.row_hash, batch_id = ?, updated_at = ?
            FROM customer_stage s
            WHERE c.customer_id = s.customer_id
              AND s.old_hash IS NOT NULL AND s.old_hash <> s.row_hash""",
            [batch_id, now],
        )
        con.execute(
            f"""INSERT INTO customers ({cols}, row_hash, batch_id, updated_at)
            SELECT {cols}, row_hash, ?, ? FROM customer_stage WHERE old_hash IS NULL""",
            [batch_id, now],
        )
    con.unregister("new_customers")
    return int(inserted), int(updated)


def already_loaded(
    con: duckdb.DuckDBPyConnection, source: str, file_name: str, sha256: str, rows_in: int
) -> LoadResult | None:
    before = previous_load(con, sha256, source)
    if not before:
        return None
    return LoadResult(
        source,
        file_name,
        sha256,
        LoadStatus.DUPLICATE_FILE,
        rows_in=rows_in,
        previous_batch_id=before[0],
        previous_loaded_at=before[1],
    )


@dataclass(frozen=True)
class ValidatedFile:
    """One validated export as a load records it: the file, its rows as read, the rejects."""

    file_name: str
    sha256: str
    raw: pl.DataFrame
    bad: pl.DataFrame
    failures_by_reason: dict[str, int]
    flow_run_id: str | None = None
    warned: pl.DataFrame | None = None  # good rows with a WARNINGS column
    warnings_by_reason: dict[str, int] = field(default_factory=dict)


@contextmanager
def _recorded_batch(
    con: duckdb.DuckDBPyConnection, source: str, file: ValidatedFile
) -> Iterator[LoadResult]:
    """One transaction around a load: its batch row, the caller's writes, the quarantine.

    The caller fills in the counts of the yielded result; any error rolls everything back.
    """
    now = datetime.now()
    with transaction(con):
        batch_id = _start_batch(
            con, source, file.file_name, file.sha256, file.raw.height, file.flow_run_id
        )
        result = LoadResult(
            source,
            file.file_name,
            file.sha256,
            LoadStatus.LOADED,
            batch_id=batch_id,
            rows_in=file.raw.height,
            quarantined=file.bad.height,
            failures_by_reason=file.failures_by_reason,
            warned=0 if file.warned is None else file.warned.height,
            warnings_by_reason=file.warnings_by_reason,
            loaded_at=now,
        )
        yield result
        key = "invoice_id" if source == "invoices" else "customer_id"
        _write_quarantine(
            con, f"quarantine_{source}", key, file.bad, file.raw, batch_id, file.file_name, now
        )
        _write_warnings(con, source, key, file, batch_id, now)
        _finish_batch(con, result)


def load_invoice_batch(
    con: duckdb.DuckDBPyConnection,
    *,
    file: ValidatedFile,
    invoices: pl.DataFrame,
    customers: pl.DataFrame,
) -> LoadResult:
    """Load one validated invoice file; `invoices` is shaped by tasks.invoices.stored_invoices."""
    duplicate = already_loaded(con, "invoices", file.file_name, file.sha256, file.raw.height)
    if duplicate:
        return duplicate
    with _recorded_batch(con, "invoices", file) as result:
        batch_id, now = result.batch_id, result.loaded_at
        _upsert_customers(con, customers, batch_id, now)
        con.register("new_invoices", invoices)
        hashed = ", ".join(f"CAST(s.{f} AS VARCHAR)" for f in INVOICE_TRACKED)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE invoice_stage AS
            SELECT s.*, md5(concat_ws('|', {hashed})) AS row_hash, i.row_hash AS old_hash
            FROM (SELECT invoice_id, document_type, customer_id, legal_entity, issue_date, due_date,
                         currency, cents_to_amount(amount_total_cents) AS amount_total,
                         cents_to_amount(amount_paid_cents) AS amount_paid_erp, status_erp,
                         reference, po_number
                  FROM new_invoices) s
            LEFT JOIN invoices i USING (invoice_id)"""
        )
        con.unregister("new_invoices")
        counts = first_row(
            con,
            "SELECT count(*) FILTER (old_hash IS NULL), count(*) FILTER (old_hash <> row_hash),"
            " count(*) FILTER (old_hash = row_hash) FROM invoice_stage",
        )
        result.inserted, result.updated, result.unchanged = (int(c) for c in counts)
        if result.updated:
            changes = " UNION ALL ".join(
                f"SELECT s.invoice_id, '{f}' AS field, CAST(i.{f} AS VARCHAR) AS old_value,"
                f" CAST(s.{f} AS VARCHAR) AS new_value FROM invoice_stage s JOIN invoices i"
                f" USING (invoice_id) WHERE s.old_hash <> s.row_hash"
                f" AND i.{f} IS DISTINCT FROM s.{f}"
                for f in INVOICE_TRACKED
            )
            con.execute(
                f"INSERT INTO invoice_changes SELECT invoice_id, ?, field, old_value, new_value, ?"
                f" FROM ({changes})",
                [batch_id, now],
            )
        fields = ["invoice_id", *INVOICE_TRACKED, "row_hash"]
        # New rows by a plain INSERT, changed ones by an UPDATE: cheaper than one upsert.
        con.execute(
            f"""INSERT INTO invoices ({", ".join(fields)}, batch_id, first_loaded_at, updated_at)
            SELECT {", ".join(fields)}, ?, ?, ? FROM invoice_stage WHERE old_hash IS NULL""",
            [batch_id, now, now],
        )
        if result.updated:
            con.execute(
                f"""UPDATE invoices SET
                {", ".join(f"{f} = s.{f}" for f in [*INVOICE_TRACKED, "row_hash"])},
                batch_id = ?, updated_at = ?
                FROM invoice_stage s
                WHERE invoices.invoice_id = s.invoice_id AND s.old_hash <> s.row_hash""",
                [batch_id, now],
            )
    return result


def _write_quarantine(con, table: str, key: str, bad, raw, batch_id, file_name, now) -> None:
    if bad.height == 0:
        return
    con.register("bad_rows", _quarantine_rows(bad, raw, key))
    con.execute(
        f"INSERT INTO {table} (batch_id, file_name, line_number, {key}, failed_checks, raw_row,"
        f" quarantined_at) SELECT ?, ?, {LINE}, {key}, {FAILED_CHECKS}, raw_row, ? FROM bad_rows",
        [batch_id, file_name, now],
    )
    con.unregister("bad_rows")


def _write_warnings(
    con, source: str, key: str, file: ValidatedFile, batch_id: int, now: datetime
) -> None:
    if file.warned is None or file.warned.height == 0:
        return
    con.register("warned_rows", file.warned.select(LINE, key, WARNINGS))
    con.execute(
        f"INSERT INTO load_warnings (batch_id, source, file_name, line_number, record_id,"
        f" warnings, warned_at) SELECT ?, ?, ?, {LINE}, {key}, {WARNINGS}, ? FROM warned_rows",
        [batch_id, source, file.file_name, now],
    )
    con.unregister("warned_rows")


def load_customer_batch(
    con: duckdb.DuckDBPyConnection, *, file: ValidatedFile, customers: pl.DataFrame
) -> LoadResult:
    """Load one validated customer master file, with the same guarantees as invoices."""
    duplicate = already_loaded(con, "customers", file.file_name, file.sha256, file.raw.height)
    if duplicate:
        return duplicate
    with _recorded_batch(con, "customers", file) as result:
        inserted, updated = _upsert_customers(con, customers, result.batch_id, result.loaded_at)
        result.inserted, result.updated = inserted, updated
        result.unchanged = customers.height - inserted - updated
    return result


def quarantine_summary(result: LoadResult) -> list[dict[str, object]]:
    """Rows for a table artifact: each reason and how many rows it sent to quarantine."""
    return [{"reason": r, "rows": n} for r, n in result.failures_by_reason.items()]


def warnings_summary(result: LoadResult) -> list[dict[str, object]]:
    """Rows for a table artifact: each warning and how many loaded rows it flagged."""
    return [{"warning": r, "rows": n} for r, n in result.warnings_by_reason.items()]


def to_json(result: LoadResult) -> str:
    return json.dumps({k: v for k, v in result.__dict__.items()}, default=str)
