"""Warehouse side of aging: what it reads (open items, invoices, payments) and the daily snapshots.

Open amounts are derived as of a date from invoices and the allocations booked by then, so an
older as-of date (a backfill, a re-run) sees the ledger as it stood that day. An allocation is
dated by the booking date of its bank transaction, or by its creation day when it has none
(a credit note set against an invoice, a write-off): the allocations_at macro (sql/011), which
open_items_at, the overpayment credits and the payments below all read. DECIMAL(18,2) becomes
Int64 cents here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import polars as pl

from o2c.models.schemas import OPEN_ITEM
from o2c.tasks.aging.analysis import DSO_ROW
from o2c.warehouse import transaction

_ALLOCATIONS_AS_OF = """
    SELECT allocation_id, invoice_id, amount_to_cents(amount) AS amount_cents, pay_date
    FROM allocations_at(CAST($as_of AS DATE))
    WHERE invoice_id IS NOT NULL
"""

AGING_SNAPSHOT_ROW = {
    "as_of_date": pl.Date,
    "customer_id": pl.String,
    "currency": pl.String,
    "legal_entity": pl.String,
    "bucket": pl.String,
    "amount_open_cents": pl.Int64,
    "items": pl.Int64,
}


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict, schema: dict) -> pl.DataFrame:
    return con.sql(sql, params=params).pl().select(list(schema)).cast(schema)


def read_open_items(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pl.DataFrame:
    """Items issued by `as_of` with something still open after the allocations booked by then
    (the warehouse's one definition: the open_items_at macro, sql/008)."""
    return _items_as_of(con, "open_items_at", as_of)


def read_unapplied_credits(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pl.DataFrame:
    """Overpayment credits as they stood on `as_of`, one per transfer, shaped as open items
    (negative open amount, document_type 'overpayment', invoice_id the bank transaction's id):
    the unapplied_credits_at macro (sql/011). Credit notes are in read_open_items already."""
    return _items_as_of(con, "unapplied_credits_at", as_of)


def _items_as_of(con: duckdb.DuckDBPyConnection, macro: str, as_of: date) -> pl.DataFrame:
    """OPEN_ITEM rows of a table macro taking the date (open_items_at, unapplied_credits_at)."""
    sql = f"""
        SELECT invoice_id, document_type, customer_id, legal_entity, issue_date, due_date,
               currency, amount_to_cents(amount_total) AS amount_total_cents,
               amount_to_cents(amount_open) AS amount_open_cents, reference
        FROM {macro}(CAST($as_of AS DATE))
        ORDER BY invoice_id
    """
    return _frame(con, sql, {"as_of": as_of}, OPEN_ITEM)


def read_invoices(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pl.DataFrame:
    """Invoices and credit notes issued by `as_of`: the history DSO and payment behaviour need."""
    schema = {k: t for k, t in OPEN_ITEM.items() if k not in ("amount_open_cents", "reference")}
    sql = """
        SELECT invoice_id, document_type, customer_id, legal_entity, issue_date, due_date,
               currency, amount_to_cents(amount_total) AS amount_total_cents
        FROM invoices WHERE issue_date <= $as_of ORDER BY invoice_id
    """
    return _frame(con, sql, {"as_of": as_of}, schema)


def read_payments(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pl.DataFrame:
    """Allocations to invoices dated by `as_of`, with their pay date (see the module docstring)."""
    schema = {
        "invoice_id": pl.String,
        "allocation_id": pl.String,
        "amount_cents": pl.Int64,
        "pay_date": pl.Date,
    }
    sql = f"SELECT * FROM ({_ALLOCATIONS_AS_OF}) ORDER BY invoice_id, pay_date, allocation_id"
    return _frame(con, sql, {"as_of": as_of}, schema)


def read_customer_names(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _frame(
        con,
        "SELECT customer_id, name FROM customers ORDER BY customer_id",
        {},
        {"customer_id": pl.String, "name": pl.String},
    )


@dataclass(frozen=True)
class SnapshotWrite:
    as_of: date
    aging_rows: int
    dso_rows: int
    replaced_aging_rows: int  # rows of an earlier run for the same date, now replaced
    replaced_dso_rows: int


def _check_rows(rows: pl.DataFrame, schema: dict, what: str, as_of: date) -> pl.DataFrame:
    missing = [c for c in schema if c not in rows.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}")
    other = rows.filter(pl.col("as_of_date") != as_of)["as_of_date"].unique().to_list()
    if other:
        raise ValueError(f"{what}: rows dated {other[0]} in the snapshot of {as_of}")
    return rows.select(list(schema)).cast(schema)


def write_snapshot(
    con: duckdb.DuckDBPyConnection,
    aging_rows: pl.DataFrame,
    dso_rows: pl.DataFrame,
    *,
    as_of: date,
    flow_run_id: str | None = None,
) -> SnapshotWrite:
    """Store the day's snapshot, replacing that day's rows: re-running a date never doubles it."""
    aging = _check_rows(aging_rows, AGING_SNAPSHOT_ROW, "aging snapshot", as_of)
    dso = _check_rows(dso_rows, DSO_ROW, "DSO snapshot", as_of)
    now = datetime.now()
    try:
        with transaction(con):
            replaced_aging = con.execute(
                "DELETE FROM aging_snapshots WHERE as_of_date = ?", [as_of]
            ).fetchall()[0][0]
            replaced_dso = con.execute(
                "DELETE FROM dso_snapshots WHERE as_of_date = ?", [as_of]
            ).fetchall()[0][0]
            con.register("_aging_rows", aging)
            con.register("_dso_rows", dso)
            con.execute(
                """
                INSERT INTO aging_snapshots
                SELECT as_of_date, customer_id, currency, legal_entity, bucket,
                       CAST(CAST(amount_open_cents AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 2)),
                       items, $run, $now
                FROM _aging_rows
                """,
                {"run": flow_run_id, "now": now},
            ).fetchall()
            con.execute(
                """
                INSERT INTO dso_snapshots
                SELECT as_of_date, currency, legal_entity,
                       CAST(CAST(receivables_cents AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 2)),
                       CAST(CAST(revenue_cents AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 2)),
                       period_days, dso_standard, dso_countback, $run, $now
                FROM _dso_rows
                """,
                {"run": flow_run_id, "now": now},
            ).fetchall()
    finally:
        con.unregister("_aging_rows")
        con.unregister("_dso_rows")
    return SnapshotWrite(as_of, aging.height, dso.height, int(replaced_aging), int(replaced_dso))


def _snapshot_history(
    con: duckdb.DuckDBPyConnection,
    snapshots: str,
    select: str,
    schema: dict,
    *,
    last: int,
    until: date | None,
) -> pl.DataFrame:
    """`select` over `dates`, the last `last` dates of `snapshots` up to `until` (None: any)."""
    sql = f"""
        WITH dates AS (
            SELECT DISTINCT as_of_date FROM {snapshots}
            WHERE as_of_date <= COALESCE(CAST($until AS DATE), DATE '9999-12-31')
            ORDER BY as_of_date DESC LIMIT $last
        )
        {select}"""
    return _frame(con, sql, {"until": until, "last": last}, schema)


def read_aging_history(
    con: duckdb.DuckDBPyConnection, *, last: int = 12, until: date | None = None
) -> pl.DataFrame:
    """Open cents and items per snapshot date, currency and bucket, for the last `last` dates."""
    schema = {
        "as_of_date": pl.Date,
        "currency": pl.String,
        "bucket": pl.String,
        "amount_open_cents": pl.Int64,
        "items": pl.Int64,
    }
    select = """
        SELECT as_of_date, currency, bucket,
               CAST(SUM(amount_open) * 100 AS BIGINT) AS amount_open_cents,
               CAST(SUM(items) AS BIGINT) AS items
        FROM aging_snapshots JOIN dates USING (as_of_date)
        GROUP BY ALL ORDER BY as_of_date, currency, bucket
    """
    return _snapshot_history(con, "aging_snapshots", select, schema, last=last, until=until)


def read_dso_history(
    con: duckdb.DuckDBPyConnection, *, last: int = 12, until: date | None = None
) -> pl.DataFrame:
    """DSO rows of the last `last` snapshot dates, oldest first."""
    select = """
        SELECT as_of_date, currency, legal_entity,
               amount_to_cents(receivables) AS receivables_cents,
               amount_to_cents(revenue) AS revenue_cents,
               CAST(period_days AS BIGINT) AS period_days, dso_standard, dso_countback
        FROM dso_snapshots JOIN dates USING (as_of_date)
        ORDER BY as_of_date, currency, legal_entity NULLS LAST
    """
    return _snapshot_history(con, "dso_snapshots", select, DSO_ROW, last=last, until=until)
