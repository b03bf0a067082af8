"""Exports for people and other tools: any warehouse table or view to CSV, Parquet or Excel."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

FORMATS = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}

# Tables whose export is more useful with a little context joined in.
QUERIES = {
    "allocations": """
        SELECT a.allocation_id, a.transaction_id, t.bank_reference, t.booking_date,
               t.counterparty_name, a.invoice_id, a.customer_id, a.amount, a.currency, a.kind,
               a.rule, a.confidence, a.reverses_allocation_id, a.flow_run_id, a.created_at
        FROM allocations a LEFT JOIN bank_transactions t USING (transaction_id)
        ORDER BY a.created_at, a.allocation_id
    """,
    "reconciliation_exceptions": """
        SELECT e.transaction_id, t.bank_reference, t.booking_date, t.amount, t.currency,
               t.counterparty_name, t.counterparty_iban, t.remittance_unstructured,
               t.remittance_structured, e.reason, e.candidates, e.status, e.created_at
        FROM reconciliation_exceptions e LEFT JOIN bank_transactions t USING (transaction_id)
        ORDER BY t.booking_date, e.transaction_id
    """,
}


class ExportError(ValueError):
    pass


def export_format(out: Path) -> str:
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ExportError(f"{out}: use a .csv, .parquet or .xlsx file name")
    return fmt


def relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        " ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def read_relation(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    known = relations(con)
    if name not in known:
        raise ExportError(f"no table or view '{name}'; known: {', '.join(known)}")
    sql = QUERIES.get(name, f'SELECT * FROM "{name}"')
    return con.sql(sql).pl()


def write_frame(frame: pl.DataFrame, out: Path, *, sheet: str) -> Path:
    """Write with types kept: decimals stay exact in Parquet, dates stay dates in Excel."""
    fmt = export_format(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.write_csv(out)
    elif fmt == "parquet":
        frame.write_parquet(out)
    else:
        frame.write_excel(out, worksheet=sheet[:31], autofit=True, freeze_panes=(1, 0))
    return out
