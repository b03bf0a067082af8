"""The push-erp flow and `o2c push erp` against the REST and webhook twins: the finance artifact
in French with formatted amounts, a refusal failing the run with its reason, the webhook secret
from a Prefect Secret block, and the command's one line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from o2c.cli import app
from o2c.flows.ingest_erp import ingest_erp
from o2c.flows.push_erp import PushFailed, push_erp
from o2c.twins.erp_webhook import ErpWebhookTwin
from o2c.twins.erp_webhook import Fault as HookFault
from o2c.twins.rest_erp import RestErpTwin
from tests.prefect_artifacts import latest_artifact
from tests.tasks.erp.sources.rest_mapping import customer, mapping_data, write_mapping
from tests.tasks.erp.sources.test_push import allocate

runner = CliRunner()


@pytest.fixture
def erp(tmp_path, monkeypatch):
    """The REST twin with two invoices, the webhook twin, the mapping erp_sources/acme.yaml."""
    with RestErpTwin() as twin, ErpWebhookTwin() as hook:
        customer(twin, invoices=2)
        folder = tmp_path / "erp_sources"
        folder.mkdir()
        path = write_mapping(folder, mapping_data(twin, push_url=hook.url), name="acme")
        for name, value in {
            "O2C_ERP_SOURCES_DIR": str(folder),
            "O2C_TEST_REST_TOKEN": twin.secret,
            "O2C_TEST_WEBHOOK_SECRET": hook.secret,
            "O2C_WAREHOUSE_SLOT": "off",
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("O2C_LANGUAGE", raising=False)
        yield path, twin, hook


@pytest.mark.usefixtures("prefect_api")
def test_the_flow_pushes_and_tells_finance_in_french(erp, tmp_path):
    path, twin, hook = erp
    db = str(tmp_path / "o2c.duckdb")
    ingest_erp(str(path), db=db)
    assert "rest\\-acme" in latest_artifact("erp-rest-acme-pull").data
    allocate(db, "F-0000", "1200.50", "A-1")
    report = push_erp("rest:acme", db=db)
    assert report.count("pushed") == 1 and list(hook.payments) == ["A-1"]
    body = latest_artifact("erp-rest-acme-push").data
    assert "Paiements transmis à l'ERP" in body and "| Transmis | Déjà dans l'ERP |" in body
    assert "| 1 | 0 | 0 |" in body
    assert "1\u202f200,50\u00a0EUR" in body
    assert hook.secret not in body and twin.secret not in body

    allocate(db, "F-0001", "10.00", "A-2")
    hook.inject(HookFault(status=422))
    with pytest.raises(PushFailed, match="0 pushed, 0 already there, 1 failed"):
        push_erp("rest:acme", db=db)
    failed = latest_artifact("erp-rest-acme-push").data
    assert "En échec" in failed and "answered 422" in failed and "F\\-0001" in failed


@pytest.mark.usefixtures("prefect_api")
def test_the_webhook_secret_from_a_prefect_secret_block(erp, tmp_path, monkeypatch):
    from prefect.blocks.system import Secret

    path, twin, hook = erp
    data = mapping_data(twin, push_url=hook.url)
    data["push"] |= {"secret_block": "acme-webhook-secret-test"}
    write_mapping(path.parent, data, name="acme")
    Secret(value=hook.secret).save("acme-webhook-secret-test", overwrite=True)
    monkeypatch.delenv("O2C_TEST_WEBHOOK_SECRET")
    db = str(tmp_path / "o2c.duckdb")
    ingest_erp("rest:acme", db=db)
    allocate(db, "F-0000", "5.00", "A-1")
    assert push_erp("rest:acme", db=db).count("pushed") == 1
    assert hook.requests[0].signed


@pytest.fixture
def shell(monkeypatch):
    monkeypatch.setenv("O2C_PREFECT_SERVER", "ephemeral")


@pytest.mark.usefixtures("shell")
def test_from_the_shell(erp, tmp_path):
    hook = erp[2]
    db = str(tmp_path / "o2c.duckdb")
    pulled = runner.invoke(app, ["--db", db, "ingest", "erp", "rest:acme"])
    assert pulled.exit_code == 0, pulled.output
    assert "invoices: 2 pulled, 2 new" in pulled.output
    allocate(db, "F-0001", "200.00", "A-7")
    pushed = runner.invoke(app, ["--db", db, "push", "erp", "rest:acme"])
    assert pushed.exit_code == 0, pushed.output
    assert "rest-acme: 1 pushed, 0 already there, 0 failed" in pushed.output
    assert list(hook.payments) == ["A-7"]
    unknown = runner.invoke(app, ["--db", db, "push", "erp", "sap"])
    assert unknown.exit_code == 1 and "unknown ERP source 'sap'" in unknown.output
