"""Shared test set-up: no analytics, and a Prefect API only for the tests that ask for one."""

from __future__ import annotations

import atexit
import os
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


def _silence_stderr_at_exit() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)


# duckdb 2.0's bindings print "nanobind: leaked ..." lines while the interpreter shuts down
# (STACK-NOTES): noise after pytest's summary. atexit runs after pytest has restored stderr.
atexit.register(_silence_stderr_at_exit)
