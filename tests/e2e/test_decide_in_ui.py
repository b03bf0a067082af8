"""Finance decides the paused reconcile run's exceptions in the form (issue 16, end to end).

Real parts only: `prefect server start`, the reconcile flow in its own process, and the form's
answer sent through the server's API exactly as the UI sends it (POST /flow_runs/{id}/resume
with run_input): the server checks it against the form's schema, the run applies what it can.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.store import load_statements
from o2c.warehouse import connect

from .conftest import BIN, Processes, wait_for

pytestmark = pytest.mark.server

WAIT = 180  # seconds, for each step: the machine is slow and shared
PAYER = "FR7630006000011234567890189"
OUR_ACCOUNT = "FR7630003012340123456789057"
NOT_CUSTOMER = "Pas un paiement client"
TICKED = "Aux factures cochées ci-dessous (montant ouvert de chacune)"


def _warehouse(db: Path) -> None:
    """C1 owes FA-1 and FA-2 (100,00 each) and FA-3 (200,00). The bank books 200,00 naming FA-3
    (settles), 100,00 from C1's account (FA-1 or FA-2: finance's question) and 7,00 from it."""
    now = datetime(2026, 11, 1, 9, 0)
    with connect(db) as con:
        con.execute(
            "INSERT INTO customers (customer_id, name, iban, row_hash, updated_at)"
            " VALUES ('C1', 'Dupont SARL', ?, 'h', ?)",
            [PAYER, now],
        )
        for n, (inv, amount) in enumerate([("FA-1", "100"), ("FA-2", "100"), ("FA-3", "200")]):
            con.execute(
                """INSERT INTO invoices (invoice_id, document_type, customer_id, issue_date,
                       due_date, currency, amount_total, row_hash, first_loaded_at, updated_at)
                   VALUES (?, 'invoice', 'C1', ?, ?, 'EUR', ?, 'h', ?, ?)""",
                [inv, date(2026, 10, 1 + n), date(2026, 10, 31), Decimal(amount), now, now],
            )
        lines = [
            StatementLine(date(2026, 11, 5), Decimal("200.00"), "EUR", bank_reference="B1",
                          counterparty_name="DUPONT SARL", counterparty_iban=PAYER,
                          remittance_unstructured="Reglement facture FA-3"),
            StatementLine(date(2026, 11, 6), Decimal("100.00"), "EUR", bank_reference="B2",
                          counterparty_name="DUPONT SARL", counterparty_iban=PAYER),
            StatementLine(date(2026, 11, 7), Decimal("7.00"), "EUR", bank_reference="B3",
                          counterparty_name="DUPONT SARL", counterparty_iban=PAYER,
                          remittance_unstructured="ACOMPTE"),
        ]  # fmt: skip
        statement = Statement(
            "camt.053", OUR_ACCOUNT, "EUR", "S1", date(2026, 11, 5), date(2026, 11, 7),
            Decimal("0.00"), Decimal("307.00"), lines,
        )  # fmt: skip
        load_statements(con, [statement], file_name="s.xml", sha256=None, source="bank_statement")


def _paused(api: httpx.Client) -> dict | None:
    found = api.post(
        "/flow_runs/filter",
        json={"flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}, "limit": 5},
    ).raise_for_status()
    runs = [r for r in found.json() if r["state"]["state_details"].get("run_input_keyset")]
    # Prefect saves the form just after the Paused state: a run without it yet is not ready.
    runs = [r for r in runs if api.get(_schema_url(r)).status_code == 200]
    return runs[0] if runs else None


def _schema_url(run: dict) -> str:
    key = run["state"]["state_details"]["run_input_keyset"]["schema"]
    return f"/flow_runs/{run['id']}/input/{key}"


def _schema(api: httpx.Client, run: dict) -> dict:
    return api.get(_schema_url(run)).raise_for_status().json()


def _sections(schema: dict) -> dict[str, dict]:
    """Each exception's section by the payment's label."""
    out = {}
    for name, prop in schema["properties"].items():
        if name.startswith("payment_"):
            definition = schema["definitions"][prop["$ref"].rsplit("/", 1)[-1]]
            out[prop["title"]] = {"field": name, **definition}  # the UI heads it with this
    return out


def test_finance_picks_a_candidate_in_the_form_and_a_wrong_line_is_reported(
    o2c_env: dict[str, str], procs: Processes, api: httpx.Client, tmp_path: Path
) -> None:
    db = Path(o2c_env["O2C_DB"])
    _warehouse(db)
    # The warehouse's one-writer slot on the server, as a data engineer sets it up.
    procs.run("o2c-init", [str(BIN / "o2c"), "init"], timeout=WAIT)
    code = "from o2c.flows.reconcile import reconcile; reconcile(ask_finance=True, wait_minutes=5)"
    runner = procs.start("reconcile", [sys.executable, "-c", code])
    run = wait_for("the reconcile run to pause for finance", lambda: _paused(api),
                   timeout=WAIT, context=procs.report)  # fmt: skip
    schema = _schema(api, run)
    sections = _sections(schema)
    assert len(sections) == 2, sections.keys()
    b2 = next(s for t, s in sections.items() if t.startswith("06/11/2026 · 100,00"))
    b3 = next(s for t, s in sections.items() if t.startswith("07/11/2026 · 7,00"))
    candidate_1 = next(c for c in b2["properties"]["decision"]["enum"] if c.startswith("1) "))
    assert TICKED in b3["properties"]["decision"]["enum"]
    assert NOT_CUSTOMER in b3["properties"]["decision"]["enum"]

    # What the schema refuses, the server refuses: the run stays paused, waiting.
    typo = api.post(
        f"/flow_runs/{run['id']}/resume",
        json={"run_input": {"decided_by": "Claire", b2["field"]: {"decision": "candidat 1"}}},
    ).raise_for_status()
    assert typo.json()["status"] != "ACCEPT", typo.json()
    assert api.get(f"/flow_runs/{run['id']}").json()["state_type"] == "PAUSED"

    # Candidate 1 for the 100,00; "to the invoices ticked" with none ticked for the 7,00.
    answer = {
        "decided_by": "Claire (credit control)",
        b2["field"]: {"decision": candidate_1},
        b3["field"]: {"decision": TICKED, "invoices": [], "note": "acompte ?"},
    }
    sent = api.post(f"/flow_runs/{run['id']}/resume", json={"run_input": answer})
    assert sent.raise_for_status().json()["status"] == "ACCEPT", sent.json()

    runner.wait(timeout=WAIT)
    final = api.get(f"/flow_runs/{run['id']}").raise_for_status().json()
    assert final["state_type"] == "COMPLETED", final["state"]

    invoice = candidate_1.split(")", 1)[1].split(" · ")[0].strip()  # "1) FA-1 · …"
    with connect(db, read_only=True) as con:
        allocated = con.execute(
            """SELECT t.bank_reference, a.invoice_id, a.amount, a.rule FROM allocations a
               JOIN bank_transactions t USING (transaction_id) ORDER BY 1"""
        ).fetchall()
        still_open = con.execute(
            """SELECT t.bank_reference FROM reconciliation_exceptions e
               JOIN bank_transactions t USING (transaction_id) WHERE e.status = 'open'"""
        ).fetchall()
    assert allocated == [
        ("B1", "FA-3", Decimal("200.00"), "invoice_number"),
        ("B2", invoice, Decimal("100.00"), "manual"),
    ]
    assert still_open == [("B3",)]

    found = api.post(
        "/artifacts/filter",
        json={
            "artifacts": {
                "key": {"any_": ["reconciliation"]},
                "flow_run_id": {"any_": [run["id"]]},
            },
            "sort": "CREATED_DESC",
            "limit": 1,
        },
    ).raise_for_status()
    summary = found.json()[0]["data"].replace("\\", "")  # outside text is escaped in Markdown
    assert "1 appliquée(s), 1 refusée(s)" in summary
    assert "07/11/2026 · 7,00\u00a0EUR · DUPONT SARL · ACOMPTE" in summary
    assert "aucune facture cochée" in summary
