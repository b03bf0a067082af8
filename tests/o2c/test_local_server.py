"""The local Prefect server of the embedded default, as a data engineer's shell meets it.

Real `o2c` processes, real servers on loopback, real HTTP; each test has its own data folder,
PREFECT_HOME and a tag in the environment its processes inherit, so the clean-up finds (and the
tests count) exactly the processes this test started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from o2c import local_server

pytestmark = pytest.mark.server
O2C = Path(sys.executable).with_name("o2c")
CLI_TIMEOUT_S = 180  # a first start migrates Prefect's database, on two busy cores
STARTED = "started the local Prefect server"


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def env(tmp_path: Path, tag: str):
    """No PREFECT_API_URL: the embedded default. Whatever the test leaves running is ended."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    clean |= {
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "O2C_PREFECT_SERVER": "local",
        "O2C_TEST_RUN": tag,
    }
    yield clean
    for pid in tagged(tag):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def tagged(tag: str, *, servers_only: bool = False) -> list[int]:
    """Live processes carrying the test's tag (its `o2c` commands and their servers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"O2C_TEST_RUN={tag}".encode() not in environ or state == "Z":
            continue
        if not servers_only or b"o2c.local_server" in argv:
            found.append(int(entry.name))
    return found


def o2c(env: dict[str, str], warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(O2C), "--db", str(warehouse), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )


def recorded(warehouse: Path) -> dict:
    return json.loads(local_server.files_for(warehouse).state.read_text(encoding="utf-8"))


def flow_runs(api_url: str) -> list[tuple[str, str]]:
    """(flow name, state) of every flow run the server knows, oldest first."""
    with httpx.Client(base_url=api_url, timeout=30) as client:
        runs = client.post("/flow_runs/filter", json={"sort": "START_TIME_ASC"}).json()
        flows = {f["id"]: f["name"] for f in client.post("/flows/filter", json={}).json()}
    return [(flows[r["flow_id"]], r["state_type"]) for r in runs]


def wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"after {timeout_s:.0f} s still not: {what}"
        time.sleep(0.2)


def test_the_second_command_reuses_the_server_and_the_history_stays(tmp_path, env, tag):
    warehouse = tmp_path / "data" / "o2c.duckdb"
    first = o2c(env, warehouse, "reconcile")
    assert first.returncode == 0, first.stderr
    assert "0 transactions" in first.stdout and STARTED in first.stderr
    server = recorded(warehouse)
    assert tagged(tag, servers_only=True) == [server["pid"]]
    assert (warehouse.parent / "prefect" / "prefect.db").is_file()  # in the data folder

    second = o2c(env, warehouse, "reconcile")
    assert second.returncode == 0, second.stderr
    assert STARTED not in second.stderr
    assert recorded(warehouse) == server
    assert tagged(tag, servers_only=True) == [server["pid"]]  # no second server, ever
    assert flow_runs(server["api_url"]) == [("reconcile", "COMPLETED")] * 2


def test_an_idle_server_stops_by_itself_and_the_next_command_starts_one(tmp_path, env, tag):
    warehouse = tmp_path / "data" / "o2c.duckdb"
    # long enough to read the server's file after the command on a loaded machine (at 2 s, CI
    # under load once found the server already gone), short enough for a test
    env["O2C_PREFECT_IDLE_S"] = "8"
    assert o2c(env, warehouse, "reconcile").returncode == 0
    first = recorded(warehouse)["pid"]
    wait_until(lambda: tagged(tag) == [], 60, "the idle server has stopped")
    assert not local_server.files_for(warehouse).state.exists()

    again = o2c(env, warehouse, "reconcile")
    assert again.returncode == 0, again.stderr
    assert STARTED in again.stderr and recorded(warehouse)["pid"] != first
    with local_server.using(local_server.files_for(warehouse)) as server:  # holds it up
        assert server.pid == recorded(warehouse)["pid"]
        # the run of the first server is still there: one database, in the data folder
        assert flow_runs(server.api_url) == [("reconcile", "COMPLETED")] * 2
    wait_until(lambda: tagged(tag) == [], 60, "the server has stopped after its last user")


def test_a_stale_server_file_is_replaced_and_a_recycled_pid_left_alone(tmp_path, env, tag):
    warehouse = tmp_path / "data" / "o2c.duckdb"
    files = local_server.files_for(warehouse)
    files.home.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stranger = subprocess.Popen(["sleep", "300"])  # a live pid that is not our server
    try:
        for stale in (
            json.dumps({"pid": dead.pid, "port": 9}),  # the server was killed
            "{not js",  # a crash while the file was written
            json.dumps({"pid": stranger.pid, "port": 9}),  # its pid since given to another
        ):
            local_server.stop_if_unused(files)
            files.state.write_text(stale, encoding="utf-8")
            done = o2c(env, warehouse, "reconcile")
            assert done.returncode == 0, (stale, done.stderr)
            assert STARTED in done.stderr
            assert tagged(tag, servers_only=True) == [recorded(warehouse)["pid"]]
        assert stranger.poll() is None  # not taken for our server, so not stopped
    finally:
        stranger.kill()
        stranger.wait()


def test_a_command_killed_while_starting_the_server_leaves_nothing_behind(tmp_path, env, tag):
    warehouse = tmp_path / "data" / "o2c.duckdb"
    env["O2C_PREFECT_IDLE_S"] = "2"
    command = subprocess.Popen(
        [str(O2C), "--db", str(warehouse), "reconcile"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: tagged(tag, servers_only=True), 60, "the server process exists")
    finally:
        command.kill()  # SIGKILL: the command's locks go with it, nothing else runs for it
        command.wait()
    # the server it was starting, recorded or not, stops by itself once idle
    wait_until(lambda: tagged(tag) == [], 120, "the orphaned server has stopped")
    done = o2c(env, warehouse, "reconcile")
    assert done.returncode == 0, done.stderr
    assert STARTED in done.stderr


def test_two_commands_at_once_share_one_new_server(tmp_path, env, tag):
    folder = tmp_path / "data"
    commands = [
        subprocess.Popen(
            [str(O2C), "--db", str(folder / name), "reconcile"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a.duckdb", "b.duckdb")
    ]
    results = [c.communicate(timeout=CLI_TIMEOUT_S) for c in commands]
    assert [c.returncode for c in commands] == [0, 0], results
    assert sum(STARTED in stderr for _, stderr in results) == 1
    server = recorded(folder / "a.duckdb")
    assert tagged(tag, servers_only=True) == [server["pid"]]
    assert flow_runs(server["api_url"]) == [("reconcile", "COMPLETED")] * 2


def test_o2c_ui_serves_the_ui_with_earlier_runs_and_ctrl_c_stops_it(tmp_path, env, tag):
    warehouse = tmp_path / "data" / "o2c.duckdb"
    env["O2C_PREFECT_IDLE_S"] = "1"
    assert o2c(env, warehouse, "reconcile").returncode == 0
    wait_until(lambda: tagged(tag) == [], 60, "the command's server has stopped")

    ui = subprocess.Popen(
        [str(O2C), "--db", str(warehouse), "ui"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = ui.stdout.readline()  # once the server answers
        assert line.startswith("Prefect UI: http://127.0.0.1:"), line + ui.stderr.read()
        url = line.split()[2]
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200 and "<!DOCTYPE html>" in page.text
        settings = httpx.get(f"{url}/ui-settings", timeout=30).json()
        assert settings["api_url"] == f"{url}/api"  # the browser talks to this same server
        time.sleep(2)  # longer than the idle time: `o2c ui` holds the server up
        assert flow_runs(f"{url}/api") == [("reconcile", "COMPLETED")]

        ui.send_signal(signal.SIGINT)
        out, _ = ui.communicate(timeout=60)
    finally:
        if ui.poll() is None:
            ui.kill()
    assert ui.returncode == 0 and "stopped" in out
    assert tagged(tag) == []  # the server went with it
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=5)


def test_a_prefect_api_url_of_the_user_means_no_local_server(tmp_path, env, tag):
    warehouse = tmp_path / "data" / "o2c.duckdb"
    env["PREFECT_API_URL"] = "http://127.0.0.1:9/api"  # nothing listens: the run must fail
    done = o2c(env, warehouse, "reconcile")
    assert done.returncode == 1 and STARTED not in done.stderr
    assert not (warehouse.parent / "prefect").exists()
    assert tagged(tag) == []

    ui = o2c(env, warehouse, "ui")
    assert ui.returncode == 0 and "http://127.0.0.1:9" in ui.stdout
    assert not (warehouse.parent / "prefect").exists()
