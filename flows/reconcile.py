"""reconcile: match unreconciled bank transactions to open invoices; exceptions go to finance.

Finance decides exceptions with a CSV (`o2c reconcile --decisions FILE`) or, when the run is
started with `ask_finance`, in the form the paused run shows in the Prefect UI: a pick-list,
nothing to type but a name. Each decision line is applied or refused with its reason in the
`reconciliation` artifact; a refused line never fails the run.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from prefect import flow, pause_flow_run, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.run_names import daily_name
from o2c.models.decisions import answer_of, decision_form
from o2c.orchestration import (
    current_flow_run_id,
    markdown_artifact,
    table_artifact,
    writing,
)
from o2c.tasks.common.language import Lang, company_language
from o2c.tasks.reconciliation import decisions as form
from o2c.tasks.reconciliation import not_customer, store
from o2c.tasks.reconciliation.engine import ReconciliationResult
from o2c.tasks.reconciliation.report import open_exceptions, summary_markdown, word
from o2c.warehouse import connect, transaction


@task(name="apply-decisions", cache_policy=NO_CACHE)
def apply_decisions(
    db: str | None, decisions: pl.DataFrame, source: str, decided_by: str | None
) -> dict:
    """Record the lines the warehouse accepts; every line comes back with its outcome, and the
    payments they name in words for the artifact."""
    lang = company_language()
    with writing(db) as con:
        done = store.record_decisions(
            con, decisions, source, decided_by=decided_by, flow_run_id=current_flow_run_id()
        )
        named = [r["transaction_id"] for r in done["lines"] if r["transaction_id"]]
        done["described"] = form.payment_labels(con, named, lang)
    return done


@task(name="undo-not-customer", cache_policy=NO_CACHE)
def undo_not_customer(db: str | None, who: list[str]) -> dict[str, list[str]]:
    """Finance takes back "not a customer payment" for these counterparties (IBAN, name, text or
    a transaction id): their lines are looked at again by this run."""
    with writing(db) as con, transaction(con):
        return not_customer.forget(con, who, by=None, now=datetime.now())


@task(name="reconcile-warehouse", cache_policy=NO_CACHE)
def reconcile_warehouse(db: str | None) -> tuple[dict, list[dict]]:
    with writing(db) as con:
        result = store.reconcile_warehouse(con, flow_run_id=current_flow_run_id())
        return result.stats, open_exceptions(con, lang=company_language())


@task(name="pending-currencies", cache_policy=NO_CACHE)
def pending_currencies(db: str | None) -> list[str]:
    with writing(db) as con:  # migrated if need be, as every run's first touch
        return store.pending_currencies(con)


@task(name="plan-partition", cache_policy=NO_CACHE, task_run_name="plan-{currency}")
def plan_partition(db: str | None, currency: str) -> tuple[tuple, ReconciliationResult]:
    """Read and match one currency's lines, writing nothing: partitions plan side by side."""
    with connect(db, read_only=True) as con:
        return store.partition_stamp(con, currency), store.plan(con, currency=currency)


@task(name="write-partition", cache_policy=NO_CACHE, task_run_name="write-{currency}")
def write_partition(
    db: str | None, currency: str, planned: tuple[tuple, ReconciliationResult]
) -> dict:
    """Write one partition's plan, one writer at a time (the warehouse slot); planned again
    inside the writer if another run wrote meanwhile."""
    stamp, result = planned
    with writing(db) as con:
        done = store.write_planned(con, currency, stamp, result, flow_run_id=current_flow_run_id())
        return done.stats


@task(name="open-exceptions", cache_policy=NO_CACHE)
def read_open_exceptions(db: str | None) -> list[dict]:
    with connect(db, read_only=True) as con:
        return open_exceptions(con, lang=company_language())


def reconcile_by_currency(db: str | None) -> tuple[dict, list[dict]]:
    """The run as one partition per currency: plans run concurrently, writes take turns as each
    plan is ready. Same allocations as one run, since a payment is only matched in its currency."""
    currencies = pending_currencies(db)
    if len(currencies) < 2:
        return reconcile_warehouse(db)
    plans = {c: plan_partition.submit(db, c) for c in currencies}
    written = [write_partition.submit(db, c, plans[c]) for c in currencies]
    stats = store.merge_stats([w.result() for w in written])
    return stats, read_open_exceptions(db)


