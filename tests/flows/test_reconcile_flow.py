"""The reconcile flow: artifacts finance reads, and decisions taken in the paused run's form."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import resume_flow_run
from prefect.input.run_input import keyset_from_paused_state

from o2c.flows.reconcile import reconcile
from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.store import load_statements
from o2c.warehouse import connect
from tests.erp_exports import ingest, write_export
from tests.prefect_artifacts import latest_artifact

pytestmark = pytest.mark.usefixtures("prefect_api")
PAYER = "FR7630006000011234567890189"
OUR_ACCOUNT = "FR7630003012340123456789057"
US_PAYER = "GB33BUKB20201555555555"
OUR_USD_ACCOUNT = "DE89370400440532013000"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """C1 owes FA-1 and FA-2 (100,00 each) and FA-3 (200,00); two payments arrive."""
    db = tmp_path / "o2c.duckdb"
    ingest(
        db,
        write_export(
            tmp_path / "erp.csv",
            [
                f"FA-1;C1;Dupont SARL;2026-10-01;2026-10-31;EUR;100,00;invoice;{PAYER};",
                f"FA-2;C1;Dupont SARL;2026-10-02;2026-11-01;EUR;100,00;invoice;{PAYER};",
                f"FA-3;C1;Dupont SARL;2026-10-03;2026-11-02;EUR;200,00;invoice;{PAYER};",
            ],
        ),
    )
    lines = [
        StatementLine(date(2026, 11, 5), Decimal("200.00"), "EUR", bank_reference="B1",
                      counterparty_name="DUPONT SARL", counterparty_iban=PAYER,
                      remittance_unstructured="Reglement facture FA-3"),
        StatementLine(date(2026, 11, 6), Decimal("100.00"), "EUR", bank_reference="B2",
                      counterparty_name="DUPONT SARL", counterparty_iban=PAYER),
    ]  # fmt: skip
    statement = Statement(
        "camt.053", OUR_ACCOUNT, "EUR", "S1", date(2026, 11, 5), date(2026, 11, 6),
        Decimal("0.00"), Decimal("300.00"), lines,
    )  # fmt: skip
    with connect(db) as con:
        load_statements(
            con, [statement], file_name="s.xml", sha256="b" * 64, source="bank_statement"
        )
    return db


def allocations(db: Path) -> list[tuple]:
    with connect(db) as con:
        return con.execute(
            "SELECT t.bank_reference, a.invoice_id, a.amount, a.rule FROM allocations a"
            " JOIN bank_transactions t USING (transaction_id) ORDER BY 1, 2"
        ).fetchall()


def test_a_clear_match_settles_and_an_ambiguous_one_waits_for_finance(db: Path):
    stats = reconcile(db=str(db))
    assert (stats["settled"], stats["exceptions"]) == (1, 1)
    assert allocations(db) == [("B1", "FA-3", Decimal("200.00"), "invoice_number")]
    summary = latest_artifact("reconciliation").data
    assert "| rapprochées automatiquement | 1 |" in summary
    assert "Montant affecté aux factures, par devise :\n\n- 200,00\u00a0EUR\n" in summary
    table = latest_artifact("reconciliation-exceptions").data
    assert "B2" in table and "FA-1" in table and "FA-2" in table


def test_the_summary_gives_what_was_allocated_per_currency(tmp_path: Path):
    """Euros and dollars settled in one run: one line each, in its currency, never added."""
    db = tmp_path / "o2c.duckdb"
    ingest(
        db,
        write_export(
            tmp_path / "erp.csv",
            [
                f"FA-7;C1;Dupont SARL;2026-10-01;2026-10-31;EUR;1234,50;invoice;{PAYER};",
                f"US-7;C2;Acme Inc;2026-10-01;2026-10-31;USD;100,00;invoice;{US_PAYER};",
            ],
        ),
    )
    for n, (account, currency, amount, payer, text) in enumerate(
        [
            (OUR_ACCOUNT, "EUR", "1234.50", PAYER, "Reglement facture FA-7"),
            (OUR_USD_ACCOUNT, "USD", "100.00", US_PAYER, "Invoice US-7"),
        ]
    ):
        line = StatementLine(
            date(2026, 11, 5), Decimal(amount), currency, bank_reference=f"U{n}",
            counterparty_name="PAYER", counterparty_iban=payer, remittance_unstructured=text,
        )  # fmt: skip
        statement = Statement(
            "camt.053", account, currency, f"U{n}", date(2026, 11, 5), date(2026, 11, 5),
            Decimal("0.00"), Decimal(amount), [line],
        )  # fmt: skip
        with connect(db) as con:
            load_statements(
                con, [statement], file_name=f"u{n}.xml", sha256=f"{n}" * 64,
                source="bank_statement",
            )  # fmt: skip
    stats = reconcile(db=str(db))
    assert (stats["settled"], stats["exceptions"]) == (2, 0)
    with connect(db, read_only=True) as con:
        paid = con.execute(
            "SELECT currency, sum(amount) FROM allocations WHERE kind = 'payment'"
            " GROUP BY currency ORDER BY currency"
        ).fetchall()
    assert paid == [("EUR", Decimal("1234.50")), ("USD", Decimal("100.00"))]
    summary = latest_artifact("reconciliation").data
    assert (
        "Montant affecté aux factures, par devise :\n\n"
        "- 1\u202f234,50\u00a0EUR\n- 100,00\u00a0USD\n"
    ) in summary
    # Euros and dollars are never added, by rule either: one line per rule and currency, and a
    # total per currency.
    assert "1\u202f334,50" not in summary
    assert "| **Total EUR** | EUR | **1** | **1\u202f234,50\u00a0EUR** |" in summary
    assert "| **Total USD** | USD | **1** | **100,00\u00a0USD** |" in summary


def _paused_run(client, after: set | None = None):
    """The paused flow run (waiting for another pause than those in ``after``) once its form
    exists, or None. Prefect saves the form's schema just after the Paused state, so a run seen
    paused a moment too early has no form yet (its input read is a 404)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
            )
        )
        runs = [r for r in runs if r.state.state_details.pause_key not in (after or set())]
        if runs and _has_form(client, runs[0]):
            return runs[0]
        time.sleep(0.5)
    return None


