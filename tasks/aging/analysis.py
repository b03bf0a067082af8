"""Receivables aging: open items in past-due buckets, DSO, and how each customer pays.

Plain functions over Polars frames (money is Int64 cents, see o2c.models.schemas); the flow
wraps them in tasks. Every sum is grouped by currency: amounts in two currencies are never added.

How a credit controller reads an open item (age_open_items sorts each into one of three):
- a debt: a positive open amount, aged by its due date into a bucket;
- a small balance: what is left open on a partly paid invoice, up to a threshold per currency
  (a bank fee above the reconciliation tolerance): shown apart and offered for write-off, never
  in a bucket nor in what is overdue;
- an unapplied credit: a negative open amount (an open credit note, an overpayment credit, an
  invoice paid beyond its total): money the customer may set against its debts, in its own
  column, never in a due-date bucket. "Overdue" is the debts' overdue amount (gross); "overdue
  net of credits" takes the customer's credits off it, not below zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

import polars as pl

from o2c.models.schemas import OPEN_ITEM


@dataclass(frozen=True)
class Buckets:
    """Upper edges, in days past due, of the closed buckets; above the last, one open bucket.

    Edges (30, 60, 90, 120) give: not due (0 days or less: due today is not late), 1-30, 31-60,
    61-90, 91-120, over 120. Keys are stable identifiers (snapshot rows, column names); labels are
    what finance reads.
    """

    edges: tuple[int, ...] = (30, 60, 90, 120)

    def __post_init__(self) -> None:
        edges = tuple(self.edges)
        if not edges:
            raise ValueError("buckets: at least one edge is needed, e.g. (30, 60, 90, 120)")
        if any(not isinstance(e, int) or isinstance(e, bool) or e < 1 for e in edges):
            raise ValueError(f"buckets: edges must be whole days >= 1, got {edges!r}")
        if any(b <= a for a, b in pairwise(edges)):
            raise ValueError(f"buckets: edges must be strictly increasing, got {edges!r}")
        object.__setattr__(self, "edges", edges)

    @property
    def keys(self) -> tuple[str, ...]:
        lows = (1, *(e + 1 for e in self.edges[:-1]))
        closed = (f"{lo}_{hi}" for lo, hi in zip(lows, self.edges, strict=True))
        return ("not_due", *closed, f"over_{self.edges[-1]}")

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(bucket_label(k) for k in self.keys)

    def column(self, key: str) -> str:
        """Name of the cents column of a bucket in the by-customer frame."""
        return f"{key}_cents"


DEFAULT_BUCKETS = Buckets()


def as_buckets(buckets: Buckets | Sequence[int]) -> Buckets:
    return buckets if isinstance(buckets, Buckets) else Buckets(tuple(buckets))


# The two kinds of open item that are not aged into a due-date bucket (see the module docstring):
# their keys sit after the buckets in age_open_items' `bucket` Enum and in the snapshots.
SMALL_BALANCE = "small_balance"
UNAPPLIED_CREDIT = "unapplied_credit"
APART = (SMALL_BALANCE, UNAPPLIED_CREDIT)


def item_keys(buckets: Buckets) -> tuple[str, ...]:
    """The categories of age_open_items' `bucket` column: the due-date buckets, then APART."""
    return (*buckets.keys, *APART)


def bucket_label(key: str) -> str:
    """'not_due' -> 'not yet due', '1_30' -> '1-30 days', 'over_120' -> 'over 120 days'."""
    if key == SMALL_BALANCE:
        return "small balances"
    if key == UNAPPLIED_CREDIT:
        return "unapplied credits"
    if key == "not_due":
        return "not yet due"
    if key.startswith("over_"):
        return f"over {key.removeprefix('over_')} days"
    lo, _, hi = key.partition("_")
    return f"{lo}-{hi} days"


