"""The warehouse's Prefect global concurrency limit: one writing task at a time, seen in the UI.

Every writing task of a flow run takes one slot of the limit `o2c-warehouse-<hash of the file>`
(limit 1) before the flock of o2c.locking, so a run that waits shows it: a log line in the run
naming the slot, and the limit's page in the UI (Concurrency > Global) shows the holder's lease.
The flock stays underneath because it is what survives a crash: the kernel drops it the moment
its holder dies, whereas the server frees a killed holder's slot only when its lease expires
(Prefect 3.8.8: the client renews the lease every 75 % of `lease_duration` from a thread; the
server's repossessor looks for expired leases every 15 s). Hence a short lease here (60 s): a
slot left by a SIGKILL frees itself within about 75 s and the next writer waits, then goes.

The limit is created by `o2c init` (`ensure_limit`), never on first use, and `o2c init` leaves
`<warehouse>.slot` beside the file saying so. From then on a writer that finds no limit fails
and says to run `o2c init`, so a typo in a server URL or a fresh server is noticed instead of
silently running without the slot. A warehouse that was never initialised for a slot (no
`.slot` file: made by plain code, by tests, by a version before this) is guarded by the flock
alone, as before.

When the slot is not taken (the flock alone serialises writers on this machine):
- outside a flow or task run (plain functions, `o2c init` itself, tests of the functions);
- with Prefect's ephemeral API (no PREFECT_API_URL, as with O2C_PREFECT_SERVER=ephemeral):
  each command has its own server process and lease store, so a slot taken by a command that
  dies would stay taken for every later one; the ephemeral API is a one-process affair anyway;
- when $O2C_WAREHOUSE_SLOT is `off` (the unit-test suite, which runs flows on a throwaway API).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SLOT_ENV = "O2C_WAREHOUSE_SLOT"  # "required" (default) or "off"
LEASE_S = 60.0
_PREFIX = "o2c-warehouse-"

log = logging.getLogger(__name__)


class WarehouseSlotMissing(RuntimeError):
    """No global concurrency limit for this warehouse on the Prefect server: run `o2c init`."""


def limit_name(warehouse: str | os.PathLike[str]) -> str:
    """`o2c-warehouse-<12 hex>`: one name per warehouse file, however its path is spelt.

    A DuckLake warehouse's local stand-in (o2c.lake) is named for the catalog itself, so every
    machine that opens the catalog, wherever its stand-in lives, takes the same slot.
    """
    path = Path(warehouse).expanduser()
    key = path.name if path.suffix == ".ducklake" else str(path.resolve())
    return _PREFIX + hashlib.sha256(key.encode()).hexdigest()[:12]


def marker_path(warehouse: str | os.PathLike[str]) -> Path:
    """`data/o2c.duckdb.slot`: written by `o2c init`, it makes the slot required for this file."""
    target = Path(warehouse).expanduser().resolve()
    return target.with_name(target.name + ".slot")


def slot_mode() -> str:
    mode = os.environ.get(SLOT_ENV, "required").strip().lower() or "required"
    if mode not in {"required", "off"}:
        raise ValueError(f"{SLOT_ENV}={mode!r}: use 'required' or 'off'")
    return mode


def api_in_use() -> bool:
    """True when a Prefect server URL is set (a real server, the local one, a test harness)."""
    from prefect.settings import get_current_settings

    return bool(get_current_settings().api.url)


def ensure_limit(warehouse: str | os.PathLike[str]) -> tuple[str, str]:
    """Create the warehouse's limit (limit 1), or set an existing one back to 1 and active.

    Returns the name and what was done: "created", "updated" or "unchanged".
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
    )
    from prefect.exceptions import ObjectNotFound

    name = limit_name(warehouse)
    with get_client(sync_client=True) as client:
        try:
            found = client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
            done = "created"
        else:
            done = "unchanged"
            if found.limit != 1 or not found.active:
                client.update_global_concurrency_limit(
                    name, GlobalConcurrencyLimitUpdate(limit=1, active=True)
                )
                done = "updated"
    marker = marker_path(warehouse)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(name + "\n", encoding="utf-8")
    return name, done


