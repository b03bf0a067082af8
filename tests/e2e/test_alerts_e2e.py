"""`o2c alerts register` on a real `prefect server` (issue 19): the automations of automations.yaml
are created as declared (read back through the API, notifying through the block `o2c blocks
register` made from O2C_ALERT_WEBHOOK_URL), and a second run changes nothing."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from .conftest import BIN, REPO, PrefectServer, Processes

pytestmark = pytest.mark.server


@pytest.fixture(autouse=True)
def slot_required(o2c_env: dict[str, str]) -> None:
    """The writer slot on, whatever the suite's default (O2C_WAREHOUSE_SLOT=off for unit tests)."""
    o2c_env["O2C_WAREHOUSE_SLOT"] = "required"


WAIT = 180


def _by_name(server: PrefectServer) -> dict[str, list[dict]]:
    with server.client() as api:
        found = api.post("/automations/filter", json={}).raise_for_status().json()
    out: dict[str, list[dict]] = {}
    for automation in found:
        out.setdefault(automation["name"], []).append(automation)
    return out


def test_alerts_are_created_as_declared_and_a_second_run_changes_nothing(
    prefect_server: PrefectServer, procs: Processes, o2c_env: dict[str, str]
):
    declared = yaml.safe_load((REPO / "automations.yaml").read_text(encoding="utf-8"))
    wanted = {a["name"]: a for a in declared["automations"]}
    assert set(wanted) >= {
        "o2c-flow-run-failed",
        "o2c-statement-rejected",
        "o2c-dunning-bounced",
        "o2c-no-bank-file",
    }

    # Without the notification block there is nothing to alert through: said, nothing created.
    refused = subprocess.run(
        [str(BIN / "o2c"), "alerts", "register"],
        env=o2c_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert refused.returncode == 1
    assert "o2c-alerts" in refused.stderr and "o2c blocks register" in refused.stderr
    assert not set(wanted) & set(_by_name(prefect_server))

    procs.env["O2C_ALERT_WEBHOOK_URL"] = "http://127.0.0.1:9/alerts"
    procs.run("blocks", [str(BIN / "o2c"), "blocks", "register"], timeout=WAIT)
    # The block API reads by type and name; find the document whatever its type.
    with prefect_server.client() as api:
        documents = api.post("/block_documents/filter", json={}).raise_for_status().json()
    block = next(d for d in documents if d["name"] == "o2c-alerts")

    first = procs.run("alerts-1", [str(BIN / "o2c"), "alerts", "register"], timeout=WAIT)
    for name in wanted:
        assert f"created {name}" in first
    found = _by_name(prefect_server)
    for name, spec in wanted.items():
        assert len(found[name]) == 1, name
        automation = found[name][0]
        trigger = automation["trigger"]
        for key in ("posture", "expect", "match", "match_related", "threshold", "within"):
            if key in spec["trigger"]:
                got, want = trigger[key], spec["trigger"][key]
                if key == "expect":
                    got, want = sorted(got), sorted(want)
                if key == "within":
                    got = float(got)
                assert got == want, (name, key)
        (action,) = automation["actions"]
        assert action["type"] == "send-notification"
        assert action["block_document_id"] == block["id"]
        assert action["subject"] == spec["actions"][0]["subject"]
    assert found["o2c-dunning-bounced"][0]["trigger"]["expect"] == ["o2c.dunning.bounced"]
    assert found["o2c-no-bank-file"][0]["trigger"]["posture"] == "Proactive"

    second = procs.run("alerts-2", [str(BIN / "o2c"), "alerts", "register"], timeout=WAIT)
    for name in wanted:
        assert f"unchanged {name}" in second
    again = _by_name(prefect_server)
    assert {n: [a["id"] for a in again[n]] for n in wanted} == {
        n: [a["id"] for a in found[n]] for n in wanted
    }
