"""A throwaway PostgreSQL cluster from Debian's packages, for the DuckLake warehouse tests.

`.ci/run` starts one for the lake pass (`python -m tests.postgres start DIR` prints its libpq
string; `stop DIR` ends it); the `postgres` fixture uses $O2C_TEST_PG when set, else starts its
own. The cluster listens on a Unix socket in DIR only (no TCP port to collide with), trusts local
users (nothing secret in a test) and runs without fsync. PostgreSQL refuses to run as root, so a
root caller runs it as the `postgres` user the package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

USER = "o2c"
# A socket only, no durability to pay for, and no parallel workers: a DuckLake catalog's queries
# are small, and starting workers for them cost more than they saved.
_SETTINGS = (
    "-c listen_addresses='' -c fsync=off -c synchronous_commit=off"
    " -c max_parallel_workers_per_gather=0 -c max_connections=200"
)


def binaries() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb, or the one on PATH, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _version(path: str) -> int:
    digits = Path(path).parent.parent.name
    return int(digits) if digits.isdigit() else 0


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def start(folder: Path) -> str:
    """Start a cluster in `folder` (created); returns the libpq string of its `o2c` database."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL here: apt-get install postgresql")
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    run = lambda *args: subprocess.run(  # noqa: E731
        _as_owner([str(a) for a in args]), check=True, capture_output=True, text=True
    )
    if not data.exists():
        run(bin_dir / "initdb", "-D", data, "-U", USER, "--auth=trust", "-E", "UTF8")
    run(
        bin_dir / "pg_ctl", "-D", data, "-l", folder / "log", "-w", "start",
        "-o", f"-k {folder} {_SETTINGS}",
    )  # fmt: skip
    subprocess.run(
        [str(bin_dir / "createdb"), "-h", str(folder), "-U", USER, "o2c"],
        capture_output=True,
        text=True,
    )  # fmt: skip  (exists already when a cluster is restarted: fine)
    return f"dbname=o2c host={folder} user={USER}"


def stop(folder: Path) -> None:
    bin_dir = binaries()
    if bin_dir is not None and (folder / "data").exists():
        subprocess.run(
            _as_owner([str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast", "stop"]),
            capture_output=True,
        )


if __name__ == "__main__":
    action, where = sys.argv[1], Path(sys.argv[2]).resolve()
    if action == "start":
        print(start(where))
    else:
        stop(where)
