"""The ingest flows as Prefect runs them: artifacts under stable keys, Failed when nothing loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from o2c.flows.ingest_customers import ingest_customers
from o2c.flows.ingest_invoices import ingest_invoices
from tests.erp_exports import BAD, GOOD, write_export
from tests.prefect_artifacts import latest_artifact

pytestmark = pytest.mark.usefixtures("prefect_api")


def test_summary_and_quarantine_artifacts(tmp_path: Path):
    export = write_export(tmp_path / "export.csv", [*GOOD, BAD["FA-10"], BAD["FA-12"]])
    result = ingest_invoices(str(export), db=str(tmp_path / "o2c.duckdb"))
    assert (result.inserted, result.quarantined) == (5, 2)
    summary = latest_artifact("invoice-ingestion").data
    assert "| new | 5 |" in summary and "| quarantined | 2 |" in summary
    assert "| due_date before issue_date | 1 |" in summary
    reasons = latest_artifact("invoice-quarantine").data
    assert "currency is not an ISO 4217 code" in reasons


def test_a_file_where_every_row_fails_ends_the_run_failed(tmp_path: Path):
    export = write_export(tmp_path / "bad.csv", [BAD["FA-10"], BAD["FA-12"]])
    state = ingest_invoices(str(export), db=str(tmp_path / "o2c.duckdb"), return_state=True)
    assert state.is_failed()
    assert "bad.csv: all 2 rows failed validation" in state.message


def test_customer_master_load(tmp_path: Path):
    path = tmp_path / "customers.csv"
    path.write_text(
        "customer_id;name;iban;siren;language;email\n"
        "C1;Dupont SARL;FR7630006000011234567890189;732829320;fr;compta@dupont.fr\n"
        "C2;Martin SAS;;552100555;fr;\n"
        "C3;Smith Ltd;;;en;not-an-email\n"
    )
    result = ingest_customers(str(path), db=str(tmp_path / "o2c.duckdb"))
    assert (result.inserted, result.quarantined) == (1, 2)
    assert result.failures_by_reason == {
        "siren fails its check digit": 1,
        "email is not an email address": 1,
    }
