"""prefect.yaml declares every flow with its schedule or trigger, in Europe/Paris (issue 19).

Read as `o2c serve` reads it (o2c/serving.py) and checked against the flows that exist, so a new
flow without a deployment, a schedule without a time zone or a reconcile trigger that would fire
once per file fails here, before any server is started.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from prefect import Flow
from prefect.events import DeploymentTriggerTypes
from prefect.utilities.callables import parameter_schema
from pydantic import TypeAdapter

import o2c.flows
from o2c.flows.run_names import TIMEZONE, run_name, scheduled_at
from o2c.serving import load_deployments, schedules_of

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "prefect.yaml"
NOT_DEPLOYED = {"demo"}  # o2c-demo writes sample files and runs o2c-daily on them: by hand only
INGESTIONS = {"ingest-bank-statement", "open-banking-sync", "ingest-invoices"}


def spec() -> dict:
    return yaml.safe_load(PROJECT.read_text(encoding="utf-8"))


def by_name() -> dict[str, dict]:
    return {d["name"]: d for d in spec()["deployments"]}


def flows_in_repository() -> dict[str, Flow]:
    """`flows/<module>.py:<function>` for every @flow defined in flows/ (helpers have none)."""
    found = {}
    for module in pkgutil.iter_modules(o2c.flows.__path__):
        if module.name in NOT_DEPLOYED:
            continue
        loaded = importlib.import_module(f"o2c.flows.{module.name}")
        for attribute, value in vars(loaded).items():
            if isinstance(value, Flow) and value.fn.__module__ == loaded.__name__:
                found[f"flows/{module.name}.py:{attribute}"] = value
    return found


def test_every_flow_has_a_deployment_with_a_schedule_or_a_trigger() -> None:
    flows = flows_in_repository()
    assert len(flows) >= 7, sorted(flows)  # invoices, customers, bank, open banking, ...
    deployments = spec()["deployments"]
    assert sorted(flows) == sorted({d["entrypoint"] for d in deployments})
    for deployment in deployments:
        assert deployment.get("schedules") or deployment.get("triggers"), deployment["name"]
        assert "finance" in deployment.get("tags", []), deployment["name"]
        assert deployment["work_pool"]["name"] == "o2c", deployment["name"]


def test_every_schedule_is_in_europe_paris_and_erp_files_load_at_six() -> None:
    schedules = [(d["name"], s) for d in spec()["deployments"] for s in d.get("schedules") or []]
    assert {name for name, _ in schedules} >= {
        "ingest-invoices", "ingest-customers", "open-banking-sync", "aging", "o2c-daily",
        "dunning",
    }  # fmt: skip
    for name, schedule in schedules:
        assert schedule.get("timezone") == TIMEZONE == "Europe/Paris", name
        assert schedule.get("active", True), name
    deployments = by_name()
    for name in ("ingest-invoices", "ingest-customers"):
        assert [s["cron"] for s in deployments[name]["schedules"]] == ["0 6 * * *"]
        assert deployments[name]["parameters"]["path"].startswith("data/"), name


def reconcile_trigger():
    (raw,) = by_name()["reconcile"]["triggers"]
    (trigger,) = TypeAdapter(list[DeploymentTriggerTypes]).validate_python([raw])
    return trigger


def test_reconcile_runs_once_after_a_burst_of_completed_ingestions() -> None:
    trigger = reconcile_trigger()
    completed = {"prefect.flow-run.Completed"}
    # Debounce: each completion restarts the window; it fires when a window passes without one.
    assert trigger.posture == "Proactive"
    assert trigger.after == completed and trigger.expect == completed
    assert trigger.threshold == 1
    assert timedelta(seconds=10) <= trigger.within <= timedelta(minutes=5)
    assert trigger.match.model_dump() == {"prefect.resource.id": "prefect.flow-run.*"}
    related = trigger.match_related.model_dump()
    assert related["prefect.resource.role"] == "deployment"
    # only deployed runs of ingestions that exist (o2c-daily's subflows reconcile themselves)
    assert set(related["prefect.resource.name"]) == INGESTIONS
    assert set(by_name()) >= INGESTIONS
    assert trigger.parameters == {"ask_finance": False}  # nobody waits for a form at night


def test_serving_builds_every_deployment_with_its_time_zone_tags_and_triggers() -> None:
    served = {d.name: d for d in load_deployments(PROJECT)}
    assert set(served) == set(by_name())
    for name, declared in by_name().items():
        deployment = served[name]
        assert deployment.tags == declared["tags"], name
        assert [s.schedule.timezone for s in deployment.schedules or []] == [
            TIMEZONE for _ in declared.get("schedules") or []
        ], name
        assert len(deployment.triggers) == len(declared.get("triggers") or []), name
    assert served["ingest-invoices"].schedules[0].schedule.cron == "0 6 * * *"
    assert served["open-banking-sync"].schedules[0].schedule.interval == timedelta(hours=1)
    (trigger,) = served["reconcile"].triggers
    assert trigger.posture == "Proactive" and trigger.parameters == {"ask_finance": False}


def test_dunning_runs_on_weekdays_at_nine_and_asks_finance() -> None:
    dunning = by_name()["dunning"]
    assert [s["cron"] for s in dunning["schedules"]] == ["0 9 * * 1-5"]
    assert dunning["parameters"] == {"ask_finance": True}  # a person is at work at 09:00


def test_a_schedule_field_serving_does_not_know_is_an_error_naming_it() -> None:
    item = {"name": "aging", "schedules": [{"cron": "0 19 * * *", "timezone": TIMEZONE, "tz": 1}]}
    with pytest.raises(ValueError, match=r"prefect.yaml: deployment aging, schedule 1: .*\btz\b"):
        schedules_of(item)


def test_every_parameter_of_a_deployed_flow_has_a_description_in_the_ui_form() -> None:
    for entrypoint, flow in flows_in_repository().items():
        properties = parameter_schema(flow).model_dump()["properties"]
        assert properties, entrypoint
        missing = [name for name, field in properties.items() if not field.get("description")]
        assert not missing, f"{entrypoint}: no description for {missing}"


def test_run_names_say_what_and_when() -> None:
    day = date(2026, 12, 4)
    assert run_name("reconcile", day) == "reconcile-2026-12-04"
    assert (
        run_name("ingest", day, "/srv/inbox/camt053_EUR_187775.xml")
        == "ingest-camt053_EUR_187775.xml-2026-12-04"
    )
    assert (
        run_name("open-banking-sync", datetime(2026, 12, 4, 10, 0))
        == "open-banking-sync-2026-12-04T10:00"
    )
    # a run scheduled at 00:30 in Paris is named for its Paris day, not the UTC one
    late = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    assert scheduled_at(late).date() == day
    assert scheduled_at(late).hour == 0
