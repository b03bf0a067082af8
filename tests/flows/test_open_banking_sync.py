"""open-banking-sync against the local Bridge fake: rows in, cursor kept, secret never published."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from prefect.blocks.system import Secret

from o2c.flows.open_banking_sync import open_banking_sync
from o2c.models.settings_bridge import BridgeSecretMissing
from o2c.warehouse import connect
from tests.fakes.bridge_server import BridgeFake
from tests.flows.test_ingest_invoices import latest_artifact

pytestmark = pytest.mark.usefixtures("prefect_api")
IBAN = "FR7630003012340123456789057"


def test_sync_loads_new_transactions_and_a_rerun_adds_nothing(
    tmp_path: Path,
    bridge_server: BridgeFake,
    monkeypatch,
):
    for key, value in {
        "BASE_URL": bridge_server.url,
        "CLIENT_ID": bridge_server.client_id,
        "CLIENT_SECRET": bridge_server.client_secret,
        "USER_UUID": bridge_server.user_uuid,
        "BACKOFF_BASE_S": "0.001",
    }.items():
        monkeypatch.setenv(f"O2C_BRIDGE_{key}", value)
    bridge_server.add_account(1, IBAN)
    bridge_server.add_transaction(1, "1250.40", "2026-11-20", updated_at="2026-11-20T10:00:00Z",
                                  label="VIR SEPA DUPONT SARL FA2026-000123")  # fmt: skip
    bridge_server.add_transaction(1, "-49.90", "2026-11-21", updated_at="2026-11-21T10:00:00Z")
    db = tmp_path / "o2c.duckdb"

    first = open_banking_sync(db=str(db))
    second = open_banking_sync(db=str(db))

    assert first["loaded"] == 2
    assert second["loaded"] == 0
    with connect(db, read_only=True) as con:
        rows = con.execute(
            "SELECT account_iban, amount, source FROM bank_transactions ORDER BY amount"
        ).fetchall()
        cursors = con.execute("SELECT count(*) FROM open_banking_cursors").fetchall()[0][0]
    assert rows == [
        (IBAN, Decimal("-49.90"), "open_banking"),
        (IBAN, Decimal("1250.40"), "open_banking"),
    ]
    assert cursors == 1
    artifact = latest_artifact("open-banking-sync").data
    assert "Open Banking sync" in artifact
    assert bridge_server.client_secret not in artifact


def test_the_client_secret_can_live_in_a_prefect_secret_block(
    tmp_path: Path, bridge_server: BridgeFake, monkeypatch
):
    for key, value in {
        "BASE_URL": bridge_server.url,
        "CLIENT_ID": bridge_server.client_id,
        "USER_UUID": bridge_server.user_uuid,
        "SECRET_BLOCK": "bridge-test-secret",
    }.items():
        monkeypatch.setenv(f"O2C_BRIDGE_{key}", value)
    monkeypatch.delenv("O2C_BRIDGE_CLIENT_SECRET", raising=False)
    bridge_server.add_account(1, IBAN)
    bridge_server.add_transaction(1, "80.00", "2026-11-20", updated_at="2026-11-20T10:00:00Z")
    db = tmp_path / "o2c.duckdb"

    with pytest.raises(BridgeSecretMissing, match="'bridge-test-secret'"):
        open_banking_sync(db=str(db))
    Secret(value=bridge_server.client_secret).save("bridge-test-secret", overwrite=True)
    assert open_banking_sync(db=str(db))["loaded"] == 1
    assert bridge_server.client_secret not in latest_artifact("open-banking-sync").data
