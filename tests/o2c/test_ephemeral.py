"""o2c.ephemeral: the ephemeral Prefect server is started under a watcher of its parent.

The real thing (a SIGKILLed `o2c` leaves no server behind) is in tests/hardening.
"""

from __future__ import annotations

import subprocess
import sys

from o2c.ephemeral import bind_to_this_process, watched_command


def test_the_uvicorn_child_is_started_under_the_watcher():
    prefect_args = [sys.executable, "-m", "uvicorn", "--factory", "x:create_app", "--port", "1"]
    assert watched_command(prefect_args, 42) == [
        sys.executable, "-m", "o2c.ephemeral", "42", "--factory", "x:create_app", "--port", "1",
    ]  # fmt: skip
    assert watched_command(["git", "status"], 42) == ["git", "status"]
    assert watched_command("uvicorn app", 42) == "uvicorn app"


def test_binding_twice_wraps_prefect_once():
    from prefect.server.api import server as prefect_server

    before = prefect_server.subprocess  # an in-process CLI test may have bound it already
    prefect_server.subprocess = subprocess
    try:
        bind_to_this_process()
        bound = prefect_server.subprocess
        bind_to_this_process()
        assert prefect_server.subprocess is bound is not subprocess
        assert bound.TimeoutExpired is subprocess.TimeoutExpired  # the rest is subprocess itself
    finally:
        prefect_server.subprocess = before
