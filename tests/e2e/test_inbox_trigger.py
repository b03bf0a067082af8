"""A statement file dropped into the inbox starts its own ingestion (issue 3, end to end).

Real parts only: `prefect server start`, `o2c serve` serving the ingest-bank-statement deployment
of prefect.yaml with its event trigger, and `o2c watch` announcing files, all separate processes
talking through the server on loopback, as they do on a finance team's machine.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import httpx
import pytest

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.demo.camt_writer import write_camt053

from .conftest import BIN, REPO, PrefectServer, Processes, wait_for

pytestmark = pytest.mark.server

DEPLOYMENT = "ingest-bank-statement"
EVENT = "o2c.inbox.file.received"
FINISHED = {"COMPLETED", "FAILED", "CRASHED"}
WAIT = 120  # seconds, for each step: the machine is slow and shared
IBAN = "FR7630003012340123456789057"


def statement() -> Statement:
    lines = [
        StatementLine(
            date(2026, 11, 2), Decimal("1200.00"), "EUR", date(2026, 11, 2),
            counterparty_name="Dupont Industrie SA", counterparty_iban="FR1420041010050500013M02606",
            remittance_unstructured="Facture FA2026-000117", end_to_end_id="E2E-0001",
            bank_reference="E2E-REF-1",
        ),
        StatementLine(
            date(2026, 11, 3), Decimal("-45.10"), "EUR", counterparty_name="Frais bancaires",
            bank_reference="E2E-REF-2",
        ),
        StatementLine(
            date(2026, 11, 4), Decimal("310.25"), "EUR", counterparty_name="Martin & Fils",
            remittance_unstructured="FA2026-000121", bank_reference="E2E-REF-3",
        ),
    ]  # fmt: skip
    # 500.00 + 1200.00 - 45.10 + 310.25 = 1965.15
    return Statement(
        "camt.053", IBAN, "EUR", "E2E-2026-11", date(2026, 11, 1), date(2026, 11, 4),
        Decimal("500.00"), Decimal("1965.15"), lines,
    )  # fmt: skip


def upload(content: bytes, target: Path) -> None:
    """As an SFTP client or a copy does it: a temporary name, then one rename."""
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(content)
    partial.rename(target)


def deployment_with_trigger(api: httpx.Client) -> dict | None:
    """The served deployment, once its automation (the prefect.yaml trigger) exists too."""
    found = api.post("/deployments/filter", json={"deployments": {"name": {"any_": [DEPLOYMENT]}}})
    found.raise_for_status()
    if not found.json():
        return None
    deployment = found.json()[0]
    automations = api.post("/automations/filter", json={})
    automations.raise_for_status()
    for automation in automations.json():
        trigger = automation["trigger"]
        runs_it = any(
            a["type"] == "run-deployment" and a.get("deployment_id") == deployment["id"]
            for a in automation["actions"]
        )
        if automation["enabled"] and runs_it and EVENT in trigger.get("expect", []):
            return deployment | {"automation": automation}
    return None


def run_for(api: httpx.Client, deployment_id: str, path: Path) -> dict | None:
    """The flow run the trigger created for this file (its `path` parameter), if any yet."""
    runs = api.post("/flow_runs/filter", json={"deployments": {"id": {"any_": [deployment_id]}}})
    runs.raise_for_status()
    # the watcher names the file as it sees it in the inbox, never resolved through links
    mine = [r for r in runs.json() if r["parameters"].get("path") == str(path.absolute())]
    assert len(mine) <= 1, f"{path.name} started {len(mine)} runs: {mine}"
    return mine[0] if mine else None


def started_by_trigger(run: dict, served: dict) -> bool:
    """Created by the deployment's automation (the watcher's event), not by a person."""
    creator = run.get("created_by") or {}
    return creator.get("type") == "AUTOMATION" and creator.get("id") == served["automation"]["id"]


def final_run(api: httpx.Client, deployment_id: str, path: Path, procs: Processes) -> dict:
    def finished() -> dict | None:
        procs.check_alive()
        run = run_for(api, deployment_id, path)
        return run if run and run["state_type"] in FINISHED else None

    return wait_for(
        f"a finished {DEPLOYMENT} run for {path.name}",
        finished,
        timeout=WAIT,
        every=2,
        context=procs.report,
    )


@pytest.mark.usefixtures("own_automations")
def test_file_dropped_in_inbox_is_ingested_and_a_bad_one_rejected(
    prefect_server: PrefectServer,
    procs: Processes,
    api: httpx.Client,
    o2c_env: dict[str, str],
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    day_before = date.today()

    procs.start(
        "o2c-serve",
        [str(BIN / "o2c"), "serve", "--only", DEPLOYMENT, "--file", str(REPO / "prefect.yaml")],
    )
    served = wait_for(
        f"deployment {DEPLOYMENT} and its trigger on {prefect_server.api_url}",
        lambda: (procs.check_alive(), deployment_with_trigger(api))[1],
        timeout=WAIT,
        every=2,
        context=procs.report,
    )
    assert served["automation"]["trigger"]["match"] == {"prefect.resource.id": "o2c.inbox.file.*"}
    procs.start("o2c-watch", [str(BIN / "o2c"), "watch", str(inbox), "--settle", "1"])

    # A good statement: Completed, its three lines in the warehouse, the file archived.
    source = tmp_path / "made" / "releve_2026-11.xml"
    source.parent.mkdir()
    write_camt053(source, [statement()], message_id="E2E-MSG-1")
    good = inbox / source.name
    upload(source.read_bytes(), good)

    run = final_run(api, served["id"], good, procs)
    assert run["state_type"] == "COMPLETED", f"{good.name}: run {run['name']} {run['state']}"
    assert run["parameters"]["archive"] is True
    assert started_by_trigger(run, served), run["created_by"]

    with duckdb.connect(o2c_env["O2C_DB"], read_only=True) as con:
        rows = con.execute(
            "SELECT bank_reference, amount, currency, account_iban FROM bank_transactions"
            " ORDER BY bank_reference"
        ).fetchall()
        balances = con.execute(
            "SELECT opening_balance, closing_balance, entries FROM bank_statements"
        ).fetchall()
        batch = con.execute(
            "SELECT file_name, status, rows_loaded, flow_run_id FROM load_batches"
            " WHERE source = 'bank_statement'"
        ).fetchall()
    assert rows == [
        ("E2E-REF-1", Decimal("1200.00"), "EUR", IBAN),
        ("E2E-REF-2", Decimal("-45.10"), "EUR", IBAN),
        ("E2E-REF-3", Decimal("310.25"), "EUR", IBAN),
    ]
    assert balances == [(Decimal("500.00"), Decimal("1965.15"), 3)]
    assert batch == [(good.name, "loaded", 3, run["id"])]  # the load names the run that made it

    days = {day_before.isoformat(), date.today().isoformat()}
    archived = list((inbox / "processed").glob(f"*/{good.name}"))
    assert [p.parent.name for p in archived] in [[d] for d in days], archived
    assert archived[0].read_bytes() == source.read_bytes()
    assert not good.exists()

    # A truncated file: Failed, moved to rejected/ with the reason naming the file and the line.
    content = source.read_text(encoding="utf-8")
    cut = content.index("<Ntry>", content.index("<Ntry>") + 1) + 12  # inside the second entry
    broken = content[:cut]
    last_line = broken.count("\n") + 1
    bad = inbox / "releve_tronque.xml"
    upload(broken.encode("utf-8"), bad)

    run = final_run(api, served["id"], bad, procs)
    assert run["state_type"] == "FAILED", f"{bad.name}: run {run['name']} {run['state']}"
    assert started_by_trigger(run, served), run["created_by"]
    rejected = inbox / "rejected" / bad.name
    reason_file = inbox / "rejected" / f"{bad.name}.error.txt"
    wait_for(f"{reason_file}", reason_file.exists, timeout=10, context=procs.report)
    assert rejected.read_text(encoding="utf-8") == broken
    reason = reason_file.read_text(encoding="utf-8")
    assert bad.name in reason and re.search(rf"\bline {last_line}\b", reason), reason
    assert not bad.exists()

    with duckdb.connect(o2c_env["O2C_DB"], read_only=True) as con:
        (count,) = con.execute("SELECT count(*) FROM bank_transactions").fetchone()
        trace = con.execute(
            "SELECT status, message, flow_run_id FROM load_batches WHERE file_name = ?", [bad.name]
        ).fetchall()
    assert count == 3, "nothing of the rejected file may reach the warehouse"
    assert trace == [("rejected", reason.strip(), run["id"])], trace  # its refusal is on record

    # A poison file (an amount of 1e17, past what the warehouse holds): Failed once, rejected/.
    poison_source = tmp_path / "made" / "poison.xml"
    huge = statement()
    huge.lines[0].amount = Decimal("100000000000000000.00")
    huge.closing_balance += huge.lines[0].amount - Decimal("1200.00")
    write_camt053(poison_source, [huge], message_id="E2E-MSG-2")
    poison = inbox / poison_source.name
    upload(poison_source.read_bytes(), poison)
    run = final_run(api, served["id"], poison, procs)
    assert run["state_type"] == "FAILED", f"{poison.name}: run {run['name']} {run['state']}"
    reason_file = inbox / "rejected" / f"{poison.name}.error.txt"
    wait_for(f"{reason_file}", reason_file.exists, timeout=10, context=procs.report)
    assert poison.name in reason_file.read_text(encoding="utf-8").split(":")[0]
    assert not poison.exists()

    # A link to a file elsewhere: the watcher renames the link into rejected/, no run reads it,
    # and the file it points to stays as it was, where it was.
    target = tmp_path / "made" / "treasury.xml"
    target.write_bytes(source.read_bytes())
    link = inbox / "link.xml"
    link.symlink_to(target)
    moved = inbox / "rejected" / link.name
    wait_for(f"{moved}", lambda: moved.is_symlink(), timeout=WAIT, context=procs.report)
    assert "symbolic link" in (inbox / "rejected" / "link.xml.error.txt").read_text()
    assert target.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == sorted(
        ["poison.xml", "releve_2026-11.xml", "treasury.xml"]
    )
    assert run_for(api, served["id"], link) is None

    # A run of the deployment naming a file outside any watched inbox (as a forged event would):
    # Failed, and the file is neither moved nor written beside.
    forged = api.post(
        f"/deployments/{served['id']}/create_flow_run",
        json={"parameters": {"path": str(target), "archive": True}},
    )
    forged.raise_for_status()

    def forged_run_finished() -> dict | None:
        procs.check_alive()
        found = api.get(f"/flow_runs/{forged.json()['id']}").json()
        return found if found["state_type"] in FINISHED else None

    run = wait_for("the forged run", forged_run_finished, timeout=WAIT, every=2,
                   context=procs.report)  # fmt: skip
    assert run["state_type"] == "FAILED", run["state"]
    assert "not directly inside a watched inbox" in run["state"]["message"], run["state"]
    assert target.read_bytes() == source.read_bytes()
    assert not (target.parent / "rejected").exists()
