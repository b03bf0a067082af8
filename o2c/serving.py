"""`o2c serve`: every deployment of prefect.yaml served from one process, triggers included.

prefect.yaml stays the one description of the deployments: this reads it, so `prefect deploy`
(work pool + worker) and `o2c serve` (one process, no pool) run the same flows the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter


def load_deployments(project_file: Path, only: list[str] | None = None) -> list[Any]:
    """RunnerDeployments built from prefect.yaml, flows loaded from their entrypoints."""
    from prefect.client.schemas.schedules import construct_schedule
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
        schedules = [
            construct_schedule(**{k: v for k, v in s.items() if k not in {"active"}})
            for s in item.get("schedules") or []
        ]
        deployments.append(
            flow.to_deployment(
                name=item["name"],
                description=" ".join(str(item.get("description", "")).split()) or None,
                parameters=item.get("parameters") or {},
                triggers=triggers.validate_python(item.get("triggers") or []),
                schedules=schedules or None,
            )
        )
    return deployments


def serve(project_file: Path, only: list[str] | None = None) -> None:
    from prefect import serve as prefect_serve

    deployments = load_deployments(project_file, only)
    if not deployments:
        raise ValueError(f"{project_file}: no deployment named {', '.join(only or [])}")
    prefect_serve(*deployments, print_starting_message=True)
