"""The demo company on disk, laid out as a real user's would be: ERP exports beside a bank inbox.

One camt.053 file per bank account holds all its monthly statements, as a bank's download of
the year would; the ground truth (which invoice each payment settles) sits beside them for the
accuracy benchmark and never reaches the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from o2c.tasks.demo.camt_writer import write_camt053
from o2c.tasks.demo.company import (
    DemoCompany,
    build_statements,
    write_customers_csv,
    write_ground_truth,
    write_invoices_csv,
)


@dataclass(frozen=True)
class DemoFiles:
    customers: Path
    invoices: Path
    ground_truth: Path
    bank_inbox: Path


def write_bank_inbox(company: DemoCompany, inbox: Path, *, seed: int) -> list[Path]:
    """One camt.053 file per account, its months as statements, named by currency and IBAN end."""
    inbox.mkdir(parents=True, exist_ok=True)
    ordered = sorted(build_statements(company), key=lambda s: (s.account_iban, s.from_date))
    paths = []
    for iban, statements in groupby(ordered, key=lambda s: s.account_iban):
        batch = list(statements)
        path = inbox / f"camt053_{batch[0].currency}_{iban[-6:]}.xml"
        write_camt053(path, batch, message_id=f"DEMO-{seed}-{iban[-10:]}")
        paths.append(path)
    return paths


def write_demo_files(company: DemoCompany, folder: Path, *, seed: int) -> DemoFiles:
    """ERP exports, ground truth and the bank inbox of one demo company under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(
        customers=write_customers_csv(company, folder / "customers.csv"),
        invoices=write_invoices_csv(company, folder / "invoices.csv"),
        ground_truth=write_ground_truth(company, folder / "ground_truth.parquet"),
        bank_inbox=folder / "inbox",
    )
    write_bank_inbox(company, files.bank_inbox, seed=seed)
    return files
