"""o2c-daily: the day's run as one tree in the UI: ERP exports, bank inbox, reconcile, aging.

Dunning joins this tree when its issue lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prefect import flow
from prefect.states import State
from prefect.utilities.urls import url_for

from o2c.flows.aging import aging_flow
from o2c.flows.ingest_bank_statement import ingest_bank_statement
from o2c.flows.ingest_customers import ingest_customers
from o2c.flows.ingest_invoices import ingest_invoices
from o2c.flows.reconcile import reconcile
from o2c.flows.run_names import daily_name
from o2c.models.status import LoadStatus
from o2c.orchestration import markdown_artifact
from o2c.tasks.bank import inbox
from o2c.tasks.common.escaping import md_code
from o2c.tasks.common.formatting import format_count, format_date
from o2c.tasks.erp.store import LoadResult


@dataclass(frozen=True)
class Step:
    """One subflow of the day: what it was, its file (outside text), its counts, its run."""

    step: str
    file: str | None
    outcome: str
    run_id: str | None = None

    def text(self) -> str:
        """`file: outcome` as returned (file name as it is), either part left out when empty."""
        return ": ".join(part for part in (self.file, self.outcome) if part)


def _run_id(state: State) -> str | None:
    run_id = state.state_details.flow_run_id if state.state_details else None
    return str(run_id) if run_id else None


def run_link(run_id: str | None) -> str | None:
    """The Prefect UI page of a run's artifacts; None when no UI serves the runs (ephemeral)."""
    if run_id is None:
        return None
    try:
        page = url_for("flow-run", obj_id=run_id)
    except ValueError:
        return None
    return f"{page}?tab=Artifacts" if page else None


def _load_counts(result: LoadResult) -> str:
    if result.status == LoadStatus.DUPLICATE_FILE:
        return "already loaded, nothing changed"
    return (
        f"{format_count(result.rows_in)} rows, {format_count(result.inserted)} new, "
        f"{format_count(result.updated)} updated, {format_count(result.quarantined)} quarantined"
    )


def _bank_counts(state: State) -> str:
    if state.is_failed():
        return "rejected: see rejected/ in the inbox"
    result = state.result()
    if result is None:
        return "handled by an earlier run"
    if result.status == LoadStatus.DUPLICATE_FILE:
        return "already loaded, nothing changed"
    return (
        f"{format_count(result.transactions_in)} transactions, {format_count(result.loaded)} "
        f"loaded, {format_count(result.duplicates)} already known"
    )


def daily_markdown(steps: list[Step], rejected: list[str], as_of: date | None) -> str:
    """The day's artifact: each step with its counts and a link to its run's artifacts."""
    day = f" of {format_date(as_of)}" if as_of else ""
    lines = [f"# o2c daily run{day}", "", "| step | outcome | artifacts |", "|---|---|---|"]
    for s in steps:
        shown = ": ".join(
            part for part in (s.file and md_code(s.file, cell=True), s.outcome) if part
        )
        link = run_link(s.run_id)
        lines.append(f"| {s.step} | {shown} | {f'[open]({link})' if link else '–'} |")
    if rejected:
        lines += ["", f"**{len(rejected)} bank file(s) rejected**: see `rejected/` in the inbox."]
    return "\n".join(lines) + "\n"


@flow(name="o2c-daily", flow_run_name=daily_name("o2c-daily"), log_prints=True)
def o2c_daily(
    db: str | None = None,
    customers: str | None = None,
    invoices: str | None = None,
    bank_inbox: str | None = None,
    as_of: date | None = None,
) -> dict:
    """Each step is a subflow with its own artifacts; a rejected bank file does not stop the day.

    The day's artifact lists each step with its counts and a link to the step's run page,
    where its artifacts are. File names are outside text: escaped code spans in the artifact,
    returned as they are.

    Args:
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
        customers: The ERP customer master export to load first; empty: none today.
        invoices: The ERP invoice export to load; empty: none today.
        bank_inbox: The bank inbox folder whose waiting statement files are loaded.
        as_of: The day aging is computed at; empty: today.
    """
    done: list[Step] = []
    for step, path, load in (
        ("customers", customers, ingest_customers),
        ("invoices", invoices, ingest_invoices),
    ):
        if path:
            state = load(path, db=db, return_state=True)
            done.append(Step(step, Path(path).name, _load_counts(state.result()), _run_id(state)))
    rejected = []
    if bank_inbox:
        for path in inbox.candidates(Path(bank_inbox)):
            state = ingest_bank_statement(str(path), db=db, archive=True, return_state=True)
            if state.is_failed():
                rejected.append(path.name)
            done.append(Step("bank statement", path.name, _bank_counts(state), _run_id(state)))
    state = reconcile(db=db, return_state=True)
    stats = state.result()
    outcome = f"{stats['settled']} settled, {stats['exceptions']} exceptions"
    done.append(Step("reconcile", None, outcome, _run_id(state)))
    state = aging_flow(db=db, as_of=as_of, return_state=True)
    aged = state.result()
    outcome = f"{aged['open_items']} open items as of {aged['as_of']}"
    done.append(Step("aging", None, outcome, _run_id(state)))
    markdown_artifact(
        "o2c-daily",
        daily_markdown(done, rejected, as_of or date.today()),
        f"Daily run of {format_date(as_of or date.today())}: {len(done)} steps",
    )
    steps = [(s.step, s.text()) for s in done]
    return {"steps": steps, "rejected": rejected, "reconcile": stats, "aging": aged}
