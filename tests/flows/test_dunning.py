"""The dunning flow end to end on a real warehouse file, .eml files as the channel: a payment
landing between plan and send, stale bank data, approval by parameter, the artifacts."""

from __future__ import annotations

import email
import json
import time
from datetime import date
from pathlib import Path

import pytest

import o2c.flows.dunning as dunning_module
from o2c.flows.dunning import dunning
from o2c.tasks.dunning.audit import verify
from o2c.warehouse import connect
from tests.prefect_artifacts import latest_artifact
from tests.tasks.dunning.run_fixtures import (
    AS_OF,
    eml_files,
    make_warehouse,
    pay,
    write_policy,
)

pytestmark = pytest.mark.usefixtures("prefect_api")


@pytest.fixture(autouse=True)
def _no_smtp(monkeypatch):
    for name in ("O2C_SMTP_HOST", "O2C_SMTP_MAIL_DIR", "O2C_PAYLINK_CLIENT_ID", "O2C_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("O2C_WAREHOUSE_SLOT", "off")  # a throwaway API: no `o2c init` limit


def _invoices_in(path: Path) -> set[str]:
    message = email.message_from_bytes(path.read_bytes())
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode(text.get_content_charset() or "utf-8")
    return {i for i in ("FA-1", "FA-2", "FA-3", "FA-4") if i in body}


def _outbox(db: Path) -> dict[str, str]:
    with connect(db, read_only=True) as con:
        return dict(
            con.execute(
                "SELECT customer_id || ':' || string_agg(i.invoice_id, ',' ORDER BY i.invoice_id),"
                " o.status FROM dunning_outbox o JOIN dunning_outbox_items i USING (key)"
                " GROUP BY o.key, o.customer_id, o.status"
            ).fetchall()
        )


def test_a_payment_between_plan_and_send_is_not_chased(tmp_path, monkeypatch):
    db = make_warehouse(tmp_path)
    policy = write_policy(tmp_path)
    real = dunning_module.recheck_items

    def pay_then_recheck(db_arg, communications):
        # after the plan and the outbox rows, before the send: C2 pays FA-3 in full, C1 pays FA-2
        pay(db, "FA-3", "C2", "800.00")
        pay(db, "FA-2", "C1", "300.00")
        return real.fn(db_arg, communications)

    monkeypatch.setattr(dunning_module, "recheck_items", pay_then_recheck)
    result = dunning(db=str(db), as_of=AS_OF, policy_file=str(policy))

    sent = {tuple(sorted(_invoices_in(p))) for p in eml_files(db)}
    assert sent == {("FA-1",), ("FA-4",)}  # nothing for FA-3, FA-2 gone from C1's letter
    assert _outbox(db) == {
        "C1:FA-1,FA-2": "cancelled",
        "C1:FA-1": "sent",
        "C2:FA-3": "cancelled",
        "C3:FA-4": "sent",
    }
    assert result["statuses"] == {"cancelled": 2, "sent": 2}
    with connect(db, read_only=True) as con:
        assert verify(con).ok
        reasons = [
            r[0]
            for r in con.execute(
                "SELECT reply FROM dunning_outbox WHERE status = 'cancelled' ORDER BY customer_id"
            ).fetchall()
        ]
    assert reasons == [
        "paid or settled since the plan: FA-2",
        "paid or settled since the plan: FA-3",
    ]


def test_stale_bank_data_is_refused_naming_the_last_load(tmp_path):
    db = make_warehouse(tmp_path, bank_day=date(2026, 6, 19))
    policy = write_policy(tmp_path)
    with pytest.raises(Exception, match="2026-06-19") as refused:
        dunning(db=str(db), as_of=AS_OF, policy_file=str(policy))
    assert "load today's statements first" in str(refused.value)
    assert eml_files(db) == []
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM dunning_outbox").fetchone() == (0,)


def test_approve_all_sends_the_levels_that_need_approval_and_the_artifacts_say_so(tmp_path):
    db = make_warehouse(tmp_path)
    policy = write_policy(tmp_path, needs_approval=True)
    result = dunning(db=str(db), as_of=AS_OF, policy_file=str(policy), approve_all=True)
    assert result["statuses"] == {"sent": 3}
    assert len(eml_files(db)) == 3
    with connect(db, read_only=True) as con:
        events = [r[0] for r in con.execute("SELECT event FROM audit_log ORDER BY seq").fetchall()]
    assert events[0] == "plan" and "approval" in events and events.count("send") == 3

    journal = latest_artifact("dunning-journal")
    rows = json.loads(journal.data)
    assert list(rows[0])[:5] == ["Client", "Niveau", "Canal", "Montant à régler", "Statut"]
    by_customer = {r["Client"]: r for r in rows}
    assert by_customer["Dupont SARL"]["Montant à régler"] == "1\u202f500,00\u00a0EUR"
    assert by_customer["Dupont SARL"]["Factures"] == "FA-1, FA-2"
    assert {r["Statut"] for r in rows} == {"envoyé"}
    assert by_customer["Acme Ltd"]["Canal"] == "Courriel"
    summary = latest_artifact("dunning-summary").data
    assert "| envoyé | 3 |" in summary and "outbox-mail" in summary
    assert "Dupont SARL" in latest_artifact("dunning-previews").data
    latest_artifact("dunning-worklist")


def test_without_approval_the_levels_that_need_it_wait(tmp_path):
    db = make_warehouse(tmp_path)
    policy = write_policy(tmp_path, needs_approval=True)
    result = dunning(db=str(db), as_of=AS_OF, policy_file=str(policy), ask_finance=False)
    assert result["statuses"] == {"awaiting_approval": 3}
    assert eml_files(db) == []


def test_a_bounced_reminder_raises_the_alert_event(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.events.worker import EventsWorker

    db = make_warehouse(tmp_path)
    with connect(db) as con:  # no address the channel can send to
        con.execute("UPDATE customers SET accounting_email = 'ap at acme' WHERE customer_id = 'C3'")
    result = dunning(db=str(db), as_of=AS_OF, policy_file=str(write_policy(tmp_path)))
    assert result["statuses"] == {"bounced": 1, "sent": 2}
    EventsWorker.drain_all()

    def bounced_events() -> list[dict]:
        with get_client(sync_client=True) as client:
            answer = client.request(
                "POST",
                "/events/filter",
                json={"filter": {"event": {"name": ["o2c.dunning.bounced"]}}},
            )
        return answer.json()["events"]

    events = []
    for _ in range(40):
        events = bounced_events()
        if events:
            break
        time.sleep(0.5)
    assert [e["payload"] for e in events] == [{"bounced": 1, "refused": 0}]
    assert events[0]["resource"]["prefect.resource.id"].startswith("o2c.dunning.run.")
