"""The aging workbook finance opens in Excel: one formatted sheet per view.

Conventions that `write_aging_workbook` reads from a frame, so callers only shape columns:
- a column named `<header>_cents` (integer) is money: written in units with the number format
  `#,##0.00 "EUR"` taken from the row's `currency` column (plain `#,##0.00` without one), and
  headed `<header>`. Excel stores every number as a double; cents stay exact up to 2^53.
- Date and Datetime columns become real Excel dates (dd/mm/yyyy), floats get one decimal.
Every sheet has a frozen header row, an autofilter and column widths fitted to the content.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from o2c.tasks.aging.analysis import (
    DEFAULT_BUCKETS,
    Buckets,
    as_buckets,
    bucket_label,
    item_keys,
)
from o2c.tasks.aging.report import currency_totals

MONEY_SUFFIX = "_cents"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
DAYS_FORMAT = "#,##0.0"
MAX_ROWS = 1_048_575  # Excel's 1 048 576 rows, less the header
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def money_format(currency: str | None) -> str:
    """'EUR' -> '#,##0.00 "EUR"': the currency shown after each amount, as in the reports."""
    if not currency:
        return MONEY_FORMAT
    return f'{MONEY_FORMAT} "{currency.replace(chr(34), "")}"'


def _check_sheet_names(names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if not name or len(name) > 31 or _BAD_SHEET_CHARS.search(name) or name.startswith("'"):
            raise ValueError(
                f"sheet name {name!r}: Excel needs 1 to 31 characters, none of []:*?/\\"
            )
        if name.lower() in seen:
            raise ValueError(f"sheet name {name!r}: used twice (Excel ignores case)")
        seen.add(name.lower())


def _is_money(name: str, dtype: pl.DataType) -> bool:
    return name.endswith(MONEY_SUFFIX) and dtype.is_integer()


def _widths(frame: pl.DataFrame) -> list[int]:
    """Characters per column: the longest header or value as it will show, within 8..60."""
    widths = []
    for name, dtype in frame.schema.items():
        header = name.removesuffix(MONEY_SUFFIX) if _is_money(name, dtype) else name
        if frame.is_empty():
            longest = 0
        elif _is_money(name, dtype):
            units = frame[name].abs().max() // 100
            digits = len(str(units))
            longest = digits + digits // 3 + 4 + 4  # separators, ",00", " EUR"
            if frame[name].min() < 0:
                longest += 1
        elif dtype == pl.Date:
            longest = 10
        elif dtype == pl.Datetime:
            longest = 16
        else:
            longest = frame[name].cast(pl.String).str.len_chars().max() or 0
        widths.append(max(8, min(60, max(len(header), longest) + 2)))
    return widths


def write_aging_workbook(path: str | os.PathLike[str], views: dict[str, pl.DataFrame]) -> Path:
    """Write one sheet per view, in the dict's order, and return the file's path."""
    target = Path(path)
    if not views:
        raise ValueError(f"{target}: no view to write")
    _check_sheet_names(list(views))
    for name, frame in views.items():
        if frame.height > MAX_ROWS:
            raise ValueError(f"view {name!r}: {frame.height} rows, more than an Excel sheet holds")
    target.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    try:
        formats: dict[str, object] = {}

        def fmt(num_format: str) -> object:
            if num_format not in formats:
                formats[num_format] = book.add_format({"num_format": num_format})
            return formats[num_format]

        header_fmt = book.add_format(
            {"bold": True, "bg_color": "#DCE6F1", "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        for name, frame in views.items():
            sheet = book.add_worksheet(name)
            schema = frame.schema
            for col, width in enumerate(_widths(frame)):
                sheet.set_column(col, col, width)
            headers = [
                c.removesuffix(MONEY_SUFFIX) if _is_money(c, t) else c for c, t in schema.items()
            ]
            sheet.write_row(0, 0, headers, header_fmt)
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, max(frame.height, 1), max(len(headers) - 1, 0))
            kinds = []
            for c, t in schema.items():
                if _is_money(c, t):
                    kinds.append("money")
                elif t == pl.Date:
                    kinds.append("date")
                elif t == pl.Datetime:
                    kinds.append("datetime")
                elif t.is_float():
                    kinds.append("days")
                else:
                    kinds.append("plain")
            has_currency = "currency" in schema or "Currency" in schema
            currency_col = "currency" if "currency" in schema else "Currency"
            # Writing a binary format cell by cell: the one loop over rows in this module.
            for r, row in enumerate(frame.iter_rows(named=True), start=1):
                cur = row[currency_col] if has_currency else None
                for c, (key, kind) in enumerate(zip(schema, kinds, strict=True)):
                    value = row[key]
                    if kind == "money":
                        f = fmt(money_format(cur))
                        if value is None:
                            sheet.write_blank(r, c, None, f)
                        else:
                            sheet.write_number(r, c, value / 100, f)
                    elif kind in ("date", "datetime"):
                        f = fmt(DATE_FORMAT if kind == "date" else DATETIME_FORMAT)
                        if value is None:
                            sheet.write_blank(r, c, None, f)
                        else:
                            when = value if isinstance(value, datetime) else _midnight(value)
                            sheet.write_datetime(r, c, when, f)
                    elif kind == "days":
                        if value is None:
                            sheet.write_blank(r, c, None)
                        else:
                            sheet.write_number(r, c, value, fmt(DAYS_FORMAT))
                    elif value is None:
                        sheet.write_blank(r, c, None)
                    elif isinstance(value, bool):
                        sheet.write_boolean(r, c, value)
                    elif isinstance(value, int | float):
                        sheet.write_number(r, c, value)
                    else:
                        sheet.write_string(r, c, str(value))
    finally:
        book.close()
    return target


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def aging_workbook_views(
    by_customer: pl.DataFrame,
    aged: pl.DataFrame,
    dso_history: pl.DataFrame,
    *,
    buckets: Buckets | Sequence[int] = DEFAULT_BUCKETS,
    dunning_actions: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The four sheets of `o2c export aging`, with headers finance reads, in the order of the
    artifacts: who, overdue (gross, net of credits), how late, total, grade, then the rest; and
    a fifth, the day's dunning actions, when `dunning_actions` is given.

    `by_customer` from aging_by_customer, `aged` from age_open_items, `dso_history` from
    read_dso_history, `dunning_actions` from tasks/dunning/journal.day_actions.
    """
    b = as_buckets(buckets)
    labels = {k: bucket_label(k) for k in item_keys(b)}
    money_cols = {b.column(k): f"{labels[k]}{MONEY_SUFFIX}" for k in b.keys}
    owed = [
        pl.col("overdue_cents").alias("Overdue_cents"),
        pl.col("overdue_net_cents").alias("Overdue net of credits_cents"),
    ]
    rest = [
        pl.col("credits_cents").alias("Unapplied credits_cents"),
        pl.col("balance_cents").alias("Net balance_cents"),
        pl.col("small_balance_cents").alias("Small balances_cents"),
        pl.col("small_balance_items").alias("Small balance items"),
    ]
    totals = currency_totals(by_customer, buckets=b).select(
        pl.col("currency").alias("Currency"),
        *owed,
        pl.col("total_cents").alias("Total owed_cents"),
        pl.col("customers").alias("Customers"),
        *rest,
        *(pl.col(c).alias(new) for c, new in money_cols.items()),
    )
    names = ["customer_name"] if "customer_name" in by_customer.columns else []
    grade = ["grade"] if "grade" in by_customer.columns else []
    avg = ["avg_days_late"] if "avg_days_late" in by_customer.columns else []
    customers = by_customer.sort(
        ["currency", "overdue_cents", "overdue_net_cents", "customer_id"],
        descending=[False, True, True, False],
    ).select(
        *(pl.col(c).alias("Name") for c in names),
        pl.col("customer_id").alias("Customer"),
        pl.col("legal_entity").alias("Entity"),
        pl.col("currency").alias("Currency"),
        *owed,
        pl.col("oldest_days_past_due").alias("Oldest days late"),
        pl.col("total_cents").alias("Total owed_cents"),
        *(pl.col(c).alias("Grade") for c in grade),
        *(pl.col(c).alias("Avg days late") for c in avg),
        *rest,
        *(pl.col(c).alias(new) for c, new in money_cols.items()),
        pl.col("items").alias("Items"),
    )
    items = aged.sort("currency", "customer_id", "due_date", "invoice_id").select(
        pl.col("invoice_id").alias("Invoice"),
        pl.col("document_type").alias("Type"),
        pl.col("customer_id").alias("Customer"),
        pl.col("legal_entity").alias("Entity"),
        pl.col("issue_date").alias("Issued"),
        pl.col("due_date").alias("Due"),
        pl.col("currency").alias("Currency"),
        pl.col("amount_total_cents").alias("Amount_cents"),
        pl.col("amount_open_cents").alias("Open_cents"),
        pl.col("days_past_due").alias("Days past due"),
        pl.col("bucket").cast(pl.String).replace_strict(labels).alias("Bucket"),
    )
    dso = dso_history.sort("as_of_date", "currency", "legal_entity").select(
        pl.col("as_of_date").alias("Date"),
        pl.col("currency").alias("Currency"),
        pl.col("legal_entity").alias("Entity"),
        pl.col("receivables_cents").alias("Receivables_cents"),
        pl.col("revenue_cents").alias("Revenue_cents"),
        pl.col("period_days").alias("Period days"),
        pl.col("dso_standard").alias("DSO standard"),
        pl.col("dso_countback").alias("DSO countback"),
    )
    sheets = {
        "Summary by bucket": totals,
        "By customer": customers,
        "Open items": items,
        "DSO history": dso,
    }
    if dunning_actions is not None:
        sheets["Dunning actions"] = dunning_actions
    return sheets
