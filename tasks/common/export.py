"""Exports for people and other tools: any warehouse table or view to CSV, Parquet or Excel.

Two rules for what a person opens:
- CSV: a text cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first)
  gets a leading `'` (OWASP), numbers and dates stay as they are (`escaping.csv_safe`).
- Excel: written as a stream (xlsxwriter `constant_memory`, rows in batches from DuckDB), so a
  million rows take a bounded amount of memory; text is always written as text (never a formula
  or a link), dates stay dates, decimals stay numbers with a number format, the header is frozen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter

from o2c.tasks.common.escaping import csv_safe

FORMATS = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}
BATCH_ROWS = 50_000  # rows per batch read from DuckDB and written out
XLSX_MAX_ROWS = 1_048_575  # an Excel sheet's 1 048 576 rows, less the header
DATE_FORMAT = "dd/mm/yyyy"  # as the aging workbook: French readers
DATETIME_FORMAT = "dd/mm/yyyy hh:mm:ss"
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 0; days from 1970-01-01 + 25569 = Excel serial
_FIRST_SERIAL_DAY = date(1900, 3, 1)  # before it Excel's calendar is off by one (Lotus 1-2-3)

# Called after each batch with the rows written so far and the total (None when not known).
Progress = Callable[[int, int | None], None]

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


def relation_sql(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """The query that exports `name`; only a known table or view, so the name is never SQL."""
    known = relations(con)
    if name not in known:
        raise ExportError(f"no table or view '{name}'; known: {', '.join(known)}")
    return QUERIES.get(name, f'SELECT * FROM "{name}"')


def read_relation(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    return con.sql(relation_sql(con, name)).pl()


def write_frame(
    frame: pl.DataFrame, out: Path, *, sheet: str, progress: Progress | None = None
) -> Path:
    """Write with types kept: decimals stay exact in Parquet, dates stay dates in Excel."""
    fmt = export_format(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        csv_safe(frame).write_csv(out)
    elif fmt == "parquet":
        frame.write_parquet(out)
    else:
        slices = (frame.slice(i, BATCH_ROWS) for i in range(0, max(frame.height, 1), BATCH_ROWS))
        write_xlsx(slices, out, sheet=sheet, total=frame.height, progress=progress)
    if progress is not None and fmt != "xlsx":
        progress(frame.height, frame.height)
    return out


def export_relation(
    con: duckdb.DuckDBPyConnection,
    name: str,
    out: Path,
    *,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
) -> int:
    """A table or view to `out`, CSV and Excel streamed in batches; returns the rows written.

    Parquet goes through one frame (`write_frame`), as it did: its writer keeps decimals exact.
    """
    fmt = export_format(out)
    sql = relation_sql(con, name)
    if fmt == "parquet":
        frame = read_relation(con, name)
        write_frame(frame, out, sheet=name, progress=progress)
        return frame.height
    total = con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
    out.parent.mkdir(parents=True, exist_ok=True)
    batches = _batches(con, sql, batch_rows)
    if fmt == "xlsx":
        return write_xlsx(batches, out, sheet=name, total=total, progress=progress)
    written = 0
    with out.open("wb") as f:
        for i, batch in enumerate(batches):
            csv_safe(batch).write_csv(f, include_header=i == 0)
            written += batch.height
            if progress is not None:
                progress(written, total)
    return written


def _batches(con: duckdb.DuckDBPyConnection, sql: str, rows: int) -> Iterator[pl.DataFrame]:
    """The query's rows as frames of at most `rows`, one at a time; at least one (the header)."""
    reader = con.sql(sql).to_arrow_reader(batch_size=rows)
    empty = True
    for batch in reader:
        if batch.num_rows or empty:
            yield pl.from_arrow(batch)  # type: ignore[misc]
            empty = False
    if empty:
        yield pl.from_arrow(reader.schema.empty_table())  # type: ignore[misc]


