"""o2c.concurrency: the warehouse's Prefect slot, created by `o2c init`, required by writing tasks.

On the session's throwaway Prefect server (a real API, not a mock)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

from o2c.concurrency import (
    SLOT_ENV,
    WarehouseSlotMissing,
    ensure_limit,
    limit_name,
    marker_path,
)
from o2c.orchestration import writing
from o2c.warehouse import connect

pytestmark = pytest.mark.usefixtures("prefect_api")


@pytest.fixture(autouse=True)
def slot_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SLOT_ENV, "required")


@task
def write_one(db: str, value: int, hold_s: float = 0.0) -> None:
    with writing(db) as con:
        con.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER, written DOUBLE)")
        con.execute("INSERT INTO t VALUES (?, ?)", [value, time.time()])
        time.sleep(hold_s)


@flow
def writer_flow(db: str, value: int, hold_s: float = 0.0) -> None:
    write_one(db, value, hold_s)


def _limit(name: str):
    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(name)


def test_the_name_is_one_per_file_however_spelt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    assert limit_name("data/o2c.duckdb") == limit_name(tmp_path / "data" / ".." / "data/o2c.duckdb")
    assert limit_name("data/o2c.duckdb") != limit_name("data/other.duckdb")
    assert limit_name("data/o2c.duckdb").startswith("o2c-warehouse-")


def test_ensure_limit_creates_it_with_one_slot_then_leaves_it(tmp_path: Path):
    db = tmp_path / "o2c.duckdb"
    name, done = ensure_limit(db)
    assert done == "created"
    limit = _limit(name)
    assert (limit.limit, limit.active) == (1, True)
    assert ensure_limit(db) == (name, "unchanged")


def test_ensure_limit_sets_a_changed_limit_back_to_one(tmp_path: Path):
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    db = tmp_path / "o2c.duckdb"
    name, _ = ensure_limit(db)
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(limit=3))
    assert ensure_limit(db) == (name, "updated")
    assert _limit(name).limit == 1


def test_a_writing_task_without_the_limit_fails_saying_run_o2c_init(tmp_path: Path):
    db = tmp_path / "o2c.duckdb"
    name, _ = ensure_limit(db)  # initialised for a slot, then the server lost it (a new server)
    assert marker_path(db).read_text(encoding="utf-8").strip() == name
    with get_client(sync_client=True) as client:
        client.delete_global_concurrency_limit_by_name(name)
    with pytest.raises(WarehouseSlotMissing, match="run `o2c init`"):
        writer_flow(str(db), 1)
    with pytest.raises(ObjectNotFound):  # the writer did not create it on first use
        _limit(name)


def test_a_warehouse_never_initialised_for_a_slot_is_guarded_by_the_flock_alone(tmp_path: Path):
    db = tmp_path / "o2c.duckdb"
    writer_flow(str(db), 1)
    assert not marker_path(db).exists()
    with pytest.raises(ObjectNotFound):
        _limit(limit_name(db))


def test_plain_functions_outside_a_run_need_no_limit(tmp_path: Path):
    with connect(tmp_path / "o2c.duckdb") as con:
        con.execute("CREATE TABLE t (x INTEGER)")


def test_off_turns_the_slot_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(SLOT_ENV, "off")
    writer_flow(str(tmp_path / "o2c.duckdb"), 1)


def test_writers_in_threads_take_turns_and_a_waiter_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    db = tmp_path / "o2c.duckdb"
    name, _ = ensure_limit(db)
    first = threading.Thread(target=writer_flow, args=(str(db), 1, 8.0))
    first.start()
    deadline = time.monotonic() + 30
    while _limit(name).active_slots == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _limit(name).active_slots == 1  # the first holds the slot while it writes
    writer_flow(str(db), 2)
    first.join()
    assert "waiting for the warehouse slot " + name in caplog.text
    with connect(db, read_only=True) as con:
        rows = con.execute("SELECT x FROM t ORDER BY written").fetchall()
    assert rows == [(1,), (2,)]
    assert _limit(name).active_slots == 0  # both released
