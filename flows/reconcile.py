"""reconcile: match unreconciled bank transactions to open invoices; exceptions go to finance.

Finance decides exceptions with a CSV (`o2c reconcile --decisions FILE`) or, when the run is
started with `ask_finance`, in the form the paused run shows in the Prefect UI.
"""

from __future__ import annotations

import polars as pl
from prefect import flow, pause_flow_run, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.run_names import daily_name
from o2c.models.decisions import ExceptionDecisions
from o2c.orchestration import (
    current_flow_run_id,
    markdown_artifact,
    table_artifact,
    writing,
)
from o2c.tasks.reconciliation import store
from o2c.tasks.reconciliation.report import open_exceptions, summary_markdown


@task(name="apply-decisions", cache_policy=NO_CACHE)
def apply_decisions(
    db: str | None, decisions: pl.DataFrame, source: str, decided_by: str | None
) -> dict[str, int]:
    with writing(db) as con:
        return store.apply_decisions(
            con, decisions, source, decided_by=decided_by, flow_run_id=current_flow_run_id()
        )


@task(name="reconcile-warehouse", cache_policy=NO_CACHE)
def reconcile_warehouse(db: str | None) -> tuple[dict, list[dict]]:
    with writing(db) as con:
        result = store.reconcile_warehouse(con, flow_run_id=current_flow_run_id())
        return result.stats, open_exceptions(con)


def _publish(stats: dict, exceptions: list[dict], decisions: dict | None) -> None:
    markdown_artifact("reconciliation", summary_markdown(stats, decisions), "Last reconciliation")
    table_artifact(
        "reconciliation-exceptions",
        exceptions,
        "Open reconciliation exceptions: bank lines o2c would not match on its own",
    )


def _ask_finance(db: str | None, count: int, wait_minutes: int) -> dict[str, int]:
    """Pause for the form; a refused decision (unknown invoice, bad candidate N) shows the form
    again with the reason and everything typed, until it applies or the wait runs out."""
    note = f"{count} exceptions: see artifact reconciliation-exceptions"
    typed: dict = {"decided_by": ""}
    while True:
        answer: ExceptionDecisions = pause_flow_run(
            wait_for_input=ExceptionDecisions.with_initial_data(description=note, **typed),
            timeout=wait_minutes * 60,
        )
        try:
            frame = store.form_decisions([d.model_dump() for d in answer.decisions])
            return apply_decisions(db, frame, "ui", answer.decided_by)
        except ValueError as refused:
            print(f"decisions not applied, the form asks again: {refused}")
            note = f"Not applied, nothing was written: {refused}. Correct it and submit again."
            typed = {"decided_by": answer.decided_by, "decisions": answer.decisions}


@flow(name="reconcile", flow_run_name=daily_name("reconcile"), log_prints=True)
def reconcile(
    db: str | None = None,
    decisions_csv: str | None = None,
    ask_finance: bool = False,
    wait_minutes: int = 60,
) -> dict:
    """Apply any decisions, run the rule cascade, publish; optionally pause for finance's form.

    Args:
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
        decisions_csv: A CSV of finance's decisions on earlier exceptions, applied first.
        ask_finance: Pause on the exceptions and show finance a form to decide them.
        wait_minutes: How long the paused run waits for finance's form before it ends.
    """
    applied = None
    if decisions_csv:
        applied = apply_decisions(db, store.read_decisions_csv(decisions_csv), "csv", None)
    stats, exceptions = reconcile_warehouse(db)
    _publish(stats, exceptions, applied)
    print(f"{stats['settled']} settled, {stats['exceptions']} exceptions")
    if ask_finance and exceptions:
        applied = _ask_finance(db, len(exceptions), wait_minutes)
        stats, exceptions = reconcile_warehouse(db)
        _publish(stats, exceptions, applied)
    return stats
