"""`o2c ingest erp odoo` and the ingest-erp flow against the Odoo twin: counts in the artifact,
a second run that brings nothing, an unknown source or a refused key as one line, no secret."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from o2c.cli import app
from o2c.flows.ingest_erp import ingest_erp
from o2c.twins.odoo import OdooTwin
from o2c.warehouse import connect
from tests.prefect_artifacts import latest_artifact
from tests.tasks.erp.sources.conftest import company

runner = CliRunner()


@pytest.fixture
def twin(monkeypatch):
    with OdooTwin() as running:
        for name, value in {
            "O2C_ODOO_URL": running.url,
            "O2C_ODOO_DB": running.db,
            "O2C_ODOO_LOGIN": running.login,
            "O2C_ODOO_API_KEY": running.api_key,
            "O2C_ODOO_PAGE_SIZE": "50",
            "O2C_WAREHOUSE_SLOT": "off",  # a throwaway warehouse: no `o2c init` limit
        }.items():
            monkeypatch.setenv(name, value)
        yield running


@pytest.mark.usefixtures("prefect_api")
def test_the_flow_publishes_pulled_new_changed_cancelled_quarantined(twin, tmp_path):
    partner = company(twin, invoices=3)
    twin.add_invoice(partner, "INV/2026/00050", "10", due="2025-01-01")  # quarantined
    db = str(tmp_path / "o2c.duckdb")
    ingest_erp("odoo", db=db)
    twin.cancel(twin.move_id("INV/2026/00001"))
    summary = ingest_erp("odoo", db=db)
    assert (summary.counts["invoices"].pulled, summary.counts["invoices"].cancelled) == (1, 1)
    body = latest_artifact("erp-odoo-pull").data  # in the company's language, French first
    assert body.startswith("# Import ERP\u00a0: odoo")
    assert "| Lignes | Reçues | Nouvelles | Modifiées | Annulées | En quarantaine |" in body
    assert "| Factures | 1 | 0 | 1 | 1 | 0 |" in body and "| Clients | 0 |" in body
    reasons = latest_artifact("erp-odoo-quarantine").data
    assert "due_date before issue_date" in reasons
    with connect(db) as con:
        runs = con.execute("SELECT DISTINCT flow_run_id FROM load_batches").fetchall()
    assert all(run for (run,) in runs)  # each load names the run that made it


@pytest.fixture
def shell(monkeypatch):
    monkeypatch.setenv("O2C_PREFECT_SERVER", "ephemeral")


@pytest.mark.usefixtures("shell")
def test_from_the_shell_twice_the_second_run_brings_nothing(twin, tmp_path):
    company(twin, invoices=2)
    args = ["--db", str(tmp_path / "o2c.duckdb"), "ingest", "erp", "odoo"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "invoices: 2 pulled, 2 new" in first.output
    second = runner.invoke(app, [*args, "--resync"])
    assert second.exit_code == 0, second.output
    assert "invoices: 2 pulled, 0 new, 0 changed" in second.output  # the resync re-read them


@pytest.mark.usefixtures("shell")
def test_a_refused_key_or_an_unknown_source_is_one_line_without_the_key(
    twin, tmp_path, monkeypatch
):
    monkeypatch.setenv("O2C_ODOO_API_KEY", "revoked-key-never-shown")
    args = ["--db", str(tmp_path / "o2c.duckdb"), "ingest", "erp"]
    refused = runner.invoke(app, [*args, "odoo"])
    assert refused.exit_code == 1
    assert "authentication refused" in refused.output
    assert "revoked-key-never-shown" not in refused.output
    unknown = runner.invoke(app, [*args, "sap"])
    assert unknown.exit_code == 1 and "unknown ERP source 'sap'" in unknown.output


@pytest.mark.usefixtures("prefect_api")
def test_the_api_key_from_a_prefect_secret_block(twin, tmp_path, monkeypatch):
    from prefect.blocks.system import Secret

    Secret(value=twin.api_key).save("odoo-api-key-test", overwrite=True)
    monkeypatch.delenv("O2C_ODOO_API_KEY")
    monkeypatch.setenv("O2C_ODOO_API_KEY_BLOCK", "odoo-api-key-test")
    company(twin, invoices=1)
    summary = ingest_erp("odoo", db=str(tmp_path / "o2c.duckdb"))
    assert summary.counts["invoices"].new == 1
    assert twin.api_key not in latest_artifact("erp-odoo-pull").data
