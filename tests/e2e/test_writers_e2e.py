"""One writer at a time on a real `prefect server` (issue 19): `o2c init` creates the warehouse's
global concurrency limit (limit 1, read back through the API); four statement ingestions and a
reconcile started at the same moment all complete with all their rows, each having taken the
slot (its acquisition events on the server), on the DuckDB file and on a DuckLake catalog on
PostgreSQL; a writer whose server has lost the slot is refused with "run `o2c init`"; a slot
left by a killed writer frees itself."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c import warehouse
from o2c.concurrency import LEASE_S, limit_name
from o2c.models.bank import Statement, StatementLine
from o2c.tasks.demo.camt_writer import write_camt053

from .conftest import BIN, REPO, PrefectServer, Processes, wait_for

pytestmark = pytest.mark.server


@pytest.fixture(autouse=True)
def slot_required(o2c_env: dict[str, str]) -> None:
    """The writer slot on, whatever the suite's default (O2C_WAREHOUSE_SLOT=off for unit tests)."""
    o2c_env["O2C_WAREHOUSE_SLOT"] = "required"


WAIT = 300
IBAN = "FR7630003012340123456789057"


def statement(path: Path, n: int) -> Path:
    line = StatementLine(
        date(2026, 11, 2), Decimal(f"{100 + n}.00"), "EUR", bank_reference=f"W{n}",
        remittance_unstructured=f"Facture FA2026-{n:06d}",
    )  # fmt: skip
    write_camt053(path, [Statement(
        "camt.053", IBAN, "EUR", f"W-{n}", date(2026, 11, n), date(2026, 11, n),
        Decimal("1000.00"), Decimal("1000.00") + line.amount, [line],
    )])  # fmt: skip
    return path


