"""Finance's approval of dunning through a real Prefect server (issue 17, end to end).

A dunning run whose level needs approval runs in its own process against `prefect server
start`; it pauses on the approval form. The test reads the form's schema through the API
(choices, not typed ids; "decided by" required), resumes the run with one customer excluded,
and checks what each customer got (.eml files), the exclusion in the warehouse and in the
audit log, and the approval's audit row naming who decided.
"""

from __future__ import annotations

import email
import json
import sys

import duckdb
import httpx
import pytest

from tests.tasks.dunning.run_fixtures import AS_OF, eml_files, make_warehouse, write_policy

from .conftest import BIN, Processes, wait_for

pytestmark = pytest.mark.server

SCRIPT = """
import sys
from datetime import date
from o2c.flows.dunning import dunning
dunning(as_of=date.fromisoformat(sys.argv[1]), policy_file=sys.argv[2], wait_minutes=5)
"""


def _paused(api: httpx.Client) -> dict | None:
    found = api.post(
        "/flow_runs/filter",
        json={
            "flows": {"name": {"any_": ["dunning"]}},
            "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}},
        },
    ).raise_for_status()
    # Prefect saves the form just after the Paused state: a run without it yet is not ready.
    runs = [r for r in found.json() if _has_form(api, r)]
    return runs[0] if runs else None


def _has_form(api: httpx.Client, run: dict) -> bool:
    state = run["state"]
    key = f"{state['name'].lower()}-{state['state_details']['pause_key']}-schema"
    return api.get(f"/flow_runs/{run['id']}/input/{key}").status_code == 200


def _schema(api: httpx.Client, run: dict) -> dict:
    state = run["state"]
    key = f"{state['name'].lower()}-{state['state_details']['pause_key']}-schema"
    answer = api.get(f"/flow_runs/{run['id']}/input/{key}").raise_for_status()
    value = answer.json()
    return json.loads(value) if isinstance(value, str) else value


def _switches(node) -> list:
    found = []
    if isinstance(node, dict):
        if any(k in node for k in ("anyOf", "oneOf")) or isinstance(node.get("type"), list):
            found.append(node)
        for value in node.values():
            found += _switches(value)
    elif isinstance(node, list):
        for value in node:
            found += _switches(value)
    return found


def test_finance_excludes_one_customer_in_the_paused_form(
    procs: Processes, api: httpx.Client, o2c_env: dict[str, str], tmp_path
) -> None:
    db = make_warehouse(tmp_path)
    assert str(db) == o2c_env["O2C_DB"]
    policy = write_policy(tmp_path, needs_approval=True)
    procs.run("init", [str(BIN / "o2c"), "init"], timeout=120)  # the warehouse's writer slot
    procs.start("dunning", [sys.executable, "-c", SCRIPT, AS_OF.isoformat(), str(policy)])

    def paused() -> dict | None:
        procs.check_alive()
        return _paused(api)

    run = wait_for("the dunning run to pause", paused, timeout=180, context=procs.report)
    schema = _schema(api, run)
    assert _switches(schema) == []
    assert schema["required"] == ["decided_by"]
    line = schema["definitions"]["ExclusionLine"]
    choices = line["properties"]["target"]["enum"]
    (martin,) = [c for c in choices if c.startswith("Client C2 ·")]
    assert "Martin SAS" in martin
    assert any(c.startswith("Facture FA-1 · Dupont SARL") for c in choices)
    assert set(line["required"]) == {"target", "reason"}

    # No name: the server refuses the form by its schema, and the run stays paused.
    refused = api.post(
        f"/flow_runs/{run['id']}/resume", json={"run_input": {"decided_by": ""}}
    ).raise_for_status()
    assert refused.json()["status"] != "ACCEPT"
    answer = {
        "decided_by": "Claire (credit control)",
        "exclusions": [{"target": martin, "reason": "litige commercial en cours",
                        "until": "2026-07-31"}],
    }  # fmt: skip
    accepted = api.post(
        f"/flow_runs/{run['id']}/resume", json={"run_input": answer}
    ).raise_for_status()
    assert accepted.json()["status"] == "ACCEPT", accepted.json()

    proc = procs.running["dunning"]
    assert proc.wait(timeout=180) == 0, procs.report()
    final = api.get(f"/flow_runs/{run['id']}").raise_for_status().json()
    assert final["state_type"] == "COMPLETED"

    recipients = sorted(email.message_from_bytes(p.read_bytes())["To"] for p in eml_files(db))
    assert recipients == ["ap@acme.example", "compta@dupont.example"]  # Martin got nothing
    with duckdb.connect(str(db), read_only=True) as con:
        exclusions = con.execute(
            "SELECT customer_id, invoice_id, kind, until, reason, created_by, origin"
            " FROM dunning_exclusions"
        ).fetchall()
        audit = con.execute(
            "SELECT event, payload FROM audit_log WHERE event IN ('exclusion', 'approval')"
            " ORDER BY seq"
        ).fetchall()
        outbox = con.execute("SELECT customer_id FROM dunning_outbox ORDER BY 1").fetchall()
    assert [(e[0], e[1], e[2], e[3].isoformat(), e[4], e[5], e[6]) for e in exclusions] == [
        ("C2", None, "opt_out", "2026-07-31", "litige commercial en cours",
         "Claire (credit control)", "approval"),
    ]  # fmt: skip
    assert [e for e, _ in audit] == ["exclusion", "approval"]
    exclusion, approval = (json.loads(p) for _, p in audit)
    assert exclusion["customer_id"] == "C2" and exclusion["by"] == "Claire (credit control)"
    assert approval["decided_by"] == "Claire (credit control)"
    assert len(approval["asked"]) == 3 and len(approval["approved"]) == 2
    assert outbox == [("C1",), ("C3",)]
