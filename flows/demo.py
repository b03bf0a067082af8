"""o2c-demo: a generated French company's receivables and bank side, run through o2c-daily.

It ends with the day's reminders as .eml files beside the warehouse (no SMTP server is needed)
and the dunning journal artifact: the demo approves every level (finance's form stands aside).
Its formal notices go to AR24's local twin, never to a real AR24 account a user may have set
(fictional customers must not receive registered letters), and their proofs come back by sync.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.daily import o2c_daily
from o2c.flows.ere_sync import ere_sync
from o2c.tasks.demo.company import DEMO_POLICY, DEMO_RATES, generate_company
from o2c.tasks.demo.files import DemoFiles, write_demo_files
from o2c.tasks.dunning.penalties import RATES_ENV
from o2c.tasks.dunning.policy import POLICY_ENV
from o2c.twins.ar24 import Ar24Twin, Behaviour


@task(name="generate-demo-company", cache_policy=NO_CACHE)
def generate_demo_files(invoices: int, seed: int, as_of: date, folder: Path) -> DemoFiles:
    """ERP exports and one camt.053 file per bank account (its months as statements) in an inbox."""
    company = generate_company(invoices=invoices, seed=seed, as_of=as_of)
    return write_demo_files(company, folder, seed=seed)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """These variables for the demo run, the previous values restored after."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def demo_dunning() -> Iterator[Ar24Twin]:
    """The demo's dunning world: AR24's local twin (O2C_AR24_* point at it, whatever the user
    set: fictional customers get no real registered letter); the demo's own policy, as a company
    arriving with a year of debts (every customer at the level reached), and its labelled rate
    row for a half-year the shipped table may not hold yet, unless the user named their own."""
    with Ar24Twin(default_behaviour=Behaviour("accept", after_days=0.0)) as twin:
        settings = twin.client_settings()
        values = {
            "O2C_AR24_BASE_URL": settings.base_url,
            "O2C_AR24_TOKEN": settings.token.get_secret_value(),
            "O2C_AR24_PRIVATE_KEY": settings.private_key.get_secret_value(),
            "O2C_AR24_ID_USER": str(settings.id_user),
            POLICY_ENV: os.environ.get(POLICY_ENV) or str(DEMO_POLICY),
            RATES_ENV: os.environ.get(RATES_ENV) or str(DEMO_RATES),
        }
        with _environment(values):
            yield twin


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
    with demo_dunning() as twin:
        result = o2c_daily(
            db=db,
            customers=str(files.customers),
            invoices=str(files.invoices),
            bank_inbox=str(files.bank_inbox),
            as_of=as_of,
            dunning_approve_all=True,
        )
        twin.advance(1)
        synced = ere_sync(db=db, as_of=as_of)
    result["steps"].append(
        ("ere-sync", f"{synced['read']} lettre(s) lue(s), {synced['proofs']} preuve(s)")
    )
    return result
