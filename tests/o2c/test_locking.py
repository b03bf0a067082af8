"""o2c.locking: one writer or many readers per warehouse, freed by the kernel when a holder dies,
re-entrant for the thread that holds it, and a waiter that says whom it waits for."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

import pytest

from o2c.locking import (
    DEFAULT_TIMEOUT_S,
    WarehouseLockTimeout,
    holders,
    lock_path,
    timeout_seconds,
    warehouse_lock,
)
from o2c.orchestration import warehouse_writer
from o2c.warehouse import connect
from tests.hardening.holder import hold, let_go


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "o2c.duckdb"


def test_the_lock_file_sits_beside_the_warehouse_apart_from_its_wal(db: Path):
    assert lock_path(db) == db.parent / "o2c.duckdb.lock"
    with connect(db) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    assert lock_path(db).exists() and lock_path(db) != db.parent / "o2c.duckdb.wal"


def test_the_timeout_is_600_s_unless_the_environment_says(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("O2C_LOCK_TIMEOUT_S", raising=False)
    assert timeout_seconds() == DEFAULT_TIMEOUT_S == 600
    monkeypatch.setenv("O2C_LOCK_TIMEOUT_S", "2.5")
    assert timeout_seconds() == 2.5
    assert timeout_seconds(7) == 7
    monkeypatch.setenv("O2C_LOCK_TIMEOUT_S", "soon")
    with pytest.raises(ValueError, match="O2C_LOCK_TIMEOUT_S='soon'"):
        timeout_seconds()


def test_the_holding_thread_reenters_as_writer_and_as_reader(db: Path):
    with warehouse_writer(str(db), timeout_seconds=0), connect(db) as con:
        con.execute("CREATE TABLE t (x INTEGER)")  # flows nest exactly like this
        with (
            warehouse_lock(db, exclusive=True, timeout_s=0),
            warehouse_lock(db, exclusive=False, timeout_s=0),
        ):
            pass
        con.execute("INSERT INTO t VALUES (1)")
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM t").fetchall() == [(1,)]


def test_a_reader_cannot_turn_writer(db: Path):
    with (
        warehouse_lock(db, exclusive=False),
        pytest.raises(RuntimeError, match="close the read-only connection first"),
        warehouse_lock(db, exclusive=True),
    ):
        pass


def test_other_threads_of_the_process_wait_for_the_writer(db: Path):
    taken, release = threading.Event(), threading.Event()

    def writer() -> None:
        with warehouse_lock(db, exclusive=True):
            taken.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    taken.wait(10)
    try:
        with (
            pytest.raises(WarehouseLockTimeout, match="another thread of this process"),
            warehouse_lock(db, exclusive=False, timeout_s=0.2),
        ):
            pass
    finally:
        release.set()
        thread.join(10)
    with warehouse_lock(db, exclusive=False, timeout_s=1):
        pass


def test_threads_of_one_process_read_together(db: Path):
    inside, errors = threading.Barrier(3, timeout=5), []

    def reader() -> None:
        try:
            with warehouse_lock(db, exclusive=False, timeout_s=5):
                inside.wait()  # all three hold it at once, or the barrier breaks
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []


def test_the_lock_file_names_the_holder_until_it_lets_go(db: Path):
    started = time.time()
    writer = hold(db, "lock-write")
    try:
        (holder,) = holders(db)
        assert (holder.pid, holder.mode) == (writer.pid, "write")
        assert holder.command.endswith(f"holder.py {db} lock-write")
        assert started - 1 <= holder.since <= time.time()
    finally:
        let_go(writer)
    assert holders(db) == []
    assert lock_path(db).read_text() == ""  # a clean release leaves nobody named


def test_a_timeout_names_the_holder(db: Path):
    writer = hold(db, "lock-write")
    try:
        with (
            pytest.raises(WarehouseLockTimeout) as raised,
            warehouse_lock(db, exclusive=False, timeout_s=0.3, announce=lambda _: None),
        ):
            pass
    finally:
        let_go(writer)
    message = str(raised.value)
    assert f"still locked after 0.3 s by the warehouse writer: pid {writer.pid} (" in message
    assert "lock-write) since " in message and "O2C_LOCK_TIMEOUT_S" in message


def test_a_waiter_says_once_whom_it_waits_for_then_gets_the_lock(db: Path):
    writer = hold(db, "lock-write")
    said: list[str] = []
    threading.Timer(1.0, let_go, [writer]).start()
    started = time.monotonic()
    with warehouse_lock(db, exclusive=True, timeout_s=20, announce=said.append):
        waited = time.monotonic() - started
    assert 0.8 < waited < 10
    assert len(said) == 1
    assert said[0].startswith(f"waiting for the warehouse writer: pid {writer.pid} (")


def test_a_killed_writer_frees_the_lock_at_once(db: Path, caplog: pytest.LogCaptureFixture):
    writer = hold(db, "lock-write")
    writer.send_signal(signal.SIGKILL)
    writer.wait(10)
    assert str(writer.pid) in lock_path(db).read_text()  # its line stays, it is not alive
    assert holders(db) == []
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="o2c.locking"),
        warehouse_lock(db, exclusive=True, timeout_s=2),
    ):
        pass
    assert time.monotonic() - started < 1
    assert f"died holding the lock: pid {writer.pid}" in caplog.text


def test_readers_in_other_processes_share_and_keep_the_writer_out(db: Path):
    with connect(db):
        pass
    first, second = hold(db, "read"), hold(db, "read")  # the second did not wait for the first
    try:
        assert {h.pid for h in holders(db)} == {first.pid, second.pid}
        with (
            pytest.raises(WarehouseLockTimeout, match="2 warehouse readers: pid"),
            warehouse_lock(db, exclusive=True, timeout_s=0.3, announce=lambda _: None),
        ):
            pass
    finally:
        let_go(first)
        let_go(second)
    assert holders(db) == []
    with warehouse_lock(db, exclusive=True, timeout_s=1):
        pass


def test_one_lock_per_file_however_its_path_is_spelt(tmp_path: Path, monkeypatch):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path)
    with (
        warehouse_lock("real/o2c.duckdb", exclusive=True, timeout_s=0),
        warehouse_lock(tmp_path / "link" / "o2c.duckdb", exclusive=True, timeout_s=0),
    ):
        assert lock_path(tmp_path / "real" / "o2c.duckdb").exists()
