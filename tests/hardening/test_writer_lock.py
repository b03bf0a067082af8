"""Issue 14: a killed writer leaves the warehouse writable, whole, and no Prefect server behind;
readers wait for the writer instead of failing on DuckDB's file lock.

Real processes on real DuckDB files: `o2c` itself (on its own ephemeral Prefect API, in a
private PREFECT_HOME) stopped by tests/hardening/stop_writer.py at a chosen point of its load
and killed there with SIGKILL; holders from tests/hardening/holder.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from o2c.locking import WarehouseLockTimeout, warehouse_lock
from o2c.orchestration import warehouse_writer
from o2c.warehouse import connect
from tests.hardening.holder import hold, let_go

HERE = Path(__file__).parent
O2C = Path(sys.executable).with_name("o2c")
INVOICES = 200
CLI_TIMEOUT_S = 180  # a cold Prefect ephemeral server on two busy cores


def write_invoices(path: Path, count: int = INVOICES) -> Path:
    rows = ["invoice_id;customer_id;customer_name;issue_date;due_date;currency;amount_total"]
    rows += [
        f"FA-{i};C{i % 7};Client {i % 7};2026-03-01;2026-04-01;EUR;{100 + i},50"
        for i in range(count)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The command's environment: ephemeral API in its own home, tagged so we find its children."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "O2C_TEST_RUN": uuid.uuid4().hex,  # inherited by the ephemeral server: finds orphans
        # A server per command, which must die with it (the shared local server outlives a
        # command by design and stops when idle: tests/o2c/test_local_server.py).
        "O2C_PREFECT_SERVER": "ephemeral",
    }
    return env


def processes_tagged(tag: str) -> list[int]:
    """Live (not zombie) processes whose environment carries the test's tag."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"O2C_TEST_RUN={tag}".encode() in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = CLI_TIMEOUT_S) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the writer ended ({proc.returncode}) before {path.name}: {out}{err}")
        assert time.monotonic() < deadline, f"the writer never reached {path.name}"
        time.sleep(0.05)
    return path.read_text(encoding="utf-8")


def run_o2c(env: dict[str, str], db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(O2C), "--db", str(db), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )


def loads(db: Path) -> tuple[int, list[tuple]]:
    with connect(db, read_only=True) as con:
        invoices = con.execute("SELECT count(*) FROM invoices").fetchall()[0][0]
        batches = con.execute(
            "SELECT status, rows_loaded FROM load_batches WHERE source = 'invoices'"
        ).fetchall()
    return invoices, batches


@pytest.mark.parametrize("point", ["before", "during", "after"])
def test_a_writer_killed_at_any_point_leaves_the_warehouse_writable_and_whole(
    tmp_path: Path, cli_env: dict[str, str], point: str
):
    db, markers = tmp_path / "o2c.duckdb", tmp_path / "markers"
    markers.mkdir()
    export = write_invoices(tmp_path / "invoices.csv")
    o2c_args = ["--db", str(db), "ingest", "invoices", str(export)]
    writer = subprocess.Popen(
        [sys.executable, str(HERE / "stop_writer.py"), point, str(markers), *o2c_args],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = wait_for(markers / point, writer)
        servers = children_of(writer.pid)
        assert servers, "the command runs its flow on an ephemeral Prefect server, its child"
        if point == "during":
            assert seen.endswith(f"{INVOICES} invoices inside the open transaction")
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=10)
    assert writer.returncode == -signal.SIGKILL

    # the next writer gets the lock at once: the kernel dropped the dead one's flock
    started = time.monotonic()
    with warehouse_writer(str(db), timeout_seconds=10), connect(db) as con:
        took = time.monotonic() - started
        committed = con.execute("SELECT count(*) FROM invoices").fetchall()[0][0]
    assert took < 5, f"the next writer waited {took:.1f} s"
    # nothing half-loaded: all of the file or none of it
    assert committed == (INVOICES if point == "after" else 0)

    again_started = time.monotonic()
    again = run_o2c(cli_env, db, "ingest", "invoices", str(export))
    again_took = time.monotonic() - again_started
    assert again.returncode == 0, again.stderr
    if point == "after":
        assert "already loaded in batch" in again.stdout
    else:
        assert f"{INVOICES} new" in again.stdout
    assert loads(db) == (INVOICES, [("loaded", INVOICES)])  # the load is there, once

    # the killed command's ephemeral server died with it
    deadline = time.monotonic() + 15
    while (alive := processes_tagged(cli_env["O2C_TEST_RUN"])) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive == [], f"orphaned processes of the killed command: {alive}"
    print(
        f"\n{point}: lock taken {took * 1000:.0f} ms after the kill;"
        f" `o2c ingest invoices` again in {again_took:.1f} s (incl. its own Prefect server)"
    )


def test_a_reader_waits_for_the_writer_says_for_whom_then_succeeds(
    tmp_path: Path, cli_env: dict[str, str]
):
    db = tmp_path / "o2c.duckdb"
    with connect(db):
        pass  # the warehouse exists, migrated
    writer = hold(db, "write")
    try:
        status = subprocess.Popen(
            [str(O2C), "--db", str(db), "status"],
            env=cli_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)  # longer than `o2c status` takes unhindered
        assert status.poll() is None, "the reader did not wait for the writer"
    finally:
        let_go(writer)
    out, err = status.communicate(timeout=60)
    assert status.returncode == 0, err
    assert "probe" in out  # it read the table the writer committed
    waits = [line for line in err.splitlines() if line.startswith("waiting for")]
    assert len(waits) == 1, err
    assert waits[0].startswith(f"waiting for the warehouse writer: pid {writer.pid} (python")
    assert f"holder.py {db} write) since " in waits[0]


def test_a_writer_waits_for_readers_and_two_readers_coexist(tmp_path: Path):
    db = tmp_path / "o2c.duckdb"
    with connect(db):
        pass
    first = hold(db, "read")
    try:
        second = hold(db, "read")  # would hang (and fail the readline) if readers excluded
        let_go(second)
        announced: list[str] = []
        with (
            pytest.raises(WarehouseLockTimeout, match=rf"reader: pid {first.pid} \(python"),
            warehouse_lock(db, exclusive=True, timeout_s=1, announce=announced.append),
        ):
            pass
        assert len(announced) == 1 and f"pid {first.pid}" in announced[0]
    finally:
        let_go(first)
    with warehouse_writer(str(db), timeout_seconds=5), connect(db):
        pass  # free again once the readers are gone
