"""What the two ERP ingest flows share (no flow here): their tasks, and how a load is published.

`ingest-invoices` and `ingest-customers` run the same three steps of `tasks.erp.ingest.ErpExport`
(read, validate, load under the writer lock) and publish the result the same way; each flow
makes its own tasks from its export here, named after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from o2c.orchestration import current_flow_run_id, markdown_artifact, table_artifact, writing
from o2c.tasks.erp import ingest, store, validation
from o2c.tasks.erp.report import summary_markdown
from o2c.tasks.erp.store import LoadResult


def erp_tasks(export: ingest.ErpExport) -> tuple[Task[..., Any], ...]:
    """The export's tasks `read-<noun>-file`, `validate-<source>` and `load-<source>`."""

    @task(name=f"read-{export.noun}-file", cache_policy=NO_CACHE)
    def read_file(path: Path) -> tuple[pl.DataFrame, str]:
        return export.read(path)

    @task(name=f"validate-{export.source}", cache_policy=NO_CACHE)
    def validate(raw: pl.DataFrame) -> validation.ValidationOutcome:
        return export.validate(raw)

    @task(name=f"load-{export.source}", cache_policy=NO_CACHE)
    def load(
        db: str | None,
        raw: pl.DataFrame,
        outcome: validation.ValidationOutcome,
        path: Path,
        sha256: str,
    ) -> LoadResult:
        with writing(db) as con:
            return export.load(
                con,
                raw,
                outcome,
                file_name=path.name,
                sha256=sha256,
                flow_run_id=current_flow_run_id(),
            )

    return read_file, validate, load


def publish(export: ingest.ErpExport, result: LoadResult) -> None:
    """The load's artifacts under stable keys, then a Failed run if not one row passed."""
    noun = export.noun
    markdown_artifact(f"{noun}-ingestion", summary_markdown(result), f"Last {noun} load")
    if result.failures_by_reason:
        table_artifact(
            f"{noun}-quarantine",
            store.quarantine_summary(result),
            f"Rows quarantined by the last {noun} load, by reason",
        )
    if result.warnings_by_reason:
        table_artifact(
            f"{noun}-warnings",
            store.warnings_summary(result),
            f"Rows loaded with a warning by the last {noun} load, by reason",
        )
    print(result.message)
    if error := ingest.all_rows_rejected(result):
        raise error
