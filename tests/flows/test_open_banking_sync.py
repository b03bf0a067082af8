"""open-banking-sync against the local Bridge fake: rows in, cursor kept, secret never published."""

from __future__ import annotations

import inspect
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from prefect.blocks.system import Secret

from o2c.flows.open_banking_sync import open_banking_sync
from o2c.models.settings_bridge import BridgeSecretMissing
from o2c.tasks.connectors.bridge import TOKEN_PATH, TRANSACTIONS_PATH
from o2c.tasks.connectors.http import ConnectorError
from o2c.warehouse import connect
from tests.fakes.bridge_server import BridgeFake, Fault
from tests.prefect_artifacts import latest_artifact

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
    assert "Synchronisation Open Banking" in artifact
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


def _env(monkeypatch, fake: BridgeFake, **extra: str) -> None:
    values = {
        "BASE_URL": fake.url,
        "CLIENT_ID": fake.client_id,
        "CLIENT_SECRET": fake.client_secret,
        "USER_UUID": fake.user_uuid,
        "BACKOFF_BASE_S": "0.001",
        **extra,
    }
    for key, value in values.items():
        monkeypatch.setenv(f"O2C_BRIDGE_{key}", value)


_TAKE_WRITER = """
import sys, duckdb
from o2c.locking import warehouse_lock
with warehouse_lock(sys.argv[1], exclusive=True, timeout_s=1):
    duckdb.connect(sys.argv[1]).close()
print("free")
"""


def test_no_lock_nor_connection_is_held_while_bridge_answers(
    tmp_path: Path, bridge_server: BridgeFake, monkeypatch
):
    """Another process takes the writer lock and opens the file while a request is in flight."""
    _env(monkeypatch, bridge_server, TIMEOUT_S="20")
    bridge_server.add_account(1, IBAN)
    bridge_server.add_transaction(1, "10.00", "2026-11-20", updated_at="2026-11-20T10:00:00Z")
    db = tmp_path / "o2c.duckdb"
    with connect(db):
        pass  # an existing, migrated warehouse: cursors are read from it
    bridge_server.inject(Fault(path=TRANSACTIONS_PATH, delay_s=4.0))
    seen: dict[str, object] = {}

    def other_writer() -> None:
        deadline = time.monotonic() + 15
        while not bridge_server.calls(TRANSACTIONS_PATH) and time.monotonic() < deadline:
            time.sleep(0.02)
        seen["in_flight"] = bool(bridge_server.calls(TRANSACTIONS_PATH))
        seen["run"] = subprocess.run(
            [sys.executable, "-c", _TAKE_WRITER, str(db)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        seen["still_in_flight"] = bridge_server.calls(TRANSACTIONS_PATH)[0].status == 0

    probe = threading.Thread(target=other_writer)
    probe.start()
    summary = open_banking_sync(db=str(db))
    probe.join()

    run = seen["run"]
    assert seen["in_flight"] and seen["still_in_flight"]
    assert run.returncode == 0 and "free" in run.stdout, run.stderr
    assert summary["loaded"] == 1


def test_the_three_tasks_and_only_fetch_retries():
    """fetch is the one retried task; stage and write never retry (structural)."""
    from o2c.flows import open_banking_sync as module

    assert module.fetch.retries == 2 and module.fetch.retry_condition_fn is not None
    assert module.stage.retries == 0 and module.write.retries == 0
    source = inspect.getsource(module.fetch.fn)
    assert "warehouse_writer" not in source and "connect(" not in source


def test_bad_credentials_fail_once_fast_and_say_not_retried(
    tmp_path: Path, bridge_server: BridgeFake, monkeypatch
):
    _env(monkeypatch, bridge_server, CLIENT_SECRET="wrong-secret-value-1")  # 60 s task retries
    bridge_server.add_account(1, IBAN)
    started = time.monotonic()
    with pytest.raises(ConnectorError, match=r"answered 401.*not retried") as caught:
        open_banking_sync(db=str(tmp_path / "o2c.duckdb"))
    assert time.monotonic() - started < 15  # no 60 s task retry
    assert caught.value.retryable is False and caught.value.attempts == 1
    assert len(bridge_server.calls(TOKEN_PATH)) == 1
    assert "wrong-secret-value-1" not in str(caught.value)


def test_a_retryable_failure_is_retried_by_the_fetch_task(
    tmp_path: Path, bridge_server: BridgeFake, monkeypatch
):
    _env(monkeypatch, bridge_server, MAX_RETRIES="0", RUN_RETRIES="1", RUN_RETRY_DELAY_S="0")
    bridge_server.add_account(1, IBAN)
    bridge_server.add_transaction(1, "10.00", "2026-11-20", updated_at="2026-11-20T10:00:00Z")
    bridge_server.inject(Fault(path=TOKEN_PATH, status=503))
    assert open_banking_sync(db=str(tmp_path / "o2c.duckdb"))["loaded"] == 1
    assert [c.status for c in bridge_server.calls(TOKEN_PATH)] == [503, 200]
