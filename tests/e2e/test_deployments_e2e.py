"""Every deployment of prefect.yaml on a real `prefect server`, read back through its API
(issue 19): schedules in Europe/Paris, tags, the UI form's descriptions, the inbox and reconcile
triggers; then a statement dropped in the bank inbox (ingested by its trigger) and two invoice
files loaded by deployed runs make exactly one reconcile run, started by the debounced trigger
after all three, and every run is named for what it did and its day; last, o2c-daily runs to
Completed on a demo company's files at the paths prefect.yaml gives it.

One `o2c serve` of the whole file, as a laptop or a single VM runs it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from o2c.tasks.demo.camt_writer import write_camt053
from o2c.tasks.demo.company import generate_company
from o2c.tasks.demo.files import write_demo_files
from tests.erp_exports import GOOD, write_export

from .conftest import BIN, REPO, PrefectServer, Processes, wait_for
from .test_inbox_trigger import statement, upload

pytestmark = pytest.mark.server

PROJECT = REPO / "prefect.yaml"
WAIT = 180  # seconds per step: a slow shared machine, and a 60 s debounce window
FINISHED = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
PARIS = ZoneInfo("Europe/Paris")


def declared() -> dict[str, dict]:
    spec = yaml.safe_load(PROJECT.read_text(encoding="utf-8"))
    return {d["name"]: d for d in spec["deployments"]}


def registered(api: httpx.Client, names: list[str]) -> dict[str, dict] | None:
    """The deployments by name once all exist, with the automations that run each."""
    found = api.post("/deployments/filter", json={"deployments": {"name": {"any_": names}}})
    found.raise_for_status()
    deployments = {d["name"]: d for d in found.json()}
    if set(deployments) != set(names):
        return None
    automations = api.post("/automations/filter", json={}).raise_for_status().json()
    for deployment in deployments.values():
        deployment["automations"] = [
            a
            for a in automations
            if a["enabled"]
            and any(
                x["type"] == "run-deployment" and x.get("deployment_id") == deployment["id"]
                for x in a["actions"]
            )
        ]
    expected = {n for n, d in declared().items() if d.get("triggers")}
    if any(len(deployments[n]["automations"]) != len(declared()[n]["triggers"]) for n in expected):
        return None
    return deployments


def seconds(value: float | str) -> float:
    """A timedelta as the API writes it: seconds, or an ISO 8601 duration like PT60S."""
    if isinstance(value, int | float):
        return float(value)
    match = re.fullmatch(r"P(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?", value)
    assert match, value
    hours, minutes, secs = (float(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + secs


def runs_of(api: httpx.Client, deployment_id: str) -> list[dict]:
    found = api.post(
        "/flow_runs/filter",
        json={"deployments": {"id": {"any_": [deployment_id]}}, "sort": "START_TIME_ASC"},
    )
    found.raise_for_status()
    return found.json()


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def paris_day(run: dict) -> str:
    return moment(run["expected_start_time"]).astimezone(PARIS).date().isoformat()


def _create_run(api: httpx.Client, deployment_id: str, parameters: dict) -> None:
    """Create a deployed run as Prefect's own client does (the `api` fixture retries a 503)."""
    api.post(
        f"/deployments/{deployment_id}/create_flow_run", json={"parameters": parameters}
    ).raise_for_status()


