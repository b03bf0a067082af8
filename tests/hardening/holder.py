"""A process that holds the warehouse lock until told to let go: the other side of lock tests.

    python tests/hardening/holder.py DB write|read|lock-write|lock-read

`write` is a real writer (warehouse_writer + connect, one committed row in table `probe`),
`read` a read-only connection, `lock-*` the bare lock. It prints `held PID` once it holds it,
then waits for a line (or EOF) on stdin and exits normally, or dies by the test's SIGKILL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def main(db: str, mode: str) -> None:
    from o2c.locking import warehouse_lock

    if mode == "lock-write" or mode == "lock-read":
        with warehouse_lock(db, exclusive=mode == "lock-write"):
            _hold()
        return
    from o2c.warehouse import connect

    if mode == "write":
        from o2c.orchestration import warehouse_writer  # imports Prefect: only where needed

        with warehouse_writer(db), connect(db) as con:
            con.execute("CREATE TABLE IF NOT EXISTS probe (pid INTEGER)")
            con.execute("INSERT INTO probe VALUES (?)", [os.getpid()])
            _hold()
    elif mode == "read":
        with connect(db, read_only=True) as con:
            con.execute("SELECT count(*) FROM schema_version").fetchall()
            _hold()


def _hold() -> None:
    print(f"held {os.getpid()}", flush=True)
    sys.stdin.readline()


def hold(db: Path, mode: str) -> subprocess.Popen:
    """Start a holder; once this returns, it holds the lock (its pid is `proc.pid`)."""
    proc = subprocess.Popen(
        [sys.executable, __file__, str(db), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line.startswith("held "), f"holder did not take the lock: {line!r}"
    return proc


def let_go(proc: subprocess.Popen) -> None:
    """Tell the holder to release the lock and end; wait for it."""
    proc.stdin.write("go\n")
    proc.stdin.flush()
    proc.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
