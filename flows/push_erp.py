"""push-erp: the payments o2c matched, written back to the ERP they came from, once each.

Through the outbox of tasks/erp/push.py: pending rows are written before any call, the ERP is
called with the warehouse writer released, the outcomes are recorded after in one short
transaction. The erp-<source>-push artifact tells finance what was pushed, what the ERP had
already, and what failed and why.
"""

from __future__ import annotations

from typing import cast

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.run_names import hourly_name
from o2c.models.erp_source import ErpPush
from o2c.orchestration import current_flow_run_id, markdown_artifact, writing
from o2c.tasks.common.language import company_language
from o2c.tasks.erp import push as outbox
from o2c.tasks.erp import sources
from o2c.tasks.erp.push_report import push_markdown, word


class PushFailed(RuntimeError):
    """Some allocations could not be written back (the artifact lists them and why)."""


@task(name="push-erp-payments", cache_policy=NO_CACHE)
def push(source: str, db: str | None, retry_failed: bool) -> outbox.PushReport:
    with sources.open_source(source, logger=get_run_logger()) as erp:
        return outbox.push_into(
            cast(ErpPush, erp),
            lambda: writing(db),
            flow_run_id=current_flow_run_id(),
            retry_failed=retry_failed,
        )


@flow(name="push-erp", flow_run_name=hourly_name("push-erp"), log_prints=True)
def push_erp(
    source: str = "odoo", db: str | None = None, retry_failed: bool = False
) -> outbox.PushReport:
    """Write the payments allocated to this ERP's invoices back to it; publish what happened.

    Args:
        source: The ERP: odoo (settings in O2C_ODOO_*), rest:<name> (erp_sources/<name>.yaml,
            its `push` webhook) or a mapping file's path.
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
        retry_failed: Also send again what the ERP refused (once the cause is fixed); what
            failed on the ERP's side (5xx, timeouts) is sent again at every run anyway.
    """
    report = push(source, db, retry_failed)
    lang = company_language()
    markdown_artifact(
        f"erp-{report.source}-push",
        push_markdown(report, lang),
        word("description", lang, source=report.source),
    )
    print(report.message)
    failed = report.count(outbox.FAILED)
    if failed:
        raise PushFailed(f"{report.message}; see the erp-{report.source}-push artifact")
    return report