def bucket_order(key: str) -> int:
    """Sort key of a bucket key, so snapshots taken with other edges still sort sensibly."""
    if key == UNAPPLIED_CREDIT:
        return -2
    if key == SMALL_BALANCE:
        return -1
    if key == "not_due":
        return 0
    if key.startswith("over_"):
        return int(key.removeprefix("over_")) + 1
    return int(key.partition("_")[0])


# Grade thresholds on the amount-weighted average days late (upper bounds, inclusive).
GRADE_THRESHOLDS: tuple[tuple[int, str], ...] = ((5, "A"), (15, "B"), (30, "C"), (60, "D"))
WORST_GRADE = "E"


def _check_frame(frame: pl.DataFrame, schema: dict[str, pl.DataType], what: str) -> None:
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}")
    wrong = [
        f"{c} is {frame.schema[c]}, expected {schema[c]}"
        for c in schema
        if frame.schema[c] != schema[c]
    ]
    if wrong:
        raise ValueError(f"{what}: " + "; ".join(wrong))


def _check_not_null(frame: pl.DataFrame, columns: Sequence[str], what: str, key: str) -> None:
    for column in columns:
        if frame[column].null_count():
            ids = frame.filter(pl.col(column).is_null())[key].head(5).to_list()
            raise ValueError(
                f"{what}: field {column} is empty for {key} {', '.join(map(str, ids))}"
            )


def per_currency(value: int | Mapping[str, int], currency: pl.Expr) -> pl.Expr:
    """Cents as an expression: one figure for every currency, or {currency: cents} (0 if absent)."""
    if isinstance(value, Mapping):
        if not value:
            return pl.lit(0, dtype=pl.Int64)
        return currency.replace_strict(dict(value), default=0, return_dtype=pl.Int64)
    return pl.lit(int(value), dtype=pl.Int64)


def age_open_items(
    open_items: pl.DataFrame,
    *,
    as_of: date,
    buckets: Buckets | Sequence[int] = DEFAULT_BUCKETS,
    small_balance: int | Mapping[str, int] = 0,
) -> pl.DataFrame:
    """Each open item with its days past due and its place as of `as_of`.

    A debt goes to the bucket of its due date, on its open amount (a partly paid invoice counts
    for what is left). A negative open amount (credit note, overpayment) goes to
    UNAPPLIED_CREDIT; what is left open on a partly paid invoice up to `small_balance` cents (one
    figure, or per currency) to SMALL_BALANCE. Settled items (open amount 0) are not open items
    and are left out, as the warehouse view does. `bucket` is an Enum: item_keys(buckets).
    """
    b = as_buckets(buckets)
    _check_frame(open_items, OPEN_ITEM, "open items")
    _check_not_null(
        open_items,
        ["invoice_id", "customer_id", "due_date", "currency", "amount_open_cents"],
        "open items",
        "invoice_id",
    )
    dpd = (pl.lit(as_of) - pl.col("due_date")).dt.total_days()
    enum = pl.Enum(item_keys(b))
    amount = pl.col("amount_open_cents")
    residual = (amount < pl.col("amount_total_cents")) & (
        amount <= per_currency(small_balance, pl.col("currency"))
    )
    bucket = (
        pl.when(amount < 0)
        .then(pl.lit(UNAPPLIED_CREDIT, dtype=enum))
        .when(residual)
        .then(pl.lit(SMALL_BALANCE, dtype=enum))
        .when(dpd <= 0)
        .then(pl.lit(b.keys[0], dtype=enum))
    )
    for key, edge in zip(b.keys[1:], b.edges, strict=False):
        bucket = bucket.when(dpd <= edge).then(pl.lit(key, dtype=enum))
    settled = amount == 0
    # Filtering copies every column: only do it when there is something to leave out.
    items = open_items.filter(~settled) if open_items.select(settled.any()).item() else open_items
    return items.with_columns(
        days_past_due=dpd,
        bucket=bucket.otherwise(pl.lit(b.keys[-1], dtype=enum)),
    )


