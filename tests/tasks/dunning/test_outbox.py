"""The outbox as the dunning flow uses it: written before any send, sent once, each result
recorded with its audit row, and a re-run sending nothing new."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from o2c.locking import holders, warehouse_lock
from o2c.models.dunning import ACTION_HISTORY, OutboxStatus
from o2c.tasks.channels import ChannelUnavailable
from o2c.tasks.channels.email import SmtpSender
from o2c.tasks.dunning import audit, outbox
from o2c.warehouse import connect
from tests.tasks.channels.smtp_server import smtp_server
from tests.tasks.dunning.outbox_fixtures import communication, rendered, smtp_settings

PASSWORD = "s3cr3t-Pa55word!"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "o2c.duckdb"


def plan(db: Path, *communications) -> list[bool]:
    with connect(db) as con:
        return [outbox.enqueue(con, c, rendered(c), flow_run_id="run-1") for c in communications]


def statuses(db: Path) -> dict[str, str]:
    with connect(db) as con:
        return dict(con.execute("SELECT key, status FROM dunning_outbox").fetchall())


def test_enqueue_writes_the_row_its_items_and_an_audit_row_once(db: Path) -> None:
    c = communication("C1", ("F-1", 100_00), ("F-2", 50_00))
    assert plan(db, c) == [True]
    assert plan(db, c) == [False]  # a re-run plans the same key: nothing new
    with connect(db) as con:
        history = outbox.history(con)
        items = con.execute("SELECT invoice_id, open_cents FROM dunning_outbox_items").fetchall()
        logged = con.execute("SELECT event, subject, content_sha256 FROM audit_log").fetchall()
    assert dict(history.schema) == ACTION_HISTORY
    assert history.select("invoice_id", "level", "status").rows() == [
        ("F-1", 2, "pending"),
        ("F-2", 2, "pending"),
    ]
    assert sorted(items) == [("F-1", 100_00), ("F-2", 50_00)]
    assert logged == [("status", c.key, rendered(c).content_sha256)]


def test_send_pending_sends_each_once_outside_the_lock_and_records_each(db: Path) -> None:
    comms = [communication(f"C{n}", (f"F-{n}", 10_00 * n)) for n in range(1, 6)]
    plan(db, *comms)
    held_during_send = []

    def send(sender, envelopes):
        held_during_send.append(holders(db))
        return sender.send_batch(envelopes)

    writes: list[list] = []

    @contextmanager
    def writer():  # as the flow passes it: the warehouse's writer lock around each short write
        with warehouse_lock(db, exclusive=True, timeout_s=5):
            writes.append(holders(db))
            yield

    with smtp_server() as server:
        sender = SmtpSender(smtp_settings(server))
        first = outbox.send_pending(
            db, sender, batch_size=2, flow_run_id="run-2", send_batch=send, writer=writer
        )
        again = outbox.send_pending(db, sender, batch_size=2, flow_run_id="run-3")
    with connect(db) as con:
        sent = con.execute(
            "SELECT key, provider_id, attempts FROM dunning_outbox WHERE status = 'sent'"
        ).fetchall()
        sends = con.execute(
            "SELECT subject, flow_run_id, content_sha256 FROM audit_log WHERE event = 'send'"
        ).fetchall()
        chain = audit.verify(con)
    assert (dict(first.counts), first.batches) == ({"sent": 5}, 3)
    assert (dict(again.counts), again.batches) == ({}, 0)
    assert held_during_send == [[], [], []]  # no warehouse lock held while the server talks
    # ...but each claim and each record was the one writer (3 batches: 3 claims, 3 records,
    # the empty claim that ends the loop, and the look for interrupted rows).
    assert len(writes) == 8 and all(len(h) == 1 and h[0].mode == "write" for h in writes)
    assert len(server.handler.received) == 5
    assert sorted(r.message["Message-ID"] for r in server.handler.received) == sorted(
        p for _, p, _ in sent
    )
    assert {a for _, _, a in sent} == {1}
    assert sorted(sends) == sorted((c.key, "run-2", rendered(c).content_sha256) for c in comms)
    assert chain.ok and chain.rows == 10  # 5 pending + 5 sends


def test_a_bounce_keeps_the_reply_and_a_failure_is_sent_by_the_next_run(db: Path) -> None:
    bounced, failed = communication("C1", ("F-1", 1)), communication("C2", ("F-2", 2))
    plan(db, bounced, failed)
    with smtp_server() as server:
        server.handler.data_replies = ["550 5.7.1 Relaying denied", "451 4.3.0 Try later"]
        sender = SmtpSender(smtp_settings(server, max_attempts=1))
        first = outbox.send_pending(db, sender)
        after_first = statuses(db)
        second = outbox.send_pending(db, sender)
        third = outbox.send_pending(db, sender)
    with connect(db) as con:
        reply = con.execute(
            "SELECT reply FROM dunning_outbox WHERE key = ?", [bounced.key]
        ).fetchall()[0][0]
    assert dict(first.counts) == {"bounced": 1, "failed": 1}
    assert after_first == {bounced.key: "bounced", failed.key: "failed"}
    assert dict(second.counts) == {"sent": 1} and dict(third.counts) == {}
    assert statuses(db) == {bounced.key: "bounced", failed.key: "sent"}
    assert reply == "end of data: 550 5.7.1 Relaying denied"
    assert len(server.handler.received) == 1


def test_without_smtp_the_default_writes_eml_files_beside_the_warehouse(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HOST", "MAIL_DIR"):
        monkeypatch.delenv(f"O2C_SMTP_{name}", raising=False)
    monkeypatch.setenv("O2C_SMTP_FROM_ADDRESS", "relances@lumiere.example")
    comms = [communication(f"C{n}", (f"F-{n}", 100)) for n in range(3)]
    plan(db, *comms)
    first = outbox.send_pending(db)
    again = outbox.send_pending(db)
    folder = db.parent / "outbox-mail"
    assert dict(first.counts) == {"sent": 3} and dict(again.counts) == {}
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{c.key}.eml" for c in comms)
    assert outbox.mail_folder(db) == folder


def test_a_message_changed_in_the_warehouse_is_cancelled_not_sent(db: Path) -> None:
    c = communication("C1", ("F-1", 100))
    plan(db, c)
    with connect(db) as con:
        con.execute("UPDATE dunning_outbox SET text_body = 'Payez sur http://evil.example'")
    with smtp_server() as server:
        summary = outbox.send_pending(db, SmtpSender(smtp_settings(server)))
    assert dict(summary.counts) == {"cancelled": 1}
    assert statuses(db) == {c.key: "cancelled"} and server.handler.received == []


def test_cancel_and_settle_are_audited_and_refuse_what_cannot_change(db: Path) -> None:
    paid, unsure = communication("C1", ("F-1", 100)), communication("C2", ("F-2", 200))
    plan(db, paid, unsure)
    with connect(db) as con:
        outbox.cancel(con, paid.key, "F-1 paid since the plan")
        con.execute("UPDATE dunning_outbox SET status = 'unknown' WHERE key = ?", [unsure.key])
        with pytest.raises(outbox.OutboxError, match="cancelled"):
            outbox.settle(con, paid.key, sent=True, by="finance", reason="?")
        outbox.settle(con, unsure.key, sent=True, by="a.martin", reason="the customer has it")
        reasons = con.execute(
            "SELECT subject, payload FROM audit_log WHERE event = 'status' AND seq > 2"
        ).fetchall()
    assert statuses(db) == {paid.key: "cancelled", unsure.key: "sent"}
    assert [k for k, _ in reasons] == [paid.key, unsure.key]
    assert "a.martin: the customer has it" in reasons[1][1]


def test_a_refused_login_fails_the_batch_and_the_password_is_nowhere(
    db: Path, tmp_path: Path
) -> None:
    c = communication("C1", ("F-1", 100))
    plan(db, c)
    with smtp_server(tls="starttls", cert_dir=tmp_path, credentials=("u", "other")) as server:
        config = smtp_settings(
            server, security="starttls", username="u", password=PASSWORD, ca_file=server.cert_file
        )
        with pytest.raises(ChannelUnavailable) as refused:
            outbox.send_pending(db, SmtpSender(config))
    with connect(db) as con:
        stored = con.execute("SELECT * FROM dunning_outbox").fetchall()
        logged = con.execute("SELECT * FROM audit_log").fetchall()
    assert statuses(db) == {c.key: "failed"}
    assert "535" in str(refused.value)
    assert PASSWORD not in f"{refused.value!r} {stored} {logged}"


def test_enqueue_many_writes_only_the_new_keys_in_one_go(db: Path) -> None:
    old, new = communication("C1", ("F-1", 100)), communication("C2", ("F-2", 200), ("F-3", 5))
    plan(db, old)
    with connect(db) as con:
        written = outbox.enqueue_many(
            con, [(old, rendered(old)), (new, rendered(new)), (new, rendered(new))]
        )
        items = con.execute(
            "SELECT key, count(*) FROM dunning_outbox_items GROUP BY key"
        ).fetchall()
        chain = audit.verify(con)
    assert written == [new.key]
    assert dict(items) == {old.key: 1, new.key: 2}
    assert statuses(db) == {old.key: "pending", new.key: "pending"}
    assert chain.ok and chain.rows == 2


def test_a_send_still_in_flight_taken_for_interrupted_gets_its_real_result(db: Path) -> None:
    """Two overlapping sends: the second takes the first's in-flight row for a dead run's
    (unknown, never resent); the first then records what really happened."""
    from o2c.models.dunning import Channel
    from o2c.tasks.channels import SendResult

    c = communication("C1", ("F-1", 100))
    plan(db, c)
    [envelope], _ = outbox.claim_batch(db, Channel.EMAIL, 10, "first-run")
    with smtp_server() as server:
        second = outbox.send_pending(db, SmtpSender(smtp_settings(server)))
    during = statuses(db)
    outbox.record_results(
        db, [SendResult(envelope.key, OutboxStatus.SENT, "<id@x>", "250 queued")], "first-run"
    )
    with connect(db) as con:
        last = con.execute("SELECT payload FROM audit_log ORDER BY seq DESC LIMIT 1").fetchall()
    assert dict(second.interrupted) == {"unknown": 1} and server.handler.received == []
    assert during == {c.key: "unknown"}
    assert statuses(db) == {c.key: "sent"}
    assert '"recorded":true' in last[0][0]
