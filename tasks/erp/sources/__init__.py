"""ERP sources pulled through their APIs into the same load as file exports.

A source (one module here per ERP, models/erp_source.py says what it gives) yields pages of
rows in the export contract. `pull_into` takes each page through the file path's own steps
(`tasks.erp.ingest.INVOICES` / `CUSTOMERS`: normalise, validate with the same expectations,
quarantine, idempotent load by natural key) and stores the page's cursor in the same
transaction as its rows.

One transaction per page, not per pull: the warehouse writer is held only while a page is
written (never while the next is fetched: the network call happens with no connection open),
memory stays at one page however many rows have changed, and a crash loses at most the page in
flight; the cursor stored with the last page loaded is where the next run starts, so nothing is
skipped and nothing is loaded twice. Validation (GX) runs before the writer is taken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from o2c.models.erp_source import Cursor, ErpSource, Page
from o2c.models.status import LoadStatus
from o2c.tasks.connectors.http import Logger
from o2c.tasks.erp import validation
from o2c.tasks.erp.ingest import CUSTOMERS, INVOICES, ErpExport
from o2c.tasks.erp.store import LoadResult
from o2c.warehouse import replace_row, transaction

CANCELLED = "cancelled"
# Statuses after which an invoice's open amount in the ERP cannot change by itself.
SETTLED = ("paid", "reversed", CANCELLED)
Writer = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
_EXPORTS: dict[str, ErpExport] = {"invoices": INVOICES, "customers": CUSTOMERS}


@dataclass
class KindCounts:
    """What a pull did to one kind of row (invoices or customers)."""

    pulled: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    cancelled: int = 0  # invoices that arrived cancelled and were not before
    quarantined: int = 0
    pages: int = 0


@dataclass
class PullSummary:
    source: str
    counts: dict[str, KindCounts] = field(
        default_factory=lambda: {"customers": KindCounts(), "invoices": KindCounts()}
    )
    failures_by_reason: dict[str, int] = field(default_factory=dict)
    cursors: dict[str, Cursor] = field(default_factory=dict)
    batches: list[int] = field(default_factory=list)

    @property
    def message(self) -> str:
        parts = [
            f"{kind}: {c.pulled} pulled, {c.new} new, {c.changed} changed,"
            f" {c.cancelled} cancelled, {c.quarantined} quarantined"
            for kind, c in self.counts.items()
        ]
        return f"{self.source}: " + "; ".join(parts)

    def rows(self) -> list[dict[str, object]]:
        """One row per kind, for a table artifact."""
        return [{"rows": kind, **c.__dict__} for kind, c in self.counts.items()]


def read_cursors(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, Cursor]:
    rows = con.execute(
        "SELECT model, write_date, record_id FROM erp_cursors WHERE source = ?", [source]
    ).fetchall()
    return {model: Cursor(write_date, int(record_id)) for model, write_date, record_id in rows}


def _after(new: Cursor, old: Cursor) -> bool:
    """Whether a cursor is past another (as SQL compares rows: an unknown date is not past)."""
    try:
        return (new.write_date, new.record_id) > (old.write_date, old.record_id)
    except TypeError:
        return False


def save_cursor(
    con: duckdb.DuckDBPyConnection, source: str, model: str, cursor: Cursor, batch_id: int | None
) -> None:
    """Move a model's cursor forward (never back: a page older than the cursor moves nothing)."""
    stored = read_cursors(con, source).get(model)
    if stored is not None and not _after(cursor, stored):
        return
    replace_row(
        con,
        "erp_cursors",
        {"source": source, "model": model},
        {
            "write_date": cursor.write_date,
            "record_id": cursor.record_id,
            "batch_id": batch_id,
            "updated_at": datetime.now(),
        },
    )


def _newly_cancelled(con: duckdb.DuckDBPyConnection, good: pl.DataFrame) -> int:
    """Rows arriving cancelled whose invoice the warehouse did not hold as cancelled."""
    ids = good.filter(pl.col("status") == CANCELLED).select("invoice_id")
    if ids.height == 0:
        return 0
    con.register("cancelled_ids", ids)
    try:
        row = con.execute(
            "SELECT count(*) FROM cancelled_ids c LEFT JOIN invoices i USING (invoice_id)"
            " WHERE i.status_erp IS DISTINCT FROM ?",
            [CANCELLED],
        ).fetchall()
    finally:
        con.unregister("cancelled_ids")
    return int(row[0][0])


def load_page(
    con: duckdb.DuckDBPyConnection,
    page: Page,
    outcome: validation.ValidationOutcome,
    *,
    flow_run_id: str | None = None,
) -> tuple[LoadResult, int]:
    """One validated page and its cursor, in one transaction: the load and how many invoices
    it cancelled. Either both land or neither."""
    export = _EXPORTS[page.kind]
    with transaction(con):
        cancelled = _newly_cancelled(con, outcome.good) if page.kind == "invoices" else 0
        result = export.load(
            con,
            page.rows,
            outcome,
            file_name=page.label,
            sha256=page.sha256,
            flow_run_id=flow_run_id,
        )
        if page.cursor is not None:
            save_cursor(con, page.source, page.model, page.cursor, result.batch_id)
    return result, cancelled