@task(name="decision-form", cache_policy=NO_CACHE)
def read_form_exceptions(db: str | None) -> list[dict]:
    with writing(db) as con:
        return form.form_exceptions(con, company_language())


def _publish(stats: dict, exceptions: list[dict], decisions: dict | None, lang: Lang) -> None:
    described = (decisions or {}).get("described")
    shown = {k: v for k, v in (decisions or {}).items() if k != "described"} or None
    markdown_artifact(
        "reconciliation",
        summary_markdown(stats, shown, lang, described),
        word("summary_description", lang),
    )
    table_artifact("reconciliation-exceptions", exceptions, word("exceptions_description", lang))


def _ask_finance(db: str | None, count: int, wait_minutes: int, lang: Lang) -> dict | None:
    """Pause on a form built for the open exceptions (the oldest FORM_LIMIT of them); what the
    form's schema refuses the server refuses before resuming; what it accepts is applied line by
    line."""
    offered = read_form_exceptions(db)
    if not offered:
        return None
    words = {k: form.word(k, lang) for k in form.FORM_WORDS}
    names = [form.field_name(n) for n in range(1, len(offered) + 1)]
    note = word("form_note", lang, shown=f"{len(offered)} / {count}")
    answer = pause_flow_run(
        wait_for_input=decision_form(offered, words, names).with_initial_data(description=note),
        timeout=wait_minutes * 60,
    )
    lines = form.form_lines(answer_of(answer), offered, lang)
    return apply_decisions(db, lines, "ui", answer.decided_by)


@flow(name="reconcile", flow_run_name=daily_name("reconcile"), log_prints=True)
def reconcile(
    db: str | None = None,
    decisions_csv: str | None = None,
    ask_finance: bool = False,
    wait_minutes: int = 60,
    undo_not_customer_for: list[str] | None = None,
    partition_by_currency: bool = False,
) -> dict:
    """Apply any decisions, run the rule cascade, publish; optionally pause for finance's form.

    Args:
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
        decisions_csv: A CSV of finance's decisions on earlier exceptions, applied first.
        ask_finance: Pause on the exceptions and show finance a form to decide them.
        wait_minutes: How long the paused run waits for finance's form before it ends.
        undo_not_customer_for: Counterparties (IBAN, name, or a transaction id of theirs) that
            are customers after all: "not a customer payment" is forgotten for them first.
        partition_by_currency: Match each currency's lines in its own task, side by side
            (a shared warehouse with several workers' cores, or a large multi-currency book).
    """
    lang = company_language()
    applied = None
    if undo_not_customer_for:
        undone = undo_not_customer(db, undo_not_customer_for)
        print(f"not a customer payment forgotten for: {', '.join(undone['forgotten']) or '-'}")
        if undone["unknown"]:
            print(f"not remembered as not customers: {', '.join(undone['unknown'])}")
    if decisions_csv:
        applied = apply_decisions(db, store.read_decisions_csv(decisions_csv), "csv", None)
    run = reconcile_by_currency if partition_by_currency else reconcile_warehouse
    stats, exceptions = run(db)
    _publish(stats, exceptions, applied, lang)
    print(f"{stats.get('settled', 0)} settled, {stats.get('exceptions', 0)} exceptions")
    if applied and applied.get("refused"):
        print(f"{applied['refused']} decision line(s) refused: see the reconciliation artifact")
    if ask_finance and exceptions:
        applied = _ask_finance(db, len(exceptions), wait_minutes, lang)
        stats, exceptions = run(db)
        _publish(stats, exceptions, applied, lang)
        if applied and applied.get("refused"):
            print(f"{applied['refused']} decision line(s) refused: see the reconciliation artifact")
    stats["decisions_refused"] = (applied or {}).get("refused", 0)
    return stats
