"""The ephemeral Prefect server dies with the o2c command that started it.

Used by `o2c watch` and `o2c serve` without PREFECT_API_URL, and by every command with
O2C_PREFECT_SERVER=ephemeral; one-shot commands otherwise share o2c.local_server.

Without PREFECT_API_URL, Prefect 3.8 starts `python -m uvicorn ... prefect.server.api.server:
create_app` as a child (SubprocessASGIServer) and stops it at exit; a SIGKILLed command never
reaches its exit, so the server lived on, one orphan per kill. Here the child is started as
`python -m o2c.ephemeral <parent pid> <uvicorn args>`: the same uvicorn, plus a thread that
stops it as soon as its parent is gone. A watcher in the child, rather than prctl's
PR_SET_PDEATHSIG, because the death signal follows the *thread* that forked, and Prefect starts
the server from whichever thread first needs the API.
"""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
import threading
import time
from typing import Any

_POLL_S = 0.5
_GRACE_S = 10.0  # uvicorn's own shutdown first; then out, whatever it is doing


def bind_to_this_process() -> None:
    """Make any ephemeral server this process starts from now on die with it (idempotent)."""
    from prefect.server.api import server as prefect_server

    if not isinstance(prefect_server.subprocess, _Watched):
        prefect_server.subprocess = _Watched(os.getpid())


class _Watched:
    """Prefect's server module sees this as `subprocess`: its uvicorn child gets a watcher."""

    def __init__(self, parent: int) -> None:
        self._parent = parent

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, args: Any, *rest: Any, **kwargs: Any) -> subprocess.Popen:
        return subprocess.Popen(watched_command(args, self._parent), *rest, **kwargs)


def watched_command(args: Any, parent: int) -> Any:
    """`python -m uvicorn ...` becomes `python -m o2c.ephemeral PARENT ...`; others unchanged."""
    if isinstance(args, list | tuple) and list(args[1:3]) == ["-m", "uvicorn"]:
        return [args[0], "-m", "o2c.ephemeral", str(parent), *args[3:]]
    return args


def _watch_parent(parent: int) -> None:
    """When the parent is gone (we are re-parented), stop uvicorn like Prefect's stop() does."""
    while os.getppid() == parent:
        time.sleep(_POLL_S)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(_GRACE_S)
    os._exit(1)


def main(argv: list[str]) -> None:
    """In the child: watch the parent, then run uvicorn with the arguments Prefect gave it."""
    parent, uvicorn_args = int(argv[0]), argv[1:]
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="o2c-parent").start()
    sys.argv = ["uvicorn", *uvicorn_args]
    runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
