"""The demo's customer master carries what dunning needs, and loads through the real loader:
terms read back as the invoices' due dates use them, contacts by role, a few consumers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from o2c.tasks.demo.company import (
    INVOICE_EXPORT_COLUMNS,
    generate_company,
    write_customers_csv,
)
from o2c.tasks.dunning.customers import dunning_contacts
from o2c.tasks.erp.ingest import ingest_customer_file
from o2c.warehouse import connect

AS_OF = date(2026, 11, 20)


def test_the_demo_master_loads_with_its_dunning_data(tmp_path: Path):
    company = generate_company(invoices=2_000, seed=42, as_of=AS_OF)
    path = write_customers_csv(company, tmp_path / "customers.csv")
    with connect(tmp_path / "o2c.duckdb") as con:
        result = ingest_customer_file(con, path)
        stored = pl.DataFrame(
            con.execute(
                "SELECT customer_id, payment_terms_days, payment_terms_end_of_month,"
                " customer_kind, lre_consent_date FROM customers ORDER BY 1"
            ).fetchall(),
            schema=["customer_id", "days", "eom", "kind", "consent"],
            orient="row",
        )
        contacts = dunning_contacts(con)
    assert result.quarantined == 0 and result.inserted == company.customers.height
    # the terms as written read back as the codes the invoices' due dates were computed with
    terms = company.customers.select("customer_id", "payment_terms").join(stored, on="customer_id")
    expected = {"net30": (30, False), "eom45": (45, True), "net60": (60, False)}
    assert all(
        (days, eom) == expected[code]
        for code, days, eom in terms.select("payment_terms", "days", "eom").iter_rows()
    )
    # a few consumers, those without consent loaded with a warning (not quarantined)
    consumers = stored.filter(pl.col("kind") == "consumer")
    assert 0 < consumers.height < stored.height // 5
    without_consent = consumers.filter(pl.col("consent").is_null()).height
    assert result.warned == without_consent
    # every customer has someone to write to, accounting first
    first = contacts["emails"].list.first()
    assert contacts["emails"].list.len().min() >= 1
    assert (first == company.customers.sort("customer_id")["email"]).all()
    assert (contacts["segment"] == "key_accounts").sum() > 0
    # the invoice export leaves all this to the master
    assert not {"customer_kind", "customer_payment_terms"} & set(INVOICE_EXPORT_COLUMNS)
