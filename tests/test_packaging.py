"""What an install ships holds every package and data file: sub-packages are found, not listed.

`setup.py build_py` lays out exactly the files a wheel or an install copies, so a folder of code
added under tasks/ (or flows/, models/) without a line in any list must show up there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.locations import REPO

ROOTS = {"flows": "o2c/flows", "tasks": "o2c/tasks", "models": "o2c/models", "o2c": "o2c"}


def test_the_build_holds_every_package_and_data_file(tmp_path: Path):
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    built = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}

    packages = {
        f"{installed}/{init.relative_to(REPO / folder).as_posix()}"
        for folder, installed in ROOTS.items()
        for init in (REPO / folder).rglob("__init__.py")
    }
    assert len(packages) > 10
    assert packages - built == set()
    assert "o2c/tasks/bank/statements/csv_mappings/fr_debit_credit.toml" in built
    # Every file a module reads beside itself (settings, policies, rate tables) ships with it.
    beside_code = {
        f"o2c/tasks/{p.relative_to(REPO / 'tasks').as_posix()}"
        for suffix in ("toml", "yaml", "yml", "json")
        for p in (REPO / "tasks").rglob(f"*.{suffix}")
    }
    assert "o2c/tasks/dunning/rates.toml" in beside_code
    assert beside_code - built == set()
    assert {f"o2c/sql/{p.name}" for p in (REPO / "sql").glob("*.sql")} <= built
    assert {f"o2c/expectations/{p.name}" for p in (REPO / "expectations").glob("*.json")} <= built
