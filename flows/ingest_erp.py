"""ingest-erp: what changed in an ERP since the last pull, through its API, into the warehouse.

One task pulls page by page: each page is fetched with no connection open, validated, then
loaded with its cursor under the writer lock, which is released before the next page is asked
for (tasks/erp/sources). `resync` also re-reads the invoices not settled yet, for payments the
ERP records without marking the invoice changed.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.run_names import hourly_name
from o2c.orchestration import current_flow_run_id, markdown_artifact, table_artifact, writing
from o2c.tasks.common.escaping import md_text
from o2c.tasks.common.language import Labels
from o2c.tasks.erp import sources
from o2c.tasks.erp.ingest import AllRowsRejected


@task(name="pull-erp", cache_policy=NO_CACHE)
def pull(source: str, db: str | None, resync: bool) -> sources.PullSummary:
    with sources.open_source(source, logger=get_run_logger()) as erp:
        summary = sources.pull_into(erp, lambda: writing(db), flow_run_id=current_flow_run_id())
        if resync:
            again = sources.resync_into(erp, lambda: writing(db), flow_run_id=current_flow_run_id())
            sources.merge(summary, again)
    return summary


def summary_markdown(summary: sources.PullSummary, lang: str | None = None) -> str:
    """What finance reads: per kind of row, how many came and what became of them."""
    t = Labels(lang)
    head = ("rows", "pulled", "new", "changed", "cancelled", "quarantined")
    lines = [
        f"# {t('erp.title', source=md_text(summary.source))}",
        "",
        "| " + " | ".join(t(f"erp.{h}") for h in head) + " |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, c in summary.counts.items():
        name = t(f"erp.{kind}") if f"erp.{kind}" in t.words else md_text(kind)
        lines.append(
            f"| {name} | {c.pulled} | {c.new} | {c.changed} | {c.cancelled} | {c.quarantined} |"
        )
    if summary.cursors:
        lines += ["", f"{t('erp.read_up_to')} " + "; ".join(
            f"{md_text(model)} {md_text(c.write_date)} (id {c.record_id})"
            for model, c in sorted(summary.cursors.items())
        )]  # fmt: skip
    return "\n".join(lines) + "\n"


@flow(name="ingest-erp", flow_run_name=hourly_name("ingest-erp"), log_prints=True)
def ingest_erp(source: str = "odoo", db: str | None = None, resync: bool = False):
    """Pull invoices and customers changed in the ERP since the stored cursors; publish counts.

    Args:
        source: The ERP: odoo (settings in O2C_ODOO_* variables), rest:<name> (the mapping
            erp_sources/<name>.yaml, models/erp_rest.py) or a REST mapping file's path.
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
        resync: Also re-read the invoices not settled yet (payments recorded in the ERP).
    """
    summary = pull(source, db, resync)
    source = summary.source  # odoo, rest-<name>: what an artifact key may hold
    key = f"erp-{source}-pull"
    t = Labels()
    markdown_artifact(key, summary_markdown(summary), t("erp.description", source=source))
    if summary.failures_by_reason:
        table_artifact(
            f"erp-{source}-quarantine",
            [{t("erp.reason"): r, t("erp.rows"): n} for r, n in summary.failures_by_reason.items()],
            t("erp.quarantine_description", source=source),
        )
    print(summary.message)
    invoices = summary.counts["invoices"]
    if invoices.pulled and invoices.quarantined == invoices.pulled:
        raise AllRowsRejected(f"{source}: all {invoices.pulled} invoice rows failed validation")
    return summary