def _has_form(client, run) -> bool:
    try:
        _schema(client, run)
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code != 404:
            raise
        return False
    return True


def _start(db: Path) -> tuple[threading.Thread, dict]:
    outcome: dict = {}
    runner = threading.Thread(
        target=lambda: outcome.update(stats=reconcile(db=str(db), ask_finance=True, wait_minutes=2))
    )
    runner.start()
    return runner, outcome


def _schema(client, run) -> dict:
    keys = keyset_from_paused_state(run.state)
    return json.loads(client.read_flow_run_input(run.id, keys["schema"]))


def _section(schema: dict) -> tuple[str, dict]:
    """The one exception's field and its definition (B2, the 100,00 nobody could place), titled
    as the field is: the title the UI heads the section with."""
    (name,) = [k for k in schema["properties"] if k.startswith("payment_")]
    prop = schema["properties"][name]
    ref = prop["$ref"].rsplit("/", 1)[-1]
    return name, {**schema["definitions"][ref], "title": prop["title"]}


def _switches(node) -> list:
    """Every place of a JSON schema the UI would draw as a type switch."""
    found = []
    if isinstance(node, dict):
        if any(k in node for k in ("anyOf", "oneOf")) or isinstance(node.get("type"), list):
            found.append(node)
        if node.get("type") == "null":
            found.append(node)
        for value in node.values():
            found += _switches(value)
    elif isinstance(node, list):
        for value in node:
            found += _switches(value)
    return found


def test_the_form_is_a_pick_list_without_type_switches(db: Path):
    runner, outcome = _start(db)
    with get_client(sync_client=True) as client:
        paused = _paused_run(client)
        assert paused is not None, "the run never paused for finance's input"
        schema = _schema(client, paused)
        assert _switches(schema) == []
        assert schema["required"] == ["decided_by"]
        assert schema["properties"]["decided_by"]["minLength"] == 1
        _, section = _section(schema)
        # The payment as a person reads it, French first: date, amount, payer.
        assert section["title"].startswith("06/11/2026 · 100,00\u00a0EUR · DUPONT SARL")
        choices = section["properties"]["decision"]["enum"]
        assert choices[0] == "Décider plus tard" and "Pas un paiement client" in choices
        picks = [c for c in choices if c[:2] in ("1)", "2)")]
        assert len(picks) == 2 and all("FA-1" in c or "FA-2" in c for c in picks)
        invoices = section["properties"]["invoices"]["items"]["enum"]
        assert {i.split(" · ")[0] for i in invoices} == {"FA-1", "FA-2"}  # what is open at C1
        resume_flow_run(paused.id, run_input={"decided_by": "Claire"})  # decide later
    runner.join(timeout=120)
    assert outcome["stats"]["exceptions"] == 1


