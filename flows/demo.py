"""o2c-demo: a generated French company's receivables and bank side, run through o2c-daily.

It ends with the day's reminders as .eml files beside the warehouse (no SMTP server is needed)
and the dunning journal artifact: the demo approves every level (finance's form stands aside).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.daily import o2c_daily
from o2c.tasks.demo.company import generate_company
from o2c.tasks.demo.files import DemoFiles, write_demo_files


@task(name="generate-demo-company", cache_policy=NO_CACHE)
def generate_demo_files(invoices: int, seed: int, as_of: date, folder: Path) -> DemoFiles:
    """ERP exports and one camt.053 file per bank account (its months as statements) in an inbox."""
    company = generate_company(invoices=invoices, seed=seed, as_of=as_of)
    return write_demo_files(company, folder, seed=seed)


@flow(name="o2c-demo", log_prints=True)
def o2c_demo(
    db: str | None = None,
    invoices: int = 2_000,
    seed: int = 42,
    folder: str = "data/demo",
    as_of: date | None = None,
) -> dict:
    """Write the demo company's files, then run the day on them as a user's inbox would."""
    as_of = as_of or date.today()
    files = generate_demo_files(invoices, seed, as_of, Path(folder))
    print(f"demo company written to {folder}: {invoices} invoices, seed {seed}")
    return o2c_daily(
        db=db,
        customers=str(files.customers),
        invoices=str(files.invoices),
        bank_inbox=str(files.bank_inbox),
        as_of=as_of,
        dunning_approve_all=True,
    )
