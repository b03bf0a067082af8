"""Shared test set-up: no analytics, and a Prefect API only for the tests that ask for one."""

from __future__ import annotations

import os

import pytest

# The fake Bridge API (tests/fakes) as a fixture for any test that asks for `bridge_server`.
pytest_plugins = ["tests.tasks.conftest_bridge"]

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


@pytest.fixture(scope="session")
def prefect_api():
    """One throwaway Prefect server for the whole session (about 8 s to start): flow tests only."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
