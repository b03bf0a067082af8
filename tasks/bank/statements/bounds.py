"""The bounds of models/bounds.py applied to every parsed statement, whatever its format, and to
the documents its lines list in their structured remittance.

`detect.parse_file` calls `check_statements` on what any parser gives, so no format can let an
amount beyond the bound, an unknown currency, an absurd date or a control character through to
the warehouse: one such value used to break reconciliation for good. The file is refused whole
(a statement has no quarantine: half a statement would not balance), naming the statement, the
line within it, the field and the value. Table-shaped statements (the columnar readers of big
files) are checked with Polars, a column at a time.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from o2c.models.bank import Statement
from o2c.models.bounds import (
    CONTROL_CHARACTERS,
    DATE_CEILING,
    DATE_FLOOR,
    MAX_AMOUNT_CENTS,
    STATEMENT_CURRENCIES,
    amount_problem,
    date_window,
)
from o2c.models.schemas import STATEMENT_LINE
from o2c.tasks.bank.statements.errors import StatementError

_TEXT = [n for n, dtype in STATEMENT_LINE.items() if dtype == pl.String and n != "currency"]
_CURRENCIES = sorted(STATEMENT_CURRENCIES)


def check_statements(path: Path | str, statements: list[Statement]) -> None:
    """Refuse the file (StatementError) at the first value outside the bounds, else nothing."""
    for number, st in enumerate(statements, start=1):
        label = f"statement {st.statement_ref or number}"
        _check_header(path, label, st)
        if st.table is None:
            for k, line in enumerate(st.lines, start=1):
                problem = amount_problem(line.amount)
                if problem:
                    raise StatementError(
                        path, f"{_line_place(label, k, line.entry_ref)}, amount", problem
                    )
        _check_table(path, label, st)


def _check_header(path: Path | str, label: str, st: Statement) -> None:
    if st.currency is not None and st.currency not in STATEMENT_CURRENCIES:
        raise StatementError(path, f"{label}, currency", _bad_currency(st.currency))
    for name, day in (("from date", st.from_date), ("to date", st.to_date)):
        if day is not None and not DATE_FLOOR <= day <= DATE_CEILING:
            raise StatementError(
                path, f"{label}, {name}", f"{day} is outside {DATE_FLOOR}..{DATE_CEILING}"
            )
    balances = (("opening balance", st.opening_balance), ("closing balance", st.closing_balance))
    for name, balance in balances:
        problem = None if balance is None else amount_problem(balance)
        if problem:  # beyond the bound or below the cent: balances are amounts too
            raise StatementError(path, f"{label}, {name}", problem)


def _bad_currency(code: str) -> str:
    return f"currency {code!r} is not an ISO 4217 code (see models/bounds.py)"


def _line_place(label: str, k: int, entry_ref: str | None) -> str:
    return f"{label}, line {k}" + (f" (entry {entry_ref})" if entry_ref else "")


def _check_table(path: Path | str, label: str, st: Statement) -> None:
    table = st.line_table()
    if not table.height:
        return
    low, high = date_window(st.from_date, st.to_date)
    period = f"{st.from_date}..{st.to_date}" if st.from_date or st.to_date else "no period"
    window = f"outside {low}..{high} (ten years around the statement's period, {period})"

    def outside(column: str) -> pl.Expr:
        return pl.col(column).is_not_null() & ~pl.col(column).is_between(pl.lit(low), pl.lit(high))

    checks: list[tuple[str, pl.Expr]] = [
        ("amount", pl.col("amount_cents").abs() > MAX_AMOUNT_CENTS),
        ("currency", ~pl.col("currency").is_in(_CURRENCIES).fill_null(True)),
        ("booking date", pl.col("booking_date").is_null() | outside("booking_date")),
        ("value date", outside("value_date")),
        *(
            (name.replace("_", " "), pl.col(name).str.contains(CONTROL_CHARACTERS).fill_null(False))
            for name in _TEXT
        ),
    ]
    if table["remittance_documents"].null_count() < table.height:
        checks += _document_checks(low, high)
    flags = table.select(
        *(expr.alias(str(i)) for i, (_, expr) in enumerate(checks)),
    ).with_row_index("_k", offset=1)
    failing = flags.filter(pl.any_horizontal(pl.exclude("_k")))
    if not failing.height:
        return
    first = failing.row(0, named=True)
    k = int(first["_k"])
    i = next(i for i in range(len(checks)) if first[str(i)])
    field = checks[i][0]
    row = table.row(k - 1, named=True)
    place = f"{_line_place(label, k, row['entry_ref'])}, {field}"
    more = f" ({failing.height - 1} more line(s) out of bounds)" if failing.height > 1 else ""
    raise StatementError(path, place, _reason(field, row, window, (low, high)) + more)


_DOCUMENT = "remittance document "


def _document_checks(low: date, high: date) -> list[tuple[str, pl.Expr]]:
    """The documents a line lists: their amounts, dates and texts are held to the same bounds."""

    def any_document(test: pl.Expr) -> pl.Expr:
        return pl.col("remittance_documents").list.eval(test).list.any().fill_null(False)

    day = pl.element().struct.field("doc_date")
    return [
        (
            f"{_DOCUMENT}amount",
            any_document(pl.element().struct.field("amount_cents").abs() > MAX_AMOUNT_CENTS),
        ),
        (
            f"{_DOCUMENT}date",
            any_document(day.is_not_null() & ~day.is_between(pl.lit(low), pl.lit(high))),
        ),
        *(
            (
                f"{_DOCUMENT}{name}",
                any_document(
                    pl.element().struct.field(f"doc_{name}").str.contains(CONTROL_CHARACTERS)
                ),
            )
            for name in ("number", "type")
        ),
    ]


def _reason(field: str, row: dict, window: str, bounds: tuple[date, date]) -> str:
    if field.startswith(_DOCUMENT):
        part = field.removeprefix(_DOCUMENT)
        key = "amount_cents" if part == "amount" else f"doc_{part}"
        values = [d[key] for d in row["remittance_documents"] if d[key] is not None]
        if part == "amount":
            amounts = [Decimal(v).scaleb(-2) for v in values]
            return next(p for p in map(amount_problem, amounts) if p)
        if part == "date":
            low, high = bounds
            return f"{next(v for v in values if not low <= v <= high)} is {window}"
        bad = next(v for v in values if re.search(CONTROL_CHARACTERS, v))
        return f"control character in {bad!r} (NUL or another C0 but tab and line breaks)"
    if field == "amount":
        amount = Decimal(row["amount_cents"]).scaleb(-2)
        return amount_problem(amount) or f"amount {amount}"
    if field == "currency":
        return _bad_currency(row["currency"])
    if field in ("booking date", "value date"):
        day: date | None = row[field.replace(" ", "_")]
        return "missing" if day is None else f"{day} is {window}"
    value = row[field.replace(" ", "_")]
    return f"control character in {value!r} (NUL or another C0 but tab and line breaks)"
