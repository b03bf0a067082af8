"""The Odoo twin on loopback, a client that never sleeps between retries, a warehouse file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from o2c.models.settings_odoo import OdooSettings
from o2c.tasks.connectors.odoo import OdooClient
from o2c.tasks.erp.sources.odoo import OdooSource
from o2c.twins.odoo import OdooTwin
from o2c.warehouse import connect

SIRET = "732 829 320 00074"  # SIREN 732829320 passes its Luhn check
IBAN = "FR7630006000011234567890189"


@pytest.fixture
def twin() -> Iterator[OdooTwin]:
    with OdooTwin() as running:
        yield running


def company(twin: OdooTwin, invoices: int = 0, **values) -> int:
    """A French customer with `invoices` invoices of 1200.50 EUR named INV/2026/00000 ..."""
    details = {
        "vat": "FR44732829320",
        "company_registry": SIRET,
        "email": "Compta@Dupont.fr",
        "lang": "fr_FR",
        "iban": IBAN,
        "street": "1 rue de la Paix",
        "zip": "75002",
        "city": "Paris",
        "country_code": "FR",
        **values,
    }
    partner = twin.add_partner(details.pop("name", "Dupont SARL"), **details)
    for i in range(invoices):
        twin.add_invoice(partner, f"INV/2026/{i:05d}", "1200.50")
    return partner


@pytest.fixture
def settings(twin: OdooTwin) -> Callable[..., OdooSettings]:
    def make(**values) -> OdooSettings:
        base = {
            "url": twin.url,
            "db": twin.db,
            "login": twin.login,
            "api_key": twin.api_key,
            "page_size": 3,
            "timeout_s": 2.0,
            "requests_per_second": 0,
        }
        return OdooSettings(**(base | values))

    return make


@pytest.fixture
def client(settings) -> Callable[..., OdooClient]:
    made: list[OdooClient] = []

    def make(**values) -> OdooClient:
        made.append(OdooClient(settings(**values), sleep=lambda s: None))
        return made[-1]

    yield make
    for c in made:
        c.close()


@pytest.fixture
def source(client) -> Callable[..., OdooSource]:
    return lambda **values: OdooSource(client(**values))


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "o2c.duckdb")


@pytest.fixture
def writer(db: str):
    return lambda: connect(db)