@pytest.mark.usefixtures("own_automations")
def test_every_deployment_is_registered_and_ingestions_start_one_reconcile(
    prefect_server: PrefectServer,
    procs: Processes,
    api: httpx.Client,
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"  # the serving folder: data/erp/... of prefect.yaml live here
    (project / "data" / "erp").mkdir(parents=True)
    names = list(declared())
    procs.start("o2c-serve", [str(BIN / "o2c"), "serve", "--file", str(PROJECT)], cwd=project)
    deployments = wait_for(
        f"{len(names)} deployments and their triggers on {prefect_server.api_url}",
        lambda: (procs.check_alive(), registered(api, names))[1],
        timeout=WAIT,
        every=2,
        context=procs.report,
    )

    # Read back: each as declared, schedules with their time zone, tags, form descriptions.
    for name, spec in declared().items():
        deployment = deployments[name]
        assert deployment["tags"] == spec["tags"], name
        assert deployment["parameters"] == spec.get("parameters", {}), name
        schedules = [s["schedule"] for s in deployment["schedules"] if s["active"]]
        assert [s.get("timezone") for s in schedules] == [
            "Europe/Paris" for _ in spec.get("schedules") or []
        ], name
        for got, want in zip(schedules, spec.get("schedules") or [], strict=True):
            if "cron" in want:
                assert got["cron"] == want["cron"], name
            else:
                assert seconds(got["interval"]) == want["interval"], name
        form = deployment["parameter_openapi_schema"]["properties"]
        assert form and all(field.get("description") for field in form.values()), (name, form)

    (inbox,) = deployments["ingest-bank-statement"]["automations"]
    assert inbox["trigger"]["expect"] == ["o2c.inbox.file.received"]
    (automation,) = deployments["reconcile"]["automations"]
    trigger = automation["trigger"]
    assert trigger["posture"] == "Proactive" and trigger["threshold"] == 1
    assert trigger["after"] == trigger["expect"] == ["prefect.flow-run.Completed"]
    assert seconds(trigger["within"]) == 60
    related = trigger["match_related"]
    related = related[0] if isinstance(related, list) else related
    assert related["prefect.resource.role"] == "deployment"
    assert sorted(related["prefect.resource.name"]) == sorted(
        ["ingest-bank-statement", "ingest-invoices", "open-banking-sync"]
    )
    (action,) = automation["actions"]
    assert action["parameters"] == {"ask_finance": False}

    # A statement dropped in the bank inbox, and two invoice exports loaded by deployed runs a
    # few seconds apart.
    drop = project / "drop"
    drop.mkdir()
    procs.start("o2c-watch", [str(BIN / "o2c"), "watch", str(drop), "--settle", "1"])
    made = tmp_path / "releve.xml"
    write_camt053(made, [statement()], message_id="E2E-DEPLOY-1")
    upload(made.read_bytes(), drop / made.name)
    files = [
        write_export(project / "data" / "erp" / "invoices_a.csv", GOOD[:3]),
        write_export(project / "data" / "erp" / "invoices_b.csv", GOOD[3:]),
    ]
    ingest_id = deployments["ingest-invoices"]["id"]
    for file in files:
        _create_run(api, ingest_id, {"path": str(file)})

    def finished(deployment: str, count: int) -> list[dict] | None:
        procs.check_alive()
        runs = runs_of(api, deployments[deployment]["id"])
        done = len(runs) == count and all(r["state_type"] in FINISHED for r in runs)
        return runs if done else None

    ingests = wait_for("both ingest-invoices runs", lambda: finished("ingest-invoices", 2),
                       timeout=WAIT, every=2, context=procs.report)  # fmt: skip
    assert [r["state_type"] for r in ingests] == ["COMPLETED", "COMPLETED"], ingests
    assert sorted(r["name"] for r in ingests) == sorted(
        f"ingest-{f.name}-{paris_day(r)}" for f, r in zip(files, ingests, strict=True)
    )
    (bank,) = wait_for("the inbox's ingest-bank-statement run",
                       lambda: finished("ingest-bank-statement", 1), timeout=WAIT, every=2,
                       context=procs.report)  # fmt: skip
    assert bank["state_type"] == "COMPLETED", bank["state"]
    assert (bank.get("created_by") or {}).get("id") == inbox["id"], bank["created_by"]
    last_done = max(moment(r["end_time"]) for r in [*ingests, bank])

    reconcile_id = deployments["reconcile"]["id"]

    def reconciled() -> dict | None:
        procs.check_alive()
        runs = runs_of(api, reconcile_id)
        return runs[0] if runs and runs[0]["state_type"] in FINISHED else None

    run = wait_for("the reconcile run the trigger starts", reconciled, timeout=WAIT, every=2,
                   context=procs.report)  # fmt: skip
    assert run["state_type"] == "COMPLETED", run["state"]
    assert (run.get("created_by") or {}).get("id") == automation["id"], run["created_by"]
    assert run["parameters"]["ask_finance"] is False
    assert run["name"] == f"reconcile-{paris_day(run)}"
    assert date.fromisoformat(paris_day(run)) >= date.fromisoformat(paris_day(ingests[0]))
    # Debounced: started a window after the last completion, not after the first one ...
    assert moment(run["created"]) >= last_done + timedelta(seconds=55), (run["created"], last_done)
    # ... and once for the three files.
    assert len(runs_of(api, reconcile_id)) == 1

    # o2c-daily, as its schedule starts it: prefect.yaml's relative paths, read from the
    # serving folder, hold a small demo company's exports and bank inbox.
    company = generate_company(invoices=40, seed=5, as_of=date.today())
    demo = write_demo_files(company, project / "data" / "erp", seed=5)
    demo.bank_inbox.rename(project / "data" / "inbox")
    _create_run(api, deployments["o2c-daily"]["id"], {})
    (daily,) = wait_for("the o2c-daily run", lambda: finished("o2c-daily", 1), timeout=WAIT,
                        every=2, context=procs.report)  # fmt: skip
    assert daily["state_type"] == "COMPLETED", daily["state"]
    assert daily["name"] == f"o2c-daily-{paris_day(daily)}"
    assert not [p for p in (project / "data" / "inbox").iterdir() if p.is_file()]  # all ingested
