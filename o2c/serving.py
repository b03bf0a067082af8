"""`o2c serve`: every deployment of prefect.yaml served from one process, triggers included.

prefect.yaml stays the one description of the deployments: this reads it, so `prefect deploy`
(work pool + worker) and `o2c serve` (one process, no pool) run the same flows the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

_SCHEDULE_FIELDS = {"interval", "anchor_date", "cron", "rrule", "timezone"}
_SCHEDULE_OPTIONS = {"active", "parameters", "slug", "max_scheduled_runs"}


def schedules_of(item: dict[str, Any], source: str = "prefect.yaml") -> list[Any]:
    """A deployment's `schedules:` as Prefect's DeploymentScheduleCreate, as `prefect deploy`
    reads them: interval (seconds), cron or rrule, with their time zone, and `active`."""
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import construct_schedule

    made = []
    for number, entry in enumerate(item.get("schedules") or [], start=1):
        unknown = set(entry) - _SCHEDULE_FIELDS - _SCHEDULE_OPTIONS
        if unknown:
            raise ValueError(
                f"{source}: deployment {item['name']}, schedule {number}: unknown field(s)"
                f" {', '.join(sorted(unknown))}"
            )
        schedule = construct_schedule(**{k: v for k, v in entry.items() if k in _SCHEDULE_FIELDS})
        options = {k: v for k, v in entry.items() if k in _SCHEDULE_OPTIONS}
        made.append(DeploymentScheduleCreate(schedule=schedule, **options))
    return made


def load_deployments(project_file: Path, only: list[str] | None = None) -> list[Any]:
    """RunnerDeployments built from prefect.yaml, flows loaded from their entrypoints."""
    from prefect.events import DeploymentTriggerTypes
    from prefect.flows import load_flow_from_entrypoint

    spec = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    root = project_file.resolve().parent
    triggers = TypeAdapter(list[DeploymentTriggerTypes])
    deployments = []
    for item in spec.get("deployments", []):
        if only and item["name"] not in only:
            continue
        file, _, func = item["entrypoint"].partition(":")
        flow = load_flow_from_entrypoint(f"{root / file}:{func}")
        deployments.append(
            flow.to_deployment(
                name=item["name"],
                description=" ".join(str(item.get("description", "")).split()) or None,
                parameters=item.get("parameters") or {},
                triggers=triggers.validate_python(item.get("triggers") or []),
                schedules=schedules_of(item, str(project_file)) or None,
                tags=item.get("tags") or None,
            )
        )
    return deployments


def serve(project_file: Path, only: list[str] | None = None) -> None:
    from prefect import serve as prefect_serve

    deployments = load_deployments(project_file, only)
    if not deployments:
        raise ValueError(f"{project_file}: no deployment named {', '.join(only or [])}")
    prefect_serve(*deployments, print_starting_message=True)
