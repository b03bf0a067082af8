"""The reconcile flow: artifacts finance reads, and decisions taken in the paused run's form."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import resume_flow_run

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
    assert "| settled automatically | 1 |" in summary
    assert "Amount allocated to invoices, per currency:\n\n- 200,00\u00a0EUR\n" in summary
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
        "Amount allocated to invoices, per currency:\n\n"
        "- 1\u202f234,50\u00a0EUR\n- 100,00\u00a0USD\n"
    ) in summary
    # Euros and dollars never added (the by-rule table below still adds them: an indication).
    assert "1\u202f334,50" not in summary.split("## Matched by rule")[0]


def test_finance_decides_in_the_paused_run_form(db: Path):
    outcome: dict = {}
    runner = threading.Thread(
        target=lambda: outcome.update(stats=reconcile(db=str(db), ask_finance=True, wait_minutes=2))
    )
    runner.start()
    paused = None
    deadline = time.monotonic() + 90
    with get_client(sync_client=True) as client:
        while paused is None and time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                )
            )
            paused = runs[0] if runs else None
            time.sleep(0.5)
    assert paused is not None, "the run never paused for finance's input"
    with connect(db, read_only=True) as con:
        transaction_id = con.execute(
            "SELECT transaction_id FROM bank_transactions WHERE bank_reference = 'B2'"
        ).fetchall()[0][0]
    resume_flow_run(
        paused.id,
        run_input={
            "decided_by": "Claire (credit control)",
            "decisions": [{"transaction_id": transaction_id, "invoice_id": "FA-1"}],
        },
    )
    runner.join(timeout=120)
    assert not runner.is_alive()
    assert outcome["stats"]["exceptions"] == 0
    assert allocations(db) == [
        ("B1", "FA-3", Decimal("200.00"), "invoice_number"),
        ("B2", "FA-1", Decimal("100.00"), "manual"),
    ]
    with connect(db, read_only=True) as con:
        decided = con.execute("SELECT decided_by, source FROM reconciliation_decisions").fetchall()
        aliases = con.execute(
            "SELECT customer_id, payer_iban FROM customer_payer_aliases"
        ).fetchall()
    assert decided == [("Claire (credit control)", "ui")]
    # PAYER is C1's own IBAN (in the ERP export): nothing new to learn.
    assert aliases == []


def _paused_run(client, after: set | None = None):
    """The paused flow run (waiting for another pause than those in ``after``), or None."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
            )
        )
        runs = [r for r in runs if r.state.state_details.pause_key not in (after or set())]
        if runs:
            return runs[0]
        time.sleep(0.5)
    return None


def test_a_bad_candidate_in_the_form_asks_again_with_what_was_typed(db: Path):
    from prefect.input.run_input import keyset_from_paused_state

    outcome: dict = {}
    runner = threading.Thread(
        target=lambda: outcome.update(stats=reconcile(db=str(db), ask_finance=True, wait_minutes=2))
    )
    runner.start()
    with get_client(sync_client=True) as client:
        first = _paused_run(client)
        assert first is not None, "the run never paused for finance's input"
        with connect(db, read_only=True) as con:
            transaction_id, raw = con.execute(
                "SELECT e.transaction_id, e.candidates FROM reconciliation_exceptions e"
                " JOIN bank_transactions t USING (transaction_id) WHERE t.bank_reference = 'B2'"
            ).fetchall()[0]
        shown = json.loads(raw)
        assert {tuple(c["invoice_ids"]) for c in shown} >= {("FA-1",), ("FA-2",)}
        typed = [{"transaction_id": transaction_id, "candidate": len(shown) + 1, "note": "n"}]
        resume_flow_run(first.id, run_input={"decided_by": "Claire", "decisions": typed})
        second = _paused_run(client, after={first.state.state_details.pause_key})
        assert second is not None, "a refused decision must show the form again"
        keys = keyset_from_paused_state(second.state)
        description = client.read_flow_run_input(second.id, keys["description"])
        assert f"has candidates 1 to {len(shown)}" in description
        schema = json.loads(client.read_flow_run_input(second.id, keys["schema"]))
        assert "Claire" in json.dumps(schema), "what was typed is kept in the form"
        assert allocations(db) == [("B1", "FA-3", Decimal("200.00"), "invoice_number")]
        pick = [tuple(c["invoice_ids"]) for c in shown].index(("FA-2",)) + 1
        resume_flow_run(
            second.id,
            run_input={
                "decided_by": "Claire",
                "decisions": [{"transaction_id": transaction_id, "candidate": pick}],
            },
        )
    runner.join(timeout=120)
    assert not runner.is_alive()
    assert outcome["stats"]["exceptions"] == 0
    assert allocations(db) == [
        ("B1", "FA-3", Decimal("200.00"), "invoice_number"),
        ("B2", "FA-2", Decimal("100.00"), "manual"),
    ]