@pytest.fixture(params=["duckdb-file", "ducklake"])
def where(request, o2c_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The warehouse of the test's processes, and of this process's reads: the DuckDB file, or
    a DuckLake catalog on PostgreSQL with its Parquet files in the test's folder."""
    if request.param == "ducklake":
        o2c_env.update(
            O2C_DB=f"ducklake:postgres:{request.getfixturevalue('postgres')}",
            O2C_LAKE_DATA_PATH=str(tmp_path / "lake-data"),
            O2C_LAKE_SCHEMA=f"writers_{uuid.uuid4().hex[:12]}",
            O2C_HOME=str(tmp_path / "home"),
        )
    for key in ("O2C_DB", "O2C_LAKE_DATA_PATH", "O2C_LAKE_SCHEMA", "O2C_HOME"):
        if key in o2c_env:
            monkeypatch.setenv(key, o2c_env[key])
    return o2c_env["O2C_DB"]


def test_init_creates_the_slot_and_simultaneous_writers_all_land(
    prefect_server: PrefectServer, procs: Processes, where: str, tmp_path: Path
):
    name = limit_name(warehouse.db_path(where))
    output = procs.run("init", [str(BIN / "o2c"), "init"], timeout=WAIT)
    assert f"writer slot {name} (limit 1) created" in output
    with prefect_server.client() as api:
        limit = api.get(f"/v2/concurrency_limits/{name}").raise_for_status().json()
    assert (limit["limit"], limit["active"], limit["active_slots"]) == (1, True, 0)
    again = procs.run("init-2", [str(BIN / "o2c"), "init"], timeout=WAIT)
    assert f"writer slot {name} (limit 1) unchanged" in again

    files = [statement(tmp_path / f"statement-{n}.xml", n) for n in range(1, 5)]
    started = {
        f"ingest-{n}": procs.start(f"ingest-{n}", [str(BIN / "o2c"), "ingest", "statement", str(f)])
        for n, f in enumerate(files, 1)
    }
    started["reconcile"] = procs.start("reconcile", [str(BIN / "o2c"), "reconcile"])
    deadline = time.monotonic() + WAIT
    for label, proc in started.items():
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
        procs.running.pop(label, None)
        assert code == 0, f"{label} exited {code}\n{procs.report()}"

    with warehouse.connect(where, read_only=True) as con:
        amounts = sorted(
            str(a) for (a,) in con.execute("SELECT amount FROM bank_transactions").fetchall()
        )
        batches = con.execute("SELECT count(*) FROM load_batches").fetchall()[0][0]
    assert amounts == ["101.00", "102.00", "103.00", "104.00"]
    assert batches == 4  # one load each, numbered by the counter (no sequence on the lake)

    with prefect_server.client() as api:
        limit = api.get(f"/v2/concurrency_limits/{name}").raise_for_status().json()
        assert limit["active_slots"] == 0  # every holder gave it back

        def acquired() -> list | None:
            events = (
                api.post(
                    "/events/filter",
                    json={
                        "filter": {
                            "event": {"name": ["prefect.concurrency-limit.acquired"]},
                            "resource": {"id": [f"prefect.concurrency-limit.{limit['id']}"]},
                        },
                        "limit": 50,
                    },
                )
                .raise_for_status()
                .json()["events"]
            )
            return events if len(events) >= 5 else None

        events = wait_for("five slot acquisitions", acquired, timeout=60, context=procs.report)
    assert len(events) >= 5  # at least one writing task of each of the five runs


def test_a_writer_whose_server_lost_the_slot_is_told_to_run_init(
    prefect_server: PrefectServer, procs: Processes, o2c_env: dict[str, str], tmp_path: Path
):
    db = tmp_path / "moved.duckdb"
    procs.run("init", [str(BIN / "o2c"), "--db", str(db), "init"], timeout=WAIT)
    with prefect_server.client() as api:  # as if PREFECT_API_URL now named another server
        api.delete(f"/v2/concurrency_limits/{limit_name(db)}").raise_for_status()
    done = subprocess.run(
        [str(BIN / "o2c"), "--db", str(db), "ingest", "statement",
         str(statement(tmp_path / "s.xml", 9))],
        env=o2c_env, cwd=REPO, capture_output=True, text=True, timeout=WAIT,
    )  # fmt: skip
    assert done.returncode == 1
    assert f"no concurrency limit {limit_name(db)}" in done.stderr
    assert "run `o2c init`" in done.stderr


_HOLD = """
import sys, time
from prefect import flow, task
from o2c.orchestration import writing

@task
def hold(db):
    with writing(db):
        print("holding", flush=True)
        time.sleep(3600)

@flow
def holder(db):
    hold(db)

holder(sys.argv[1])
"""


def test_a_slot_left_by_a_killed_writer_frees_itself_and_the_wait_is_in_the_run_log(
    prefect_server: PrefectServer, procs: Processes, o2c_env: dict[str, str], tmp_path: Path
):
    db = Path(o2c_env["O2C_DB"])
    name = limit_name(db)
    procs.run("init", [str(BIN / "o2c"), "init"], timeout=WAIT)
    holder = procs.start("holder", [str(BIN / "python"), "-c", _HOLD, str(db)])

    def slot_taken() -> bool:
        procs.check_alive()
        with prefect_server.client() as api:
            got = api.get(f"/v2/concurrency_limits/{name}").raise_for_status().json()
        return got["active_slots"] == 1

    wait_for("the holder to take the slot", slot_taken, timeout=WAIT, context=procs.report)
    os.killpg(holder.pid, signal.SIGKILL)  # no release: the server still counts the slot
    holder.wait(timeout=30)
    procs.running.pop("holder", None)

    started = time.monotonic()
    output = procs.run(
        "ingest",
        [str(BIN / "o2c"), "ingest", "statement", str(statement(tmp_path / "s.xml", 7))],
        timeout=WAIT,
    )
    waited = time.monotonic() - started
    assert "1 loaded" in output
    assert waited < LEASE_S + 60  # the lease expired and the repossessor freed the slot
    with prefect_server.client() as api:
        assert api.get(f"/v2/concurrency_limits/{name}").json()["active_slots"] == 0

        def said() -> list | None:  # the wait is in the run's log, where finance reads it
            logs = api.post("/logs/filter", json={"limit": 200, "sort": "TIMESTAMP_DESC"})
            found = [
                log
                for log in logs.raise_for_status().json()
                if f"waiting for the warehouse slot {name}" in log["message"]
            ]
            return [log for log in found if log["task_run_id"]] or None

        wait_for("the wait in the run log", said, timeout=60, context=procs.report)
