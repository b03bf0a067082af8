"""French late-payment penalties and the flat recovery indemnity, per invoice, in cents.

The law (C. com. L441-10): from the day after the due date, penalties run at the ECB main
refinancing rate + 10 points (the rate of 1 January for the first half-year, of 1 July for the
second), never below three times the legal interest rate; plus a flat 40 EUR recovery indemnity
per invoice paid late, owed by business customers only (L441-10 II, D441-5).

How o2c counts, and why:
- on what is left: each payment (allocation) reduces the principal from its date on, so a
  customer who paid half is charged on half (users ask for it: frappe/erpnext#49621);
- simple interest, actual days over 365 (Actual/365 Fixed): the code fixes no convention, and the
  daily rate of a year's rate / 365 is what French late-payment calculators and courts use; a
  leap year's 29 February accrues one more 1/365 like any other day;
- a day carries the rate of the half-year it falls in, so a span across 1 July is split there;
- exact integer arithmetic (cents x basis points x days) summed per invoice, then rounded once,
  half up, to the cent;
- a half-year the rate table does not hold stops with an error naming it: never a guessed rate.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from o2c.models.dunning import CustomerKind

RATES_FILE = Path(__file__).with_name("rates.toml")
INDEMNITY_EUR_CENTS = 4000  # D441-5: 40 EUR per invoice
_DENOMINATOR = 10_000 * 365  # basis points and days/365


class MissingRateError(ValueError):
    """Penalties reach a half-year that rates.toml does not hold."""


def half_year_of(day: date) -> str:
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def _half_start(year: int, half: int) -> date:
    return date(year, 1 if half == 1 else 7, 1)


@dataclass(frozen=True)
class RateTable:
    """Penalty rates in basis points (1215 = 12.15 %) by half-year, e.g. {"2025-H2": 1215}."""

    penalty_bp: dict[str, int]
    source: str = str(RATES_FILE)

    def rate_bp(self, half_year: str) -> int:
        if half_year not in self.penalty_bp:
            raise MissingRateError(self._missing(half_year))
        return self.penalty_bp[half_year]

    def _missing(self, half_year: str) -> str:
        year, half = half_year.split("-H")
        month = "1 January" if half == "1" else "1 July"
        return (
            f"no late-payment rate for {year} H{half} in {self.source}: add the ECB main "
            f"refinancing rate of {month} {year} and the legal interest rate of that half-year, "
            f"with their sources, to a file named by {RATES_ENV} (o2c never guesses a rate)"
        )

    def require(self, first: date, last: date) -> None:
        """Every half-year from `first` to `last` is in the table, else the first missing one."""
        year, half = first.year, 1 if first.month <= 6 else 2
        while _half_start(year, half) <= last:
            self.rate_bp(f"{year}-H{half}")
            year, half = (year, 2) if half == 1 else (year + 1, 1)

    def cumulative(self) -> pl.DataFrame:
        """Per half-year: its first day, its rate, and the sum of daily rates before it (from the
        table's first half-year), so the rate over any span is two look-ups, not a split."""
        rows = sorted(
            ((int(k[:4]), int(k[-1]), bp) for k, bp in self.penalty_bp.items()),
            key=lambda r: (r[0], r[1]),
        )
        starts, rates, before, total = [], [], [], 0
        for year, half, bp in rows:
            start = _half_start(year, half)
            end = _half_start(year, 2) if half == 1 else _half_start(year + 1, 1)
            starts.append(start)
            rates.append(bp)
            before.append(total)
            total += (end - start).days * bp
        return pl.DataFrame(
            {"half": [y * 2 + h - 1 for y, h, _ in rows], "start": starts, "bp": rates},
            schema={"half": pl.Int32, "start": pl.Date, "bp": pl.Int64},
        ).with_columns(before=pl.Series(before, dtype=pl.Int64))


def penalty_bp(mro: Decimal, legal: Decimal | None) -> int:
    """MRO + 10 points, or three times the legal rate when that is higher, in basis points."""
    rate = mro + 10
    if legal is not None:
        rate = max(rate, 3 * legal)
    return int((rate * 100).to_integral_value())


RATES_ENV = "O2C_DUNNING_RATES"


def load_rates(path: Path | None = None) -> RateTable:
    """The rate table: `path` alone when given; otherwise the shipped rates.toml, plus the rows of
    the company's own file named by O2C_DUNNING_RATES (a half-year published after this release,
    with its source). A half-year in both must carry the same rate, or loading stops naming it."""
    if path is not None:
        return _load_rate_file(path)
    shipped = _load_rate_file(RATES_FILE)
    extra_path = os.environ.get(RATES_ENV, "").strip()
    if not extra_path:
        return shipped
    extra = _load_rate_file(Path(extra_path))
    for period, bp in extra.penalty_bp.items():
        if shipped.penalty_bp.get(period, bp) != bp:
            raise ValueError(
                f"{extra.source}: {period} gives {bp / 100:.2f} %, the shipped table"
                f" {shipped.penalty_bp[period] / 100:.2f} % ({RATES_FILE}): remove the row or"
                " correct it"
            )
    return RateTable({**shipped.penalty_bp, **extra.penalty_bp}, f"{RATES_FILE} + {extra.source}")


def _load_rate_file(source: Path) -> RateTable:
    try:
        with source.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{source}: rate table not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML ({exc})") from None
    table: dict[str, int] = {}
    for n, row in enumerate(data.get("half_year", []), start=1):
        where = f"{source}: half_year #{n}"
        period = str(row.get("period", ""))
        if len(period) != 7 or period[4:6] != "-H" or period[6] not in "12":
            raise ValueError(f"{where}: period {period!r} is not like '2025-H2'")
        if period in table:
            raise ValueError(f"{where}: {period} appears twice")
        table[period] = penalty_bp(
            _percent(row.get("mro"), where, "mro", required=True),
            _percent(row.get("legal"), where, "legal", required=False),
        )
    return RateTable(table, str(source))


def _percent(value: object, where: str, key: str, *, required: bool) -> Decimal | None:
    if value in (None, "") and not required:
        return None
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        rate = Decimal(-1)
    if isinstance(value, float) or not Decimal(-1) < rate < Decimal(30) or rate != round(rate, 2):
        raise ValueError(f"{where}: {key} = {value!r} is not a percentage string such as '2.15'")
    return rate


def _rate_integral(day: pl.Expr, table: pl.DataFrame) -> pl.Expr:
    """Sum of the daily rates (bp) from the table's first day up to and including `day`."""
    half = (day.dt.year() * 2 + (day.dt.month() > 6).cast(pl.Int32)).cast(pl.Int32)
    start = half.replace_strict(table["half"], table["start"], default=None)
    bp = half.replace_strict(table["half"], table["bp"], default=None)
    before = half.replace_strict(table["half"], table["before"], default=None)
    return before + ((day - start).dt.total_days() + 1) * bp


def accrued_penalties(
    invoices: pl.DataFrame, payments: pl.DataFrame, *, as_of: date, rates: RateTable
) -> pl.DataFrame:
    """Penalties accrued by `as_of` on each invoice past due: invoice_id, penalty_cents.

    `invoices`: invoice_id, due_date, amount_total_cents (positive invoices; others get 0);
    `payments`: invoice_id, amount_cents, pay_date (allocations, as aging's read_payments gives
    them). A payment reduces the principal from its date on (interest runs to the payment day).
    """
    owed = invoices.select("invoice_id", "due_date", "amount_total_cents").filter(
        (pl.col("due_date") < as_of) & (pl.col("amount_total_cents") > 0)
    )
    if owed.is_empty():
        return pl.DataFrame(schema={"invoice_id": pl.String, "penalty_cents": pl.Int64})
    first_day = owed["due_date"].min() + timedelta(days=1)
    rates.require(first_day, as_of)
    table = rates.cumulative()
    # an integer per invoice: windows and sorts over it are cheaper than over the id strings
    owed = owed.with_row_index("n")
    paid = (
        payments.select("invoice_id", "amount_cents", "pay_date")
        .filter(pl.col("pay_date") <= as_of)
        .join(owed.select("invoice_id", "n", "due_date"), on="invoice_id")
        # what was paid by the due date is never late: it lowers the starting principal
        .select("n", at=pl.max_horizontal("pay_date", "due_date"), change=-pl.col("amount_cents"))
    )
    start = owed.select("n", at="due_date", change="amount_total_cents")
    # Several changes on one day are consecutive rows: only the day's last row spans any days,
    # and its running principal already counts them all.
    spans = (
        pl.concat([start, paid])
        .sort("n", "at")
        .with_columns(
            principal=pl.col("change").cum_sum().over("n").clip(lower_bound=0),
            until=pl.when(pl.col("n").shift(-1) == pl.col("n"))
            .then(pl.col("at").shift(-1))
            .otherwise(pl.lit(as_of)),
        )
        .filter(pl.col("until") > pl.col("at"))
    )
    weighted = pl.col("principal").cast(pl.Int128) * (
        _rate_integral(pl.col("until"), table) - _rate_integral(pl.col("at"), table)
    ).cast(pl.Int128)
    half = _DENOMINATOR // 2
    sums = spans.group_by("n").agg(numerator=weighted.sum())
    return (
        owed.select("n", "invoice_id")
        .join(sums, on="n", how="left")
        .select(
            "invoice_id",
            penalty_cents=((pl.col("numerator").fill_null(0) + half) // _DENOMINATOR).cast(
                pl.Int64
            ),
        )
    )


def indemnity_cents(currency: pl.Expr, customer_kind: pl.Expr, days_late: pl.Expr) -> pl.Expr:
    """40 EUR per invoice paid late by a business customer (D441-5); 0 otherwise. Only EUR
    invoices carry it here: in another currency it would need an exchange rate o2c does not
    hold, so it is left out rather than guessed."""
    return (
        pl.when(
            (currency == "EUR") & (customer_kind == CustomerKind.BUSINESS.value) & (days_late > 0)
        )
        .then(pl.lit(INDEMNITY_EUR_CENTS, pl.Int64))
        .otherwise(pl.lit(0, pl.Int64))
    )
