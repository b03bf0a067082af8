"""One aging computation from the warehouse, shared by the aging flow and `o2c export aging`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import polars as pl

from o2c.tasks.aging import analysis, store
from o2c.tasks.aging.settings import DEFAULT_SETTINGS, AgingSettings


@dataclass
class AgingViews:
    as_of: date
    buckets: analysis.Buckets
    aged: pl.DataFrame  # open items and overpayment credits, with days_past_due and bucket
    by_customer: pl.DataFrame
    dso: pl.DataFrame
    settings: AgingSettings = field(default_factory=lambda: DEFAULT_SETTINGS)


def compute_aging(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    buckets: analysis.Buckets = analysis.DEFAULT_BUCKETS,
    settings: AgingSettings | None = None,
) -> AgingViews:
    """Open items and overpayment credits as they stood on `as_of`, aged, per customer (with
    behaviour), and DSO, under `settings` (AgingSettings() from the environment by default)."""
    settings = settings or AgingSettings()
    items = pl.concat(
        [store.read_open_items(con, as_of=as_of), store.read_unapplied_credits(con, as_of=as_of)]
    )
    invoices = store.read_invoices(con, as_of=as_of)
    payments = store.read_payments(con, as_of=as_of)
    names = store.read_customer_names(con)
    currencies = sorted(set(items["currency"].unique()) | set(invoices["currency"].unique()))
    aged = analysis.age_open_items(
        items,
        as_of=as_of,
        buckets=buckets,
        small_balance=settings.per_currency(currencies, "small_balance"),
    )
    behaviour = analysis.payment_behaviour(invoices, payments)
    by_customer = analysis.aging_by_customer(
        aged, buckets=buckets, behaviour=behaviour, names=names
    )
    dso = analysis.dso_table(
        invoices,
        aged,
        as_of=as_of,
        min_revenue=settings.per_currency(currencies, "dso_min_revenue"),
    )
    return AgingViews(as_of, buckets, aged, by_customer, dso, settings)


def save_snapshot(
    con: duckdb.DuckDBPyConnection, views: AgingViews, *, flow_run_id: str | None
) -> store.SnapshotWrite:
    return store.write_snapshot(
        con,
        analysis.aging_snapshot_rows(views.aged, as_of=views.as_of),
        analysis.dso_snapshot_rows(views.dso),
        as_of=views.as_of,
        flow_run_id=flow_run_id,
    )
