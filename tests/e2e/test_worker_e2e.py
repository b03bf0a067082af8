"""The other way to run prefect.yaml (issue 19): a process work pool, `prefect deploy --all` and a
`prefect worker`, as README says, on a real `prefect server`. Every deployment lands on the pool
with its schedule; a deployed run of ingest-invoices is picked up by the worker and loads its
file into the warehouse of the worker's environment.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx
import pytest
import yaml

from tests.erp_exports import GOOD, write_export

from .conftest import BIN, REPO, PrefectServer, Processes, wait_for
from .test_deployments_e2e import _create_run, runs_of

pytestmark = pytest.mark.server

WAIT = 180
POOL = "o2c"


def _pause_schedules(api: httpx.Client) -> None:
    """The deployments stay on the session's server: their schedules (every 15 minutes for
    Odoo) must not start runs in the tests after this one."""
    for deployment in api.post("/deployments/filter", json={}).raise_for_status().json():
        api.post(f"/deployments/{deployment['id']}/pause_deployment").raise_for_status()


@pytest.mark.usefixtures("own_automations")
def test_deploy_all_on_a_process_pool_and_a_worker_runs_a_deployment(
    prefect_server: PrefectServer,
    procs: Processes,
    api: httpx.Client,
    o2c_env: dict[str, str],
    tmp_path: Path,
) -> None:
    declared = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    names = [d["name"] for d in declared["deployments"]]
    procs.env["O2C_PROJECT_DIR"] = str(REPO)  # where the pull step finds flows/

    procs.run("pool", [str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process",
                       "--overwrite"], timeout=WAIT)  # fmt: skip
    try:
        procs.run("deploy", [str(BIN / "prefect"), "--no-prompt", "deploy", "--all"],
                  timeout=WAIT)  # fmt: skip
        found = api.post("/deployments/filter", json={"deployments": {"name": {"any_": names}}})
        deployments = {d["name"]: d for d in found.raise_for_status().json()}
        assert sorted(deployments) == sorted(names)
        assert {d["work_pool_name"] for d in deployments.values()} == {POOL}
        scheduled = {n for n, d in deployments.items() if d["schedules"]}
        assert scheduled == {d["name"] for d in declared["deployments"] if d.get("schedules")}

        procs.start("worker", [str(BIN / "prefect"), "worker", "start", "--pool", POOL])
        export = write_export(tmp_path / "invoices.csv", GOOD)
        ingest_id = deployments["ingest-invoices"]["id"]
        _create_run(api, ingest_id, {"path": str(export)})

        def finished() -> dict | None:
            procs.check_alive()
            runs = runs_of(api, ingest_id)
            done = [r for r in runs if r["parameters"].get("path") == str(export)]
            ended = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
            return done[0] if done and done[0]["state_type"] in ended else None

        run = wait_for("the worker's ingest-invoices run", finished, timeout=WAIT, every=2,
                       context=procs.report)  # fmt: skip
        assert run["state_type"] == "COMPLETED", run["state"]
        assert run["work_queue_name"] == "default" and run["work_pool_name"] == POOL
        with duckdb.connect(o2c_env["O2C_DB"], read_only=True) as con:
            (loaded,) = con.execute("SELECT count(*) FROM invoices").fetchone()
        assert loaded == len(GOOD)
    finally:
        _pause_schedules(api)
