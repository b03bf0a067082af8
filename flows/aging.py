"""aging: where the receivables stand as of a date, for finance, with a snapshot kept per day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.run_names import as_of_name
from o2c.orchestration import (
    current_flow_run_id,
    markdown_artifact,
    table_artifact,
    writing,
)
from o2c.tasks.aging import analysis, report, store
from o2c.tasks.aging.pipeline import AgingViews, compute_aging, save_snapshot
from o2c.tasks.common.formatting import format_date
from o2c.warehouse import db_path


@task(name="compute-aging", cache_policy=NO_CACHE)
def compute_and_snapshot(db: str | None, as_of: date, buckets: analysis.Buckets) -> tuple:
    with writing(db) as con:
        views = compute_aging(con, as_of=as_of, buckets=buckets)
        save_snapshot(con, views, flow_run_id=current_flow_run_id())
        history = store.read_aging_history(con, last=12, until=as_of)
        dso_history = store.read_dso_history(con, last=12, until=as_of)
    return views, history, dso_history


def _report_options(views: AgingViews, dso_history) -> dict:
    return {"as_of": views.as_of, "dso_history": dso_history, "buckets": views.buckets,
            "settings": views.settings}  # fmt: skip


@task(name="write-aging-report", cache_policy=NO_CACHE)
def write_report(views: AgingViews, history, dso_history, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"aging-{views.as_of.isoformat()}.html"
    page.write_text(
        report.render_html_report(
            views.by_customer, views.dso, history, **_report_options(views, dso_history)
        ),
        encoding="utf-8",
    )
    return page


@flow(name="aging", flow_run_name=as_of_name("aging"), log_prints=True)
def aging_flow(
    db: str | None = None,
    as_of: date | None = None,
    bucket_edges: list[int] | None = None,
    report_dir: str | None = None,
) -> dict:
    """Age open items, keep the day's snapshot, publish the summary, the table and the chart
    (an artifact the UI draws, nothing to open on the server's disk); the HTML report is also
    written beside the warehouse (thresholds and language: the O2C_AGING_* settings).

    Args:
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
        as_of: The day the receivables are aged at; empty: today.
        bucket_edges: Days past due where the buckets split (e.g. 30, 60, 90); empty: default.
        report_dir: A folder to also write the aging report into.
    """
    as_of = as_of or date.today()
    buckets = analysis.as_buckets(bucket_edges) if bucket_edges else analysis.DEFAULT_BUCKETS
    views, history, dso_history = compute_and_snapshot(db, as_of, buckets)
    lang = views.settings.lang
    day = format_date(as_of, lang)
    markdown_artifact(
        "aging-summary",
        report.summary_markdown(
            views.by_customer, views.dso, **_report_options(views, dso_history)
        ),
        report.word("summary_description", lang, date=day),
    )
    table_artifact(
        "aging-by-customer",
        report.customer_table(views.by_customer, buckets=buckets, lang=views.settings.lang),
        report.word("customers_description", lang, date=day),
    )
    markdown_artifact(
        "aging-chart",
        report.chart_markdown(history, as_of=as_of, lang=lang),
        report.word("chart_description", lang, date=day),
    )
    folder = Path(report_dir) if report_dir else db_path(db).resolve().parent / "reports"
    page = write_report(views, history, dso_history, folder)
    print(f"aging as of {as_of}: {views.aged.height} open items, report {page}")
    return {"as_of": as_of.isoformat(), "open_items": views.aged.height, "report": str(page)}