def test_finance_picks_a_candidate_and_a_refused_form_keeps_the_run_paused(db: Path):
    runner, outcome = _start(db)
    with get_client(sync_client=True) as client:
        paused = _paused_run(client)
        assert paused is not None, "the run never paused for finance's input"
        name, section = _section(_schema(client, paused))
        pick = next(c for c in section["properties"]["decision"]["enum"] if c.startswith("1)"))
        # No name: the server refuses the form by its schema; the run waits, nothing written.
        with pytest.raises(RuntimeError, match=r"Validation failed for field 'decided_by'"):
            resume_flow_run(paused.id, run_input={"decided_by": "", name: {"decision": pick}})
        with pytest.raises(RuntimeError, match=r"Validation failed"):
            resume_flow_run(
                paused.id, run_input={"decided_by": "Claire", name: {"decision": "FA-1 please"}}
            )
        assert client.read_flow_run(paused.id).state.type == StateType.PAUSED
        resume_flow_run(
            paused.id, run_input={"decided_by": "Claire (credit control)", name: {"decision": pick}}
        )
    runner.join(timeout=120)
    assert not runner.is_alive()
    assert outcome["stats"]["exceptions"] == 0
    invoice = pick.split(")")[1].split(" · ")[0].strip()  # "1) FA-1 · 100,00 EUR · …"
    assert allocations(db) == [
        ("B1", "FA-3", Decimal("200.00"), "invoice_number"),
        ("B2", invoice, Decimal("100.00"), "manual"),
    ]
    with connect(db, read_only=True) as con:
        decided = con.execute("SELECT decided_by, source FROM reconciliation_decisions").fetchall()
    assert decided == [("Claire (credit control)", "ui")]
    summary = latest_artifact("reconciliation").data
    assert "1 appliquée(s), 0 refusée(s)" in summary


def test_a_split_beyond_the_payment_is_refused_in_the_artifact_and_the_run_completes(db: Path):
    runner, outcome = _start(db)
    with get_client(sync_client=True) as client:
        paused = _paused_run(client)
        assert paused is not None
        name, section = _section(_schema(client, paused))
        invoices = section["properties"]["invoices"]["items"]["enum"]
        split = [{"invoice": i, "amount": "60,00"} for i in invoices]  # 120,00 of a 100,00
        resume_flow_run(
            paused.id,
            run_input={
                "decided_by": "Claire",
                name: {"decision": "Répartir selon les lignes ci-dessous", "split": split},
            },
        )
    runner.join(timeout=120)
    assert not runner.is_alive()
    assert outcome["stats"]["exceptions"] == 1 and outcome["stats"]["decisions_refused"] == 1
    assert allocations(db) == [("B1", "FA-3", Decimal("200.00"), "invoice_number")]
    summary = latest_artifact("reconciliation").data
    assert "0 appliquée(s), 1 refusée(s)" in summary  # one decision, split over two lines
    shown = summary.replace("\\", "")  # outside text is escaped in the Markdown source
    assert "| 1 | refusée | affecte 120,00 aux factures, plus que le paiement de 100,00 |" in shown
    assert "06/11/2026 · 100,00\u00a0EUR · DUPONT SARL" in shown


def test_a_csv_with_a_wrong_line_applies_the_others_and_reports_it(db: Path, tmp_path: Path):
    reconcile(db=str(db))
    with connect(db, read_only=True) as con:
        (tx,) = con.execute(
            "SELECT transaction_id FROM bank_transactions WHERE bank_reference = 'B2'"
        ).fetchall()[0]
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        f"transaction_id;invoice_id;amount;note\n{tx};candidate 1;;\nNO-SUCH-TX;FA-2;10,00;\n"
    )
    stats = reconcile(db=str(db), decisions_csv=str(decisions))
    assert (stats["exceptions"], stats["decisions_refused"]) == (0, 1)
    assert [a[0] for a in allocations(db)] == ["B1", "B2"]
    shown = latest_artifact("reconciliation").data.replace("\\", "")
    assert "1 appliquée(s), 1 refusée(s)" in shown
    # The outcome and why first, in French; the payment (here the id typed) last.
    assert "| 3 | refusée | opération inconnue | FA-2 | 10,00 | NO-SUCH-TX |" in shown
