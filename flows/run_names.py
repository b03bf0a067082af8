"""Flow run names that say what and when: `reconcile-2026-12-04`, `ingest-releve.xml-2026-12-04`.

Prefect calls a `flow_run_name` callable with no argument inside the run's context; the names
are built by `run_name` (plain data in, a string out) from the run's parameters and the day it
was scheduled for, in the deployments' time zone, so a 00:30 run in Paris is named for its day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import PurePath
from zoneinfo import ZoneInfo

TIMEZONE = "Europe/Paris"  # every schedule of prefect.yaml uses it too (tests/test_deployments.py)


def run_name(what: str, day: date | datetime, file: str | None = None) -> str:
    """`what-day`, or `what-file-day` with the file's name only (never its folders); a datetime
    gives `what-2026-12-04T10:00` (runs several times a day)."""
    when = day.strftime("%Y-%m-%dT%H:%M") if isinstance(day, datetime) else day.isoformat()
    parts = [what, PurePath(file).name if file else None, when]
    return "-".join(p for p in parts if p)


def scheduled_at(start: datetime | None, zone: str = TIMEZONE) -> datetime:
    """When a run was scheduled for, in `zone`; now when the run has no expected start."""
    moment = start if start is not None else datetime.now(ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(zone))


def _runtime() -> tuple[dict, datetime]:
    from prefect.runtime import flow_run

    return dict(flow_run.parameters or {}), scheduled_at(flow_run.scheduled_start_time)


def daily_name(what: str) -> Callable[[], str]:
    """`what-2026-12-04`: for flows whose run is about a day (reconcile, o2c-daily, syncs)."""

    def name() -> str:
        return run_name(what, _runtime()[1].date())

    return name


def hourly_name(what: str) -> Callable[[], str]:
    """`what-2026-12-04T10:00`: for flows run several times a day (Open Banking pull)."""

    def name() -> str:
        return run_name(what, _runtime()[1].replace(tzinfo=None))

    return name


def file_name(what: str, parameter: str = "path") -> Callable[[], str]:
    """`what-<file name>-2026-12-04`: for flows that load one file named by `parameter`."""

    def name() -> str:
        parameters, day = _runtime()
        return run_name(what, day.date(), parameters.get(parameter))

    return name


def as_of_name(what: str) -> Callable[[], str]:
    """`what-<as_of>`: the day a run is about when it says one (aging), else its own day."""

    def name() -> str:
        parameters, day = _runtime()
        as_of = parameters.get("as_of")
        return run_name(what, date.fromisoformat(str(as_of)) if as_of else day.date())

    return name