def _count(summary: PullSummary, page: Page, result: LoadResult, cancelled: int) -> None:
    counts = summary.counts[page.kind]
    counts.pages += 1
    counts.pulled += page.rows.height
    if result.status == LoadStatus.LOADED:
        counts.new += result.inserted
        counts.changed += result.updated
        counts.unchanged += result.unchanged
        counts.quarantined += result.quarantined
        counts.cancelled += cancelled
        if result.batch_id is not None:
            summary.batches.append(result.batch_id)
        for reason, n in result.failures_by_reason.items():
            summary.failures_by_reason[reason] = summary.failures_by_reason.get(reason, 0) + n
    if page.cursor is not None:
        summary.cursors[page.model] = page.cursor


def load_pages(
    source_name: str,
    pages: Iterator[Page],
    writer: Writer,
    *,
    flow_run_id: str | None = None,
) -> PullSummary:
    """Validate each page with no connection open, then load it with its cursor; the next page
    is fetched only after the writer is released."""
    summary = PullSummary(source_name)
    for page in pages:
        if page.rows.height == 0:  # rows read before: only the cursor moves
            if page.cursor is not None:
                with writer() as con, transaction(con):
                    save_cursor(con, page.source, page.model, page.cursor, None)
                summary.cursors[page.model] = page.cursor
            continue
        outcome = _EXPORTS[page.kind].validate(page.rows)
        with writer() as con:
            result, cancelled = load_page(con, page, outcome, flow_run_id=flow_run_id)
        _count(summary, page, result, cancelled)
    return summary


def pull_into(source: ErpSource, writer: Writer, *, flow_run_id: str | None = None) -> PullSummary:
    """Everything changed in the ERP since the stored cursors, into the warehouse."""
    with writer() as con:
        since: Mapping[str, Cursor] = read_cursors(con, source.name)
    return load_pages(source.name, source.pull(since), writer, flow_run_id=flow_run_id)


def unsettled_invoices(con: duckdb.DuckDBPyConnection, label_prefix: str) -> list[str]:
    """Invoices last loaded from this source whose ERP status can still change by a payment:
    what a resync re-reads in case the ERP recorded a payment without moving the cursor."""
    rows = con.execute(
        "SELECT i.invoice_id FROM invoices i JOIN load_batches b USING (batch_id)"
        " WHERE starts_with(b.file_name, ?) AND (i.status_erp IS NULL OR i.status_erp NOT IN"
        f" ({', '.join('?' for _ in SETTLED)})) ORDER BY i.invoice_id",
        [label_prefix, *SETTLED],
    ).fetchall()
    return [r[0] for r in rows]


def merge(summary: PullSummary, more: PullSummary) -> None:
    """Add a second pass's counts (a resync) to a pull's."""
    for kind, c in more.counts.items():
        mine = summary.counts[kind]
        for name, value in c.__dict__.items():
            setattr(mine, name, getattr(mine, name) + value)
    for reason, n in more.failures_by_reason.items():
        summary.failures_by_reason[reason] = summary.failures_by_reason.get(reason, 0) + n
    summary.cursors.update(more.cursors)
    summary.batches.extend(more.batches)


def resync_into(
    source: ErpSource, writer: Writer, *, flow_run_id: str | None = None
) -> PullSummary:
    """Re-read the invoices this source gave us that are not settled yet (see `resync`)."""
    with writer() as con:
        ids = unsettled_invoices(con, f"{source.name}:")
    return load_pages(source.name, source.resync(ids), writer, flow_run_id=flow_run_id)


SOURCES = ("odoo",)  # built in; besides, `rest:<name>` or a mapping file (models/erp_rest.py)


class UnknownSource(ValueError):
    """A source name no module here answers to."""


def is_rest(name: str) -> bool:
    """`rest:<name>` (erp_sources/<name>.yaml) or a path to a mapping file."""
    return name.startswith("rest:") or name.endswith((".yaml", ".yml"))


@contextmanager
def open_source(name: str, *, logger: Logger | None = None) -> Iterator[ErpSource]:
    """The named source, configured from its settings, its client closed after.

    `odoo`: the O2C_ODOO_* settings. `rest:<name>`: the mapping erp_sources/<name>.yaml of the
    project folder ($O2C_ERP_SOURCES_DIR to look elsewhere); a path ending in .yaml or .yml: that
    mapping file. Either REST form names the source `rest-<name>` in the warehouse.
    """
    if is_rest(name):
        from o2c.models.erp_rest import load_mapping, mapping_path
        from o2c.tasks.erp.sources.rest import RestSource

        with RestSource(load_mapping(mapping_path(name)), logger=logger) as rest:
            yield rest
        return
    if name not in SOURCES:
        raise UnknownSource(
            f"unknown ERP source {name!r}; known: {', '.join(SOURCES)}, rest:<name>"
            " (erp_sources/<name>.yaml) or a mapping file path"
        )
    from o2c.models.settings_odoo import odoo_settings
    from o2c.tasks.connectors.odoo import OdooClient
    from o2c.tasks.erp.sources.odoo import OdooSource

    with OdooClient(odoo_settings(), logger=logger) as client:
        yield OdooSource(client)
