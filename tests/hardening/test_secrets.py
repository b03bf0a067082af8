"""Issue 14: the Bridge client secret never leaves its SecretStr, whatever fails.

Every failure mode is driven through the real open-banking-sync flow on the session's Prefect
test server; then the secret is looked for everywhere it could land: the exception, the
terminal (stdout/stderr at the file-descriptor level), the log records, the warehouse's text
columns, and the Prefect database's log, state and artifact rows.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from prefect.blocks.system import Secret
from prefect.logging.handlers import APILogHandler
from prefect.settings import get_current_settings

from o2c.flows.open_banking_sync import open_banking_sync
from o2c.tasks.connectors.bridge import TOKEN_PATH, TRANSACTIONS_PATH
from tests.fakes.bridge_server import BridgeFake, Fault
from tests.tasks.bank.conftest_bridge import bridge_server  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("prefect_api")
SECRET = "S3CRET-bridge-Zq8xV2kLw9"  # recognisable, found by substring anywhere
IBAN = "FR7630003012340123456789057"
ECHO = {"type": "echo", "message": f"client_secret {SECRET} rejected"}


def _env(monkeypatch: pytest.MonkeyPatch, fake: BridgeFake, **extra: str | None) -> None:
    values: dict[str, str | None] = {
        "BASE_URL": fake.url,
        "CLIENT_ID": fake.client_id,
        "CLIENT_SECRET": SECRET,
        "USER_UUID": fake.user_uuid,
        "BACKOFF_BASE_S": "0.001",
        "MAX_RETRIES": "1",
        "RUN_RETRIES": "1",
        "RUN_RETRY_DELAY_S": "0",
        "TIMEOUT_S": "0.3",
        **extra,
    }
    for key, value in values.items():
        if value is None:
            monkeypatch.delenv(f"O2C_BRIDGE_{key}", raising=False)
        else:
            monkeypatch.setenv(f"O2C_BRIDGE_{key}", value)


def _missing_client_id(mp: pytest.MonkeyPatch, fake: BridgeFake) -> None:
    _env(mp, fake, CLIENT_ID=None)


def _invalid_base_url(mp: pytest.MonkeyPatch, fake: BridgeFake) -> None:
    _env(mp, fake, BASE_URL=f"ftp://{SECRET}@")


def _settings_error(mp: pytest.MonkeyPatch, fake: BridgeFake) -> None:
    _env(mp, fake, TIMEOUT_S="soon", EXTERNAL_USER_ID="also-set")


def _unauthorized(mp: pytest.MonkeyPatch, fake: BridgeFake) -> None:
    _env(mp, fake)
    fake.inject(Fault(path=TOKEN_PATH, status=401, body=ECHO))


def _server_errors(mp: pytest.MonkeyPatch, fake: BridgeFake) -> None:
    _env(mp, fake)
    fake.inject(*[Fault(path=TRANSACTIONS_PATH, status=500, body=ECHO)] * 4)


def _timeouts(mp: pytest.MonkeyPatch, fake: BridgeFake) -> None:
    _env(mp, fake)
    fake.inject(*[Fault(path=TRANSACTIONS_PATH, delay_s=0.8)] * 4)


def _malformed_json(mp: pytest.MonkeyPatch, fake: BridgeFake) -> None:
    _env(mp, fake)
    fake.inject(Fault(path=TOKEN_PATH, raw=f'{{"access_token": "{SECRET}'.encode()))


def _missing_secret_block(mp: pytest.MonkeyPatch, fake: BridgeFake) -> None:
    Secret(value=SECRET).save("o2c-bridge-other-secret", overwrite=True)
    _env(mp, fake, CLIENT_SECRET=None, SECRET_BLOCK="o2c-bridge-no-such-block")


CASES: dict[str, tuple[Callable[[pytest.MonkeyPatch, BridgeFake], None], str]] = {
    "missing client id": (_missing_client_id, "O2C_BRIDGE_CLIENT_ID: missing"),
    "invalid base URL": (_invalid_base_url, "O2C_BRIDGE_BASE_URL"),
    "settings error": (_settings_error, "O2C_BRIDGE_TIMEOUT_S"),
    "401": (_unauthorized, "answered 401"),
    "500 until retries are exhausted": (_server_errors, "answered 500; gave up after 2"),
    "timeout": (_timeouts, "timed out"),
    "malformed JSON": (_malformed_json, "not JSON"),
    "missing Secret block": (_missing_secret_block, "o2c-bridge-no-such-block"),
}


# Block documents are where a Secret block keeps the secret (encrypted): the one place allowed.
_SECRET_HOME = ("block_document", "block_document_reference")


def _prefect_rows() -> str:
    """Text of every row of the Prefect test database (logs, states, artifacts, events...)."""
    APILogHandler().flush()
    time.sleep(1.0)  # the API writes logs it was sent in the background
    url = get_current_settings().server.database.connection_url
    assert url is not None
    path = url.get_secret_value().split(":///", 1)[1]
    with sqlite3.connect(path) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name not in _SECRET_HOME
        ]
        assert {"log", "flow_run_state", "task_run_state", "artifact"} <= set(tables)
        return "\n".join(
            repr(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"')
        )


def _warehouse_text(db: Path) -> str:
    if not db.exists():
        return ""
    with duckdb.connect(str(db), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE data_type = 'VARCHAR' AND table_schema = 'main'"
        ).fetchall()
        return "\n".join(
            str(value)
            for table, column in columns
            for (value,) in con.execute(f'SELECT "{column}" FROM "{table}"').fetchall()
        )


@pytest.mark.parametrize("case", list(CASES))
def test_the_secret_never_shows_whatever_fails(
    case: str,
    tmp_path: Path,
    bridge_server: BridgeFake,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    arrange, expected = CASES[case]
    bridge_server.client_secret = SECRET
    bridge_server.add_account(1, IBAN)
    bridge_server.add_transaction(1, "10.00", "2026-11-20", updated_at="2026-11-20T10:00:00Z")
    arrange(monkeypatch, bridge_server)
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "o2c.duckdb"

    with pytest.raises(Exception) as caught:
        open_banking_sync(db=str(db))

    out, err = capfd.readouterr()
    assert expected in str(caught.value)
    places = {
        "exception": f"{caught.value}\n{caught.value!r}\n{caught.value.__cause__!r}",
        "stdout": out,
        "stderr": err,
        "log records": caplog.text
        + "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records),
        "warehouse": _warehouse_text(db),
        "prefect database": _prefect_rows(),
    }
    # The rows read are this run's: its failure is recorded there, the secret is not.
    assert expected in places["prefect database"]
    leaked = [place for place, text in places.items() if SECRET in text]
    assert not leaked, f"{case}: the secret shows in {leaked}"
