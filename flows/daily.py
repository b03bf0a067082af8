"""o2c-daily: the day's run as one tree in the UI: ERP exports, bank inbox, reconcile, aging.

Dunning joins this tree when its issue lands.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from prefect import flow

from o2c.flows.aging import aging_flow
from o2c.flows.ingest_bank_statement import ingest_bank_statement
from o2c.flows.ingest_customers import ingest_customers
from o2c.flows.ingest_invoices import ingest_invoices
from o2c.flows.reconcile import reconcile
from o2c.flows.run_names import daily_name
from o2c.orchestration import markdown_artifact
from o2c.tasks.bank import inbox
from o2c.tasks.common.escaping import md_code


@flow(name="o2c-daily", flow_run_name=daily_name("o2c-daily"), log_prints=True)
def o2c_daily(
    db: str | None = None,
    customers: str | None = None,
    invoices: str | None = None,
    bank_inbox: str | None = None,
    as_of: date | None = None,
) -> dict:
    """Each step is a subflow with its own artifacts; a rejected bank file does not stop the day.

    A step is (step, file name or None, outcome): file names are outside text, shown in the
    artifact as escaped code spans and returned as they are.

    Args:
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
        customers: The ERP customer master export to load first; empty: none today.
        invoices: The ERP invoice export to load; empty: none today.
        bank_inbox: The bank inbox folder whose waiting statement files are loaded.
        as_of: The day aging is computed at; empty: today.
    """
    done: list[tuple[str, str | None, str]] = []
    if customers:
        ingest_customers(customers, db=db)
        done.append(("customers", Path(customers).name, ""))
    if invoices:
        ingest_invoices(invoices, db=db)
        done.append(("invoices", Path(invoices).name, ""))
    rejected = []
    if bank_inbox:
        for path in inbox.candidates(Path(bank_inbox)):
            state = ingest_bank_statement(str(path), db=db, archive=True, return_state=True)
            if state.is_failed():
                rejected.append(path.name)
            done.append(("bank statement", path.name, state.name))
    stats = reconcile(db=db)
    done.append(
        ("reconcile", None, f"{stats['settled']} settled, {stats['exceptions']} exceptions")
    )
    aged = aging_flow(db=db, as_of=as_of)
    done.append(("aging", None, f"{aged['open_items']} open items as of {aged['as_of']}"))
    steps = [(step, _outcome(file, outcome, str)) for step, file, outcome in done]
    lines = ["# o2c daily run", "", "| step | outcome |", "|---|---|"]
    lines += [
        f"| {step} | {_outcome(file, outcome, lambda name: md_code(name, cell=True))} |"
        for step, file, outcome in done
    ]
    if rejected:
        lines += ["", f"**{len(rejected)} bank file(s) rejected**: see `rejected/` in the inbox."]
    markdown_artifact("o2c-daily", "\n".join(lines) + "\n", "Last daily run")
    return {"steps": steps, "rejected": rejected, "reconcile": stats, "aging": aged}


def _outcome(file: str | None, outcome: str, show: Callable[[str], str]) -> str:
    """`file: outcome`, either part left out when empty, the file name shown by `show`."""
    return ": ".join(part for part in (file and show(file), outcome) if part)
