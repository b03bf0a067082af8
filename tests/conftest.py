"""Shared test set-up: no analytics, and a Prefect API only for the tests that ask for one."""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

# The fake Bridge API (tests/fakes) as a fixture for any test that asks for `bridge_server`.
pytest_plugins = ["tests.tasks.bank.conftest_bridge"]

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """How `pytest -n 3` (pytest-xdist, `--dist loadgroup`) shares the tests among its workers:
    a module stays on one worker, so its module-scoped fixture (a demo company, a warehouse)
    is built once; the end-to-end tests all go to one worker, one after another around the one
    `prefect server` they share, while the other workers take the rest."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    e2e = Path(__file__).parent / "e2e"
    for item in items:
        group = "e2e" if e2e in item.path.parents else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def prefect_api():
    """One throwaway Prefect server for the whole session (about 8 s to start): flow tests only."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL for DuckLake catalogs: $O2C_TEST_PG (set by `.ci/run`), else a throwaway
    cluster from Debian's packages (tests/postgres.py), else the test skips saying why."""
    import tempfile

    from tests import postgres as pg

    given = os.environ.get("O2C_TEST_PG", "").strip()
    if given:
        yield given
        return
    if pg.binaries() is None:
        pytest.skip("no PostgreSQL here (apt-get install postgresql): DuckLake tests skipped")
    folder = Path(tempfile.mkdtemp(prefix="o2c-pg-"))  # under /tmp: the postgres user reaches it
    try:
        yield pg.start(folder)
    finally:
        pg.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


LAKE_ENV = "O2C_TEST_LAKE"  # a libpq string: "postgres:dbname=o2c_test host=/tmp/pg user=o2c"
_LAKE_KEY = re.compile(r" application_name=o2c_test_(\w+)$")


@pytest.fixture(scope="session", autouse=True)
def _warehouses_on_lake(tmp_path_factory: pytest.TempPathFactory):
    """With $O2C_TEST_LAKE set, every warehouse a test names by a `.duckdb` path is a DuckLake
    catalog on that PostgreSQL instead: one catalog schema and one data folder per path, so the
    tests stay as isolated as with files (`.ci/run` runs the warehouse tests this way too).
    The path's key rides in the libpq string as an application name, which PostgreSQL ignores.
    Only for tests that open the warehouse in this process: a command run as a subprocess gets
    the file."""
    catalog = os.environ.get(LAKE_ENV, "").strip()
    if not catalog:
        yield
        return
    from o2c import lake, warehouse

    real_location, real_settings, real_stand_in = warehouse.location, lake.settings, lake.stand_in
    data_root = tmp_path_factory.mktemp("lake-data")
    files: dict[str, Path] = {}

    def location(explicit=None) -> str:
        where = real_location(explicit)
        if not where.endswith(".duckdb"):
            return where
        path = Path(where).resolve()
        key = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        files[key] = path
        return f"ducklake:{catalog} application_name=o2c_test_{key}"

    def key_of(where: str) -> str | None:
        found = _LAKE_KEY.search(where)
        return found[1] if found else None

    def settings(where: str) -> lake.LakeSettings:
        key = key_of(where)
        if key is None:
            return real_settings(where)
        return lake.LakeSettings(data_path=f"{data_root}/{key}/", schema=f"t_{key}")

    def stand_in(where: str) -> Path:
        key = key_of(where)  # beside the file the test named: its reports, mail, lock go there
        return files[key].with_suffix(".ducklake") if key in files else real_stand_in(where)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(warehouse, "location", location)
        patch.setattr(lake, "settings", settings)
        patch.setattr(lake, "stand_in", stand_in)
        yield


def _silence_stderr_at_exit() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)


# duckdb 2.0's bindings print "nanobind: leaked ..." lines while the interpreter shuts down
# (STACK-NOTES): noise after pytest's summary. atexit runs after pytest has restored stderr.
atexit.register(_silence_stderr_at_exit)