def _run_holder() -> object | None:
    """The task run (else flow run) this thread works for, or None outside any run."""
    if "prefect.context" not in sys.modules:  # prefect never imported: certainly no run
        return None
    from prefect.client.schemas.objects import ConcurrencyLeaseHolder
    from prefect.context import FlowRunContext, TaskRunContext

    task = TaskRunContext.get()
    if task is not None and task.task_run is not None:
        return ConcurrencyLeaseHolder(type="task_run", id=task.task_run.id)
    flow = FlowRunContext.get()
    if flow is not None and flow.flow_run is not None:
        return ConcurrencyLeaseHolder(type="flow_run", id=flow.flow_run.id)
    return None


@contextlib.contextmanager
def warehouse_slot(
    warehouse: str | os.PathLike[str],
    *,
    timeout_s: float,
    announce: Callable[[str], None],
) -> Iterator[str | None]:
    """Hold the warehouse's slot for the block when in a run on a server; yields its name.

    Missing limit: WarehouseSlotMissing saying to run `o2c init`. A slot taken by someone else:
    says once through `announce` that it waits, then waits up to `timeout_s` (TimeoutError).

    Taken through the client's public lease calls rather than Prefect's `concurrency()`: the
    first 423 (full) is what says "waiting" (no extra read), the lease is renewed only at 75 %
    of its life and its thread is not joined at the end: one request to take, one to give back
    (about 25 ms each on an idle server; on a busy SQLite-backed server a writing task measured
    about 2 s more, with either way of taking the slot: the server's database lock).
    """
    holder = _run_holder()
    if (
        holder is None
        or slot_mode() == "off"
        or not marker_path(warehouse).exists()
        or not api_in_use()
    ):
        yield None
        return
    from prefect.client.orchestration import get_client

    name = limit_name(warehouse)
    with get_client(sync_client=True) as client:
        lease_id, limit_id = _take(client, name, warehouse, holder, timeout_s, announce)
    _emit("prefect.concurrency-limit.acquired", name, limit_id)
    stop = threading.Event()
    threading.Thread(target=_renew, args=(lease_id, stop), daemon=True).start()
    try:
        yield name
    finally:
        stop.set()
        with get_client(sync_client=True) as client:
            client.release_concurrency_slots_with_lease(lease_id)
        _emit("prefect.concurrency-limit.released", name, limit_id)


def _take(
    client: Any,
    name: str,
    warehouse: str | os.PathLike[str],
    holder: object,
    timeout_s: float,
    announce: Callable[[str], None],
) -> tuple[str, str]:
    """One slot with a lease, retrying while the server answers 423 (full) until the deadline."""
    import httpx

    deadline = time.monotonic() + timeout_s
    announced = False
    while True:
        try:
            response = client.increment_concurrency_slots_with_lease(
                [name], 1, "concurrency", LEASE_S, holder=holder
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 423:
                raise
            retry = float(exc.response.headers.get("Retry-After") or 1.0)
        else:
            body = response.json()
            if not body.get("limits"):
                if body.get("lease_id"):
                    client.release_concurrency_slots_with_lease(body["lease_id"])
                raise WarehouseSlotMissing(
                    f"no concurrency limit {name} for the warehouse {warehouse} on the Prefect"
                    " server: run `o2c init` (with the same --db and PREFECT_API_URL)"
                )
            return body["lease_id"], body["limits"][0]["id"]
        if not announced:
            announce(f"waiting for the warehouse slot {name}: another writing task holds it")
            announced = True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"the warehouse slot {name} stayed taken for {timeout_s:g} s")
        time.sleep(min(max(retry, 0.1), 2.0, remaining))


def _renew(lease_id: str, stop: threading.Event) -> None:
    """Keep the lease alive while the block runs; a failure is only logged (the flock guards)."""
    from prefect.client.orchestration import get_client

    while not stop.wait(LEASE_S * 0.75):
        try:
            with get_client(sync_client=True) as client:
                client.renew_concurrency_lease(lease_id, LEASE_S)
        except Exception as exc:
            log.warning("could not renew the warehouse slot lease %s: %s", lease_id, exc)


def _emit(event: str, name: str, limit_id: str) -> None:
    """Prefect's own acquired/released events, so the event feed shows who held the slot."""
    from prefect.events import emit_event

    emit_event(
        event=event,
        resource={
            "prefect.resource.id": f"prefect.concurrency-limit.{limit_id}",
            "prefect.resource.name": name,
            "limit": "1",
        },
    )
