"""o2c-daily: the day's run as one tree in the UI: ERP exports, bank inbox, reconcile, aging.

Dunning joins this tree when its issue lands.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow

from o2c.flows.aging import aging_flow
from o2c.flows.ingest_bank_statement import ingest_bank_statement
from o2c.flows.ingest_customers import ingest_customers
from o2c.flows.ingest_invoices import ingest_invoices
from o2c.flows.reconcile import reconcile
from o2c.orchestration import markdown_artifact
from o2c.tasks.bank import inbox
from o2c.tasks.common.escaping import md_code


@flow(name="o2c-daily", log_prints=True)
def o2c_daily(
    db: str | None = None,
    customers: str | None = None,
    invoices: str | None = None,
    bank_inbox: str | None = None,
    as_of: date | None = None,
) -> dict:
    """Each step is a subflow with its own artifacts; a rejected bank file does not stop the day.

    File names are outside text: the artifact shows them as escaped code spans (`shown`), the
    returned steps keep them as they are.
    """
    steps: list[tuple[str, str]] = []
    shown: list[str] = []  # each step's outcome as Markdown, in the order of `steps`
    if customers:
        ingest_customers(customers, db=db)
        steps.append(("customers", Path(customers).name))
        shown.append(md_code(Path(customers).name, cell=True))
    if invoices:
        ingest_invoices(invoices, db=db)
        steps.append(("invoices", Path(invoices).name))
        shown.append(md_code(Path(invoices).name, cell=True))
    rejected = []
    if bank_inbox:
        for path in inbox.candidates(Path(bank_inbox)):
            state = ingest_bank_statement(str(path), db=db, archive=True, return_state=True)
            if state.is_failed():
                rejected.append(path.name)
            steps.append(("bank statement", f"{path.name}: {state.name}"))
            shown.append(f"{md_code(path.name, cell=True)}: {state.name}")
    stats = reconcile(db=db)
    steps.append(("reconcile", f"{stats['settled']} settled, {stats['exceptions']} exceptions"))
    shown.append(steps[-1][1])
    aged = aging_flow(db=db, as_of=as_of)
    steps.append(("aging", f"{aged['open_items']} open items as of {aged['as_of']}"))
    shown.append(steps[-1][1])
    lines = ["# o2c daily run", "", "| step | outcome |", "|---|---|"]
    lines += [f"| {step} | {outcome} |" for (step, _), outcome in zip(steps, shown, strict=True)]
    if rejected:
        lines += ["", f"**{len(rejected)} bank file(s) rejected**: see `rejected/` in the inbox."]
    markdown_artifact("o2c-daily", "\n".join(lines) + "\n", "Last daily run")
    return {"steps": steps, "rejected": rejected, "reconcile": stats, "aging": aged}
