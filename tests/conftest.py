"""Shared test set-up: no analytics, and a Prefect API only for the tests that ask for one."""

from __future__ import annotations

import atexit
import os
import sys

import pytest

# The fake Bridge API (tests/fakes) as a fixture for any test that asks for `bridge_server`.
pytest_plugins = ["tests.tasks.bank.conftest_bridge"]

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


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