def write_xlsx(
    batches: Iterable[pl.DataFrame],
    out: Path,
    *,
    sheet: str,
    total: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Frames of one schema, one after the other, to one sheet: memory stays that of one batch.

    Returns the rows written. More rows than a sheet holds is an error before anything is written
    when `total` says so, else when the sheet is full.
    """
    if total is not None and total > XLSX_MAX_ROWS:
        raise ExportError(f"{total} rows: an Excel sheet holds {XLSX_MAX_ROWS}; export to .csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(
        str(out),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,
        },
    )
    written = 0
    try:
        ws = book.add_worksheet(sheet[:31])
        formats: dict[str, object] = {}

        def fmt(num_format: str | None) -> object:
            if num_format is None:
                return None
            if num_format not in formats:
                formats[num_format] = book.add_format({"num_format": num_format})
            return formats[num_format]

        columns: list[tuple[str, object]] = []
        for batch in batches:
            if not columns:
                columns = [(kind, fmt(f)) for kind, f in _kinds(batch.schema)]
                header = book.add_format({"bold": True, "bottom": 1})
                ws.write_row(0, 0, batch.columns, header)
                ws.freeze_panes(1, 0)
                for c, width in enumerate(_widths(batch)):
                    ws.set_column(c, c, width)
            if written + batch.height > XLSX_MAX_ROWS:
                raise ExportError(f"more than {XLSX_MAX_ROWS} rows: an Excel sheet is full")
            _write_rows(ws, _cells(batch), columns, first_row=written + 1)
            written += batch.height
            if progress is not None:
                progress(written, total)
        if columns:
            ws.autofilter(0, 0, max(written, 1), len(columns) - 1)
    finally:
        book.close()
    return written


def _kinds(schema: pl.Schema) -> list[tuple[str, str | None]]:
    """How each column is written: (writer, number format)."""
    kinds: list[tuple[str, str | None]] = []
    for dtype in schema.values():
        if isinstance(dtype, pl.Decimal):
            scale = dtype.scale or 0
            kinds.append(("number", "#,##0" + ("." + "0" * scale if scale else "")))
        elif dtype == pl.Boolean:
            kinds.append(("boolean", None))
        elif dtype.is_numeric():
            kinds.append(("number", None))
        elif dtype == pl.Date:
            kinds.append(("date", DATE_FORMAT))
        elif isinstance(dtype, pl.Datetime):
            kinds.append(("date", DATETIME_FORMAT))
        else:
            kinds.append(("string", None))
    return kinds


def _cells(batch: pl.DataFrame) -> list[list[object]]:
    """Each column as Python values ready for its writer, converted a column at a time.

    Decimals become floats (Excel holds doubles; the number format shows the cents), dates and
    datetimes become Excel serial numbers (days since 1899-12-30, in the column's own time zone),
    and a date before 1 March 1900, which Excel's calendar gets wrong, becomes ISO text.
    """
    out = []
    for name, dtype in batch.schema.items():
        col = batch[name]
        if isinstance(dtype, pl.Decimal):
            col = col.cast(pl.Float64)
        elif dtype == pl.Date:
            days = col.cast(pl.Int32) + (date(1970, 1, 1) - _EXCEL_EPOCH).days
            early = col < _FIRST_SERIAL_DAY
            out.append(
                [
                    iso if old else n
                    for n, old, iso in zip(days, early, col.dt.to_string("%F"), strict=True)
                ]
                if early.any()
                else days.to_list()
            )
            continue
        elif isinstance(dtype, pl.Datetime):
            if dtype.time_zone is not None:
                col = col.dt.replace_time_zone(None)  # the wall time where it was recorded
            micros = col.dt.cast_time_unit("us").cast(pl.Int64)
            epoch = (_EXCEL_EPOCH - date(1970, 1, 1)).days * 86_400_000_000
            col = (micros - epoch) / 86_400_000_000
        elif not (dtype.is_numeric() or dtype == pl.Boolean or dtype == pl.String):
            col = col.cast(pl.String) if dtype != pl.Object else col.map_elements(str)
        out.append(col.to_list())
    return out


def _write_rows(
    ws: xlsxwriter.worksheet.Worksheet,
    cells: list[list[object]],
    columns: list[tuple[str, object]],
    *,
    first_row: int,
) -> None:
    """Row by row (constant_memory writes each row once, in order), the typed writer per cell.

    The typed writers are called without their "A1"-notation wrapper (`_write_number` for
    `write_number`, xlsxwriter 3.3, pinned): a tenth of the time of a million-row sheet.
    """
    number = getattr(ws, "_write_number", ws.write_number)
    text = getattr(ws, "_write_string", ws.write_string)
    boolean = getattr(ws, "_write_boolean", ws.write_boolean)

    def write_date(row: int, col: int, value: float | str, f: object) -> None:
        """A serial number with a date format is what Excel calls a date; an early one is text."""
        if isinstance(value, str):
            text(row, col, value)
        else:
            number(row, col, value, f)

    writers = {"number": number, "date": write_date, "boolean": boolean, "string": text}
    plan = [(c, cells[c], writers[kind], f) for c, (kind, f) in enumerate(columns)]
    for i in range(len(cells[0]) if cells else 0):
        row = first_row + i
        for c, values, write, f in plan:
            value = values[i]
            if value is not None:
                write(row, c, value, f)


def _widths(batch: pl.DataFrame) -> list[int]:
    """Characters per column from the header and the first batch, within 8..60."""
    widths = []
    for name, dtype in batch.schema.items():
        if dtype == pl.Date:
            longest = 10
        elif isinstance(dtype, pl.Datetime):
            longest = 19
        elif dtype.is_numeric():
            longest = 14
        elif batch.is_empty():
            longest = 0
        else:
            longest = batch[name].cast(pl.String).str.len_chars().max() or 0  # type: ignore[assignment]
        widths.append(max(8, min(60, max(len(name), int(longest)) + 2)))  # type: ignore[arg-type]
    return widths
