"""A REST source mapping for the local REST twin, written as a YAML file the way a data
engineer writes one (so every test goes through the file's parsing and checks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from o2c.models.erp_rest import RestSourceMapping, load_mapping
from o2c.twins.rest_erp import RestErpTwin

IBAN = "FR7630006000011234567890189"


def mapping_data(
    twin: RestErpTwin,
    *,
    style: str | None = None,
    page_size: int = 3,
    push_url: str | None = None,
    batch_size: int = 2,
) -> dict[str, Any]:
    style = style or twin.pagination
    auth: dict[str, Any] = {"kind": twin.auth, "secret_env": "O2C_TEST_REST_TOKEN"}
    if twin.auth == "basic":
        auth["username"] = twin.username
    data: dict[str, Any] = {
        "base_url": twin.url,
        "timeout_s": 2,
        "max_retries": 2,
        "requests_per_second": 0,
        "auth": auth,
        "pagination": {
            "style": style,
            "page_size": page_size,
            "next_cursor": "meta.next_cursor",
        },
        "customers": {
            "path": "/customers",
            "items": "" if style == "link" else "data",
            "fields": {
                "customer_id": "id",
                "name": "name",
                "email": "email",
                "vat_number": "vat",
                "iban": "iban",
                "language": "language",
                "city": "address.city",
                "country": "address.country",
            },
        },
        "invoices": {
            "path": "/invoices",
            "items": "" if style == "link" else "data",
            "fields": {
                "invoice_id": "number",
                "customer_id": "customer.id",
                "customer_name": "customer.name",
                "issue_date": "issued_on",
                "due_date": "due_on",
                "currency": "currency",
                "amount_total": "total",
                "amount_paid": "paid",
                "status": "status",
            },
            "values": {"status": {"void": "cancelled", "open": "not_paid"}},
        },
    }
    if push_url:
        data["push"] = {
            "url": push_url,
            "batch_size": batch_size,
            "timeout_s": 1,
            "max_retries": 2,
            "secret_env": "O2C_TEST_WEBHOOK_SECRET",
        }
    return data


def write_mapping(folder: Path, data: dict[str, Any], name: str = "acme") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def mapping(twin: RestErpTwin, folder: Path, **options: Any) -> RestSourceMapping:
    return load_mapping(write_mapping(folder, mapping_data(twin, **options)))


def customer(twin: RestErpTwin, invoices: int = 0) -> int:
    """A French customer with `invoices` invoices of 1200.50 EUR named F-0000, F-0001 ..."""
    cid = twin.add_customer(
        "Dupont SARL",
        email="Compta@Dupont.fr",
        vat="FR44732829320",
        iban=IBAN,
        language="fr",
        address={"city": "Paris", "country": "FR"},
    )
    for i in range(invoices):
        twin.add_invoice(cid, f"F-{i:04d}", "1200.50")
    return cid
