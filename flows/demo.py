"""o2c-demo: a generated French company's receivables and bank side, run through o2c-daily."""

from __future__ import annotations

from datetime import date
from itertools import groupby
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.daily import o2c_daily
from o2c.tasks.demo import company as demo
from o2c.tasks.demo.camt_writer import write_camt053


@task(name="generate-demo-company", cache_policy=NO_CACHE)
def write_demo_files(invoices: int, seed: int, as_of: date, folder: Path) -> dict[str, str]:
    """ERP exports and one camt.053 file per bank account (its months as statements) in an inbox."""
    company = demo.generate_company(invoices=invoices, seed=seed, as_of=as_of)
    folder.mkdir(parents=True, exist_ok=True)
    bank_inbox = folder / "inbox"
    bank_inbox.mkdir(exist_ok=True)
    paths = {
        "customers": str(demo.write_customers_csv(company, folder / "customers.csv")),
        "invoices": str(demo.write_invoices_csv(company, folder / "invoices.csv")),
        "ground_truth": str(demo.write_ground_truth(company, folder / "ground_truth.parquet")),
        "bank_inbox": str(bank_inbox),
    }
    by_account = groupby(
        sorted(demo.build_statements(company), key=lambda s: (s.account_iban, s.from_date)),
        key=lambda s: s.account_iban,
    )
    for iban, statements in by_account:
        batch = list(statements)
        write_camt053(
            bank_inbox / f"camt053_{batch[0].currency}_{iban[-6:]}.xml",
            batch,
            message_id=f"DEMO-{seed}-{iban[-10:]}",
        )
    return paths


@flow(name="o2c-demo", log_prints=True)
def o2c_demo(
    db: str | None = None,
    invoices: int = 2_000,
    seed: int = 42,
    folder: str = "data/demo",
    as_of: date | None = None,
) -> dict:
    as_of = as_of or date.today()
    files = write_demo_files(invoices, seed, as_of, Path(folder))
    print(f"demo company written to {folder}: {invoices} invoices, seed {seed}")
    return o2c_daily(
        db=db,
        customers=files["customers"],
        invoices=files["invoices"],
        bank_inbox=files["bank_inbox"],
        as_of=as_of,
    )