def _check_aged(aged: pl.DataFrame, b: Buckets) -> None:
    if "bucket" not in aged.columns or aged.schema["bucket"] != pl.Enum(item_keys(b)):
        raise ValueError(
            f"aged items: expected the output of age_open_items with buckets {b.keys}, "
            f"got a bucket column of type {aged.schema.get('bucket')}"
        )


def aging_by_customer(
    aged: pl.DataFrame,
    *,
    buckets: Buckets | Sequence[int] = DEFAULT_BUCKETS,
    behaviour: pl.DataFrame | None = None,
    names: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per customer, currency and legal entity: what it owes, how late, and its credits.

    Cents columns: one per due-date bucket (debts only, never negative), `small_balance_cents`
    (with `small_balance_items`), `total_cents` (debts and small balances: what it owes),
    `credits_cents` (unapplied credits, <= 0), `balance_cents` (total + credits: the ledger),
    `overdue_cents` (debts past due, gross) and `overdue_net_cents` (overdue + credits, not
    below 0). `oldest_days_past_due` is the largest days past due among its debts (0 when none
    is late). With `behaviour` (from payment_behaviour) the average days late and grade are
    joined on customer and currency; with `names` (customer_id, name) the customer's name.
    """
    b = as_buckets(buckets)
    _check_aged(aged, b)
    amount = pl.col("amount_open_cents")
    code = pl.col("bucket").to_physical()  # 0..len(keys)-1 the buckets, then SMALL, CREDIT
    n = len(b.keys)
    in_bucket = [
        pl.when(code == i).then(amount).otherwise(0).alias(b.column(key))
        for i, key in enumerate(b.keys)
    ]
    # Masked columns summed by a plain group-by: much cheaper than a filter per group.
    frame = (
        aged.lazy()
        .select(
            "customer_id",
            "currency",
            "legal_entity",
            *in_bucket,
            pl.when(code == n).then(amount).otherwise(0).alias("small_balance_cents"),
            (code == n).cast(pl.Int64).alias("small_balance_items"),
            pl.when(code == n + 1).then(amount).otherwise(0).alias("credits_cents"),
            pl.when((code > 0) & (code < n)).then(amount).otherwise(0).alias("overdue_cents"),
            pl.when(code < n).then(pl.col("days_past_due")).alias("oldest_days_past_due"),
        )
        .group_by("customer_id", "currency", "legal_entity")
        .agg(
            pl.col(
                *(b.column(k) for k in b.keys),
                "small_balance_cents",
                "small_balance_items",
                "credits_cents",
                "overdue_cents",
            ).sum(),
            pl.len().cast(pl.Int64).alias("items"),
            pl.col("oldest_days_past_due").max().fill_null(0).clip(lower_bound=0),
        )
        .with_columns(
            total_cents=pl.sum_horizontal(*(b.column(k) for k in b.keys), "small_balance_cents")
        )
        .with_columns(
            balance_cents=pl.col("total_cents") + pl.col("credits_cents"),
            overdue_net_cents=(pl.col("overdue_cents") + pl.col("credits_cents")).clip(
                lower_bound=0
            ),
        )
        .sort("currency", "customer_id", "legal_entity", nulls_last=True)
        .collect()
    )
    if behaviour is not None:
        frame = frame.join(
            behaviour.select("customer_id", "currency", "paid_invoices", "avg_days_late", "grade"),
            on=["customer_id", "currency"],
            how="left",
        ).with_columns(pl.col("paid_invoices").fill_null(0))
    if names is not None:
        frame = frame.join(
            names.select("customer_id", pl.col("name").alias("customer_name")),
            on="customer_id",
            how="left",
        )
        frame = frame.select(
            "customer_id", "customer_name", pl.exclude("customer_id", "customer_name")
        )
    return frame


def bucket_totals(
    aged: pl.DataFrame, *, buckets: Buckets | Sequence[int] = DEFAULT_BUCKETS
) -> pl.DataFrame:
    """Open cents and item count per currency and due-date bucket, every bucket present (0 when
    empty). Debts only: small balances and unapplied credits are in no due-date bucket."""
    b = as_buckets(buckets)
    _check_aged(aged, b)
    enum = pl.Enum(b.keys)
    code = pl.col("bucket").to_physical()
    amount = pl.col("amount_open_cents")
    # One group per currency (a handful) with a masked sum and count per bucket: grouping the
    # rows on (currency, bucket) took four times as long (2 million rows, 2 cores).
    wide = (
        aged.lazy()
        .group_by("currency")
        .agg(
            *(
                pl.when(code == i).then(amount).otherwise(0).sum().alias(f"_sum{i}")
                for i in range(len(b.keys))
            ),
            *((code == i).sum().cast(pl.Int64).alias(f"_n{i}") for i in range(len(b.keys))),
        )
    )
    per_bucket = (
        wide.select(
            "currency",
            pl.lit(key, dtype=enum).alias("bucket"),
            pl.col(f"_sum{i}").alias("amount_open_cents"),
            pl.col(f"_n{i}").alias("items"),
        )
        for i, key in enumerate(b.keys)
    )
    return pl.concat(per_bucket).sort("currency", "bucket").collect()


def _round_days(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def dso_standard(receivables_cents: int, revenue_cents: int, days: int) -> Decimal | None:
    """Days sales outstanding by the standard (average) method.

        DSO = receivables at the end of the period / revenue invoiced over the period × days

    Receivables are the open amount of every item as of the date (credit notes and not yet due
    included); revenue is what was invoiced (net of credit notes) in the `days` days before it.
    Rounded to 0.1 day, half up. None when the period has no positive revenue: DSO is undefined.
    """
    if days <= 0:
        raise ValueError(f"dso_standard: days must be > 0, got {days}")
    if revenue_cents <= 0:
        return None
    return _round_days(Decimal(receivables_cents) * days / Decimal(revenue_cents))


def dso_countback(receivables_cents: int, periods: Sequence[tuple[int, int]]) -> Decimal:
    """Days sales outstanding by the countback (exhaustion) method.

    `periods` are (days, revenue cents) going back in time, most recent first (the month to date,
    then each previous calendar month). The receivables are "used up" against each period's
    revenue, newest first; while they exceed a period's revenue the whole period counts:

        R_0 = receivables
        while R_k > revenue_k:  DSO += days_k ;  R_{k+1} = R_k - revenue_k
        last period:            DSO += days_k × R_k / revenue_k

    It answers "how many days of the latest sales are still unpaid", so it is not skewed by a
    seasonal month the way the average method is. When the history runs out first, the days of
    the whole history are returned (a lower bound). Rounded to 0.1 day, half up.
    """
    remaining = Decimal(receivables_cents)
    total = Decimal(0)
    if remaining <= 0:
        return Decimal("0.0")
    for days, revenue in periods:
        if remaining > revenue:
            total += days
            remaining -= revenue
        else:
            total += Decimal(days) * remaining / Decimal(revenue)
            return _round_days(total)
    return _round_days(total)


def _month_index(as_of: date) -> int:
    return as_of.year * 12 + as_of.month - 1


def _days_in_month(index: int) -> int:
    year, month = divmod(index, 12)
    start = date(year, month + 1, 1)
    nxt = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return (nxt - start).days


def dso_table(
    invoices: pl.DataFrame,
    aged: pl.DataFrame,
    *,
    as_of: date,
    period_days: int = 90,
    countback_months: int = 24,
    min_revenue: int | Mapping[str, int] = 0,
) -> pl.DataFrame:
    """DSO per currency and legal entity as of a date, by both methods, from the invoice history.

    `invoices` needs invoice_id, legal_entity, issue_date, currency, amount_total_cents (credit
    notes negative); only those issued on or before `as_of` count. Receivables are the open
    amounts of `aged` (credits included: what the ledger says). Standard: revenue of the
    `period_days` days ending on `as_of`. Countback: the month to date, then up to
    `countback_months` - 1 previous calendar months.

    `dso_meaningful` is false when that revenue is not positive or is under `min_revenue` cents
    (one figure, or per currency): 117,00 USD of sales make any receivable look like years of
    them. Both DSO figures are then null, so that no absurd figure reaches a report or a trend.
    """
    if period_days <= 0 or countback_months <= 0:
        raise ValueError("dso_table: period_days and countback_months must be > 0")
    now = _month_index(as_of)
    history = invoices.filter(pl.col("issue_date") <= as_of).with_columns(
        months_back=now
        - (pl.col("issue_date").dt.year() * 12 + pl.col("issue_date").dt.month() - 1)
    )
    keys = ["currency", "legal_entity"]
    receivables = aged.group_by(keys).agg(
        pl.col("amount_open_cents").sum().alias("receivables_cents")
    )
    revenue = (
        history.filter(pl.col("issue_date") > pl.lit(as_of) - pl.duration(days=period_days))
        .group_by(keys)
        .agg(pl.col("amount_total_cents").sum().alias("revenue_cents"))
    )
    monthly = (
        history.filter(pl.col("months_back") < countback_months)
        .group_by(*keys, "months_back")
        .agg(pl.col("amount_total_cents").sum())
    )
    groups = (
        pl.concat([receivables.select(keys), revenue.select(keys)])
        .unique()
        .join(receivables, on=keys, how="left", nulls_equal=True)
        .join(revenue, on=keys, how="left", nulls_equal=True)
        .with_columns(pl.col("receivables_cents", "revenue_cents").fill_null(0))
        .sort(keys, nulls_last=True)
    )
    month_days = [as_of.day] + [_days_in_month(now - k) for k in range(1, countback_months)]
    rows = []
    # One iteration per currency and entity (a handful), not per invoice.
    for group in groups.iter_rows(named=True):
        per_month = dict.fromkeys(range(countback_months), 0)
        mine = monthly.filter(
            (pl.col("currency") == group["currency"])
            & pl.col("legal_entity").eq_missing(group["legal_entity"])
        )
        per_month.update(
            zip(mine["months_back"].to_list(), mine["amount_total_cents"].to_list(), strict=True)
        )
        floor = (
            min_revenue.get(group["currency"], 0)
            if isinstance(min_revenue, Mapping)
            else int(min_revenue)
        )
        meaningful = group["revenue_cents"] > 0 and group["revenue_cents"] >= floor
        standard = dso_standard(group["receivables_cents"], group["revenue_cents"], period_days)
        countback = dso_countback(
            group["receivables_cents"],
            [(month_days[k], per_month[k]) for k in range(countback_months)],
        )
        rows.append(
            {
                "as_of_date": as_of,
                **group,
                "period_days": period_days,
                "dso_standard": float(standard) if meaningful and standard is not None else None,
                "dso_countback": float(countback) if meaningful else None,
                "dso_meaningful": meaningful,
            }
        )
    schema = {**DSO_ROW, "dso_meaningful": pl.Boolean}
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


DSO_ROW = {
    "as_of_date": pl.Date,
    "currency": pl.String,
    "legal_entity": pl.String,
    "receivables_cents": pl.Int64,
    "revenue_cents": pl.Int64,
    "period_days": pl.Int64,
    "dso_standard": pl.Float64,  # days, already rounded to 0.1 with Decimal
    "dso_countback": pl.Float64,
}


def grade_expr(days: pl.Expr) -> pl.Expr:
    """A-E from average days late: A <= 5, B <= 15, C <= 30, D <= 60, E above; null stays null."""
    expr = pl.when(days.is_null()).then(pl.lit(None, dtype=pl.String))
    for bound, grade in GRADE_THRESHOLDS:
        expr = expr.when(days <= bound).then(pl.lit(grade))
    return expr.otherwise(pl.lit(WORST_GRADE))


def payment_behaviour(invoices: pl.DataFrame, payments: pl.DataFrame) -> pl.DataFrame:
    """Per customer and currency: fully paid invoices, amount-weighted average days late, grade.

    `invoices`: invoice_id, document_type, customer_id, due_date, currency, amount_total_cents.
    `payments`: invoice_id, allocation_id, amount_cents, pay_date (the booking date of the bank
    transaction behind the allocation). An invoice is fully paid once its allocations reach its
    total; its pay date is that of the allocation that closed it (the last one to cross the total,
    so a reversed payment that was paid again counts from the second payment). Days late are
    pay date - due date, an early payment counting as 0 so that it cannot offset a late one; the
    average is weighted by the invoice amount and rounded to 0.1 day, half up.
    """
    billed = invoices.filter(
        (pl.col("document_type") == "invoice") & (pl.col("amount_total_cents") > 0)
    ).select("invoice_id", "customer_id", "currency", "due_date", "amount_total_cents")
    closed = (
        payments.select("invoice_id", "allocation_id", "amount_cents", "pay_date")
        .join(billed, on="invoice_id", how="inner")
        .sort("invoice_id", "pay_date", "allocation_id")
        .with_columns(paid_so_far=pl.col("amount_cents").cum_sum().over("invoice_id"))
        .group_by("invoice_id")
        .agg(
            pl.col("customer_id", "currency", "due_date", "amount_total_cents").first(),
            pl.col("amount_cents").sum().alias("allocated_cents"),
            pl.col("pay_date")
            .filter(pl.col("paid_so_far") - pl.col("amount_cents") < pl.col("amount_total_cents"))
            .last()
            .alias("closed_on"),
        )
        .filter(pl.col("allocated_cents") >= pl.col("amount_total_cents"))
        .with_columns(
            days_late=(pl.col("closed_on") - pl.col("due_date")).dt.total_days().clip(lower_bound=0)
        )
    )
    weighted = (
        closed.group_by("customer_id", "currency")
        .agg(
            pl.len().cast(pl.Int64).alias("paid_invoices"),
            (pl.col("days_late") * pl.col("amount_total_cents")).sum().alias("_num"),
            pl.col("amount_total_cents").sum().alias("_den"),
        )
        # Tenths of a day rounded half up in integers: floor((20 n + d) / 2 d).
        .with_columns(
            avg_days_late=(
                ((20 * pl.col("_num") + pl.col("_den")) // (2 * pl.col("_den"))) / 10
            ).round(1)  # the float nearest to the exact tenth (Polars divides by multiplying)
        )
        .with_columns(grade=grade_expr(pl.col("avg_days_late")))
        .drop("_num", "_den")
        .sort("currency", "customer_id")
    )
    return weighted


def aging_snapshot_rows(aged: pl.DataFrame, *, as_of: date) -> pl.DataFrame:
    """Rows of aging_snapshots: open cents and item count per customer, currency, entity, bucket."""
    return (
        aged.group_by("customer_id", "currency", "legal_entity", "bucket")
        .agg(pl.col("amount_open_cents").sum(), pl.len().cast(pl.Int64).alias("items"))
        .select(
            pl.lit(as_of).alias("as_of_date"),
            "customer_id",
            "currency",
            "legal_entity",
            pl.col("bucket").cast(pl.String),
            "amount_open_cents",
            "items",
        )
        .sort("customer_id", "currency", "legal_entity", "bucket", nulls_last=True)
    )


def dso_snapshot_rows(dso: pl.DataFrame) -> pl.DataFrame:
    """Rows of dso_snapshots, from dso_table."""
    return dso.select(list(DSO_ROW))
