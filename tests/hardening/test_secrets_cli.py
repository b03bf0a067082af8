"""Issue 14: `o2c -v ingest open-banking` shows flow logs and tracebacks, never the Bridge secret.

The command runs in its own process against the session's Prefect test server, as a data
engineer would run it, and the whole terminal output (stdout and stderr) is searched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import get_current_settings

from tests.fakes.bridge_server import BridgeFake, Fault
from tests.tasks.bank.conftest_bridge import bridge_server  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("prefect_api")
SECRET = "S3CRET-cli-Hq7mW3pZt5"
TOKEN_PATH = "/v3/aggregation/authorization/token"


def _run_cli(fake: BridgeFake, db: Path, **settings: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("O2C_BRIDGE_")}
    values: dict[str, str | None] = {
        "BASE_URL": fake.url,
        "CLIENT_ID": fake.client_id,
        "CLIENT_SECRET": SECRET,
        "USER_UUID": fake.user_uuid,
        "MAX_RETRIES": "0",
        "RUN_RETRIES": "0",
        **settings,
    }
    env.update({f"O2C_BRIDGE_{k}": v for k, v in values.items() if v is not None})
    env["PREFECT_API_URL"] = str(get_current_settings().api.url)
    code = "from o2c.cli import app; app()"
    return subprocess.run(
        [sys.executable, "-c", code, "-v", "--db", str(db), "ingest", "open-banking"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize(
    ("case", "settings", "expected"),
    [
        ("settings error", {"CLIENT_ID": None, "TIMEOUT_S": "soon"}, "O2C_BRIDGE_CLIENT_ID"),
        ("401 echoing the secret", {}, "answered 401"),
    ],
)
def test_verbose_terminal_never_shows_the_secret(
    case: str,
    settings: dict[str, str | None],
    expected: str,
    tmp_path: Path,
    bridge_server: BridgeFake,  # noqa: F811
) -> None:
    bridge_server.client_secret = SECRET
    bridge_server.add_account(1, "FR7630003012340123456789057")
    bridge_server.inject(
        Fault(
            path=TOKEN_PATH,
            status=401,
            body={"type": "invalid_client", "message": f"Client-Secret {SECRET} is wrong"},
        )
    )
    run = _run_cli(bridge_server, tmp_path / "o2c.duckdb", **settings)
    terminal = run.stdout + run.stderr
    assert run.returncode == 1, terminal
    assert expected in terminal and "Traceback" in terminal  # -v: logs and the traceback
    assert SECRET not in terminal, f"{case}: the secret shows on the terminal"
