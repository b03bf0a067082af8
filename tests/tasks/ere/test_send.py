"""Formal notices sent through the ERE channel to the local AR24 twin, with a real warehouse file:
once, with their PDF, surviving lost answers, 5xx and a crash, and never to a consumer without
consent."""

# ruff: noqa: F811 (`db` is the warehouse fixture of test_store, used as a parameter)

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from o2c.models.dunning import Channel, CustomerKind
from o2c.tasks.channels.ere import NO_CONSENT, EreSender
from o2c.tasks.connectors.ar24 import Ar24Client
from o2c.tasks.dunning import outbox
from o2c.tasks.ere import store
from o2c.tasks.ere.send import send_formal_notices
from o2c.twins.ar24 import Ar24Twin, Fault
from o2c.warehouse import connect
from tests.tasks.ere.test_letter import notice
from tests.tasks.ere.test_store import db  # noqa: F401

ADDRESS = "compta@garage-martin.example"


@pytest.fixture
def twin():
    with Ar24Twin(users={"1001": "relances@creditor.fr"}) as twin:
        yield twin


def client(twin: Ar24Twin, **changes) -> Ar24Client:
    settings = twin.client_settings(**({"timeout_s": 1.0, "requests_per_second": 0} | changes))
    return Ar24Client(settings, sleep=lambda s: None)


def outbox_row(db: Path, key: str) -> tuple:
    with connect(db) as con:
        return con.execute(
            "SELECT status, provider_id, reply FROM dunning_outbox WHERE key = ?", [key]
        ).fetchone()


def letter_row(db: Path, key: str) -> tuple:
    with connect(db) as con:
        return con.execute(
            "SELECT status, ar24_mail_id, ar24_attachment_id FROM ere_letters WHERE key = ?",
            [key],
        ).fetchone()


def posts(twin: Ar24Twin) -> int:
    return twin.requests.count(("POST", "/api/mail"))


def test_a_notice_goes_out_once_with_its_pdf(db: Path, twin: Ar24Twin) -> None:
    c = notice("fr")
    run = send_formal_notices(db, [c], flow_run_id="run-1", client=client(twin))
    assert run.kept == [c.key] and run.no_consent == []
    [letter] = twin.letters_with(c.key)
    pdf = (store.letters_dir(db) / f"{c.key}.pdf").read_bytes()
    [attachment] = letter.attachments
    assert (
        hashlib.sha256(twin.attachments[attachment][1]).hexdigest()
        == hashlib.sha256(pdf).hexdigest()
    )
    assert letter.fields["to_email"] == ADDRESS
    assert letter.fields["dest_statut"] == "professionnel"
    assert letter.fields["ref_dossier"] == "C-042"
    assert outbox_row(db, c.key)[:2] == ("sent", letter.id)
    assert letter_row(db, c.key) == ("sent", letter.id, attachment)  # notified at once

    again = send_formal_notices(db, [c], flow_run_id="run-2", client=client(twin))
    assert len(twin.letters_with(c.key)) == 1 and posts(twin) == 1
    assert again.recorded == []


def test_a_lost_answer_after_ar24_accepted_is_found_by_key(db: Path, twin: Ar24Twin) -> None:
    c = notice("fr")
    twin.inject(Fault("lost", path="/api/mail", method="POST"))
    send_formal_notices(db, [c], client=client(twin))  # the retry's lookup finds it
    assert len(twin.letters_with(c.key)) == 1
    assert outbox_row(db, c.key)[0] == "sent"


def test_a_crash_between_the_send_and_the_record_is_resolved_by_lookup(
    db: Path, twin: Ar24Twin
) -> None:
    c = notice("fr")
    # the first run: kept, enqueued, claimed and sent, and it died before record_results
    send_formal_notices(db, [c], client=client(twin))
    with connect(db) as con:
        con.execute("UPDATE dunning_outbox SET status = 'pending' WHERE key = ?", [c.key])
        con.execute("UPDATE ere_letters SET ar24_mail_id = NULL WHERE key = ?", [c.key])
    run = send_formal_notices(db, [c], client=client(twin))
    assert posts(twin) == 1 and len(twin.letters_with(c.key)) == 1
    assert run.summary.interrupted == {"sent": 1}
    assert letter_row(db, c.key)[1] == twin.letters_with(c.key)[0].id


def test_a_5xx_is_retried_then_sent(db: Path, twin: Ar24Twin) -> None:
    c = notice("en")
    twin.inject(Fault("status", 503, path="/api/mail", method="POST"))
    send_formal_notices(db, [c], client=client(twin))
    assert posts(twin) == 2 and len(twin.letters_with(c.key)) == 1
    assert outbox_row(db, c.key)[0] == "sent"


def test_an_error_slug_fails_the_row_with_the_providers_message_and_is_not_retried(
    db: Path, twin: Ar24Twin
) -> None:
    c = notice("fr", recipients=("relances@creditor.fr",))  # the sender's own address
    send_formal_notices(db, [c], client=client(twin))
    status, provider_id, reply = outbox_row(db, c.key)
    assert (status, provider_id) == ("bounced", None)
    assert reply == "same_sender_recipients_emails: Sender and recipient are the same"
    assert posts(twin) == 1
    send_formal_notices(db, [c], client=client(twin))  # a later run does not try again
    assert posts(twin) == 1 and twin.letters_with(c.key) == []


def test_a_failed_lookup_after_a_lost_answer_is_unknown_and_never_resent(
    db: Path, twin: Ar24Twin
) -> None:
    c = notice("fr")
    twin.inject(
        Fault("lost", path="/api/mail", method="POST"),
        *[Fault("status", 500, path="/api/user/mail") for _ in range(8)],
    )
    send_formal_notices(db, [c], client=client(twin, max_retries=1))
    assert outbox_row(db, c.key)[0] == "unknown"
    assert len(twin.letters_with(c.key)) == 1 and posts(twin) == 1


def test_a_consumer_without_consent_is_not_sent_and_the_letter_is_kept(
    db: Path, twin: Ar24Twin
) -> None:
    with connect(db) as con:
        con.execute(
            "UPDATE customers SET customer_kind = 'consumer', lre_consent_date = NULL"
            " WHERE customer_id = 'C-042'"
        )
    c = notice("fr", customer_kind=CustomerKind.CONSUMER)
    run = send_formal_notices(db, [c], client=client(twin))
    assert run.no_consent == [c.key]
    assert twin.requests == [] and twin.letters == {}
    assert outbox_row(db, c.key)[0::2] == ("cancelled", NO_CONSENT)
    assert letter_row(db, c.key)[0] == "rendered"
    assert (store.letters_dir(db) / f"{c.key}.pdf").exists()

    with connect(db) as con:  # with consent, a consumer's letter goes as `particulier`
        con.execute("UPDATE customers SET lre_consent_date = '2026-01-02'")
    c2 = notice("fr", customer_kind=CustomerKind.CONSUMER, level=6)
    send_formal_notices(db, [c2], client=client(twin))
    [letter] = twin.letters_with(c2.key)
    assert letter.fields["dest_statut"] == "particulier"


def test_the_channel_looks_up_by_key(db: Path, twin: Ar24Twin) -> None:
    c = notice("fr")
    sender = EreSender(client(twin), store.letters_dir(db))
    assert sender.lookup(c.key)[0] == "not_sent"
    send_formal_notices(db, [c], client=client(twin))
    found, letter_id = sender.lookup(c.key)
    assert (found, letter_id) == ("sent", twin.letters_with(c.key)[0].id)
    with connect(db) as con:
        assert outbox.rows(con).filter(channel=Channel.ERE_LETTER.value).height == 1


def test_an_invoice_paid_between_plan_and_send_is_not_claimed(db: Path, twin: Ar24Twin) -> None:
    from o2c.tasks.dunning.run import recheck

    c = notice("fr")
    with connect(db) as con:  # F-2026-002 paid in full after the plan
        con.execute(
            "INSERT INTO bank_transactions (transaction_id, account_iban, currency, booking_date,"
            " amount, source, loaded_at) VALUES ('T2', 'FR7630001007941234567890185', 'EUR',"
            " '2026-03-01', 500.00, 'camt.053', now())"
        )
        con.execute(
            "INSERT INTO allocations VALUES ('A2', 'T2', 'F-2026-002', 'C-042', 500.00, 'EUR',"
            " 'payment', 'reference', 1.0, NULL, NULL, now())"
        )
    run = send_formal_notices(db, [c], client=client(twin), recheck=recheck)
    assert twin.letters_with(c.key) == []
    assert outbox_row(db, c.key)[0] == "cancelled"
    [again] = [k for k in run.kept if k != c.key]
    [letter] = twin.letters.values()
    assert letter.fields["ref_client"] == again and outbox_row(db, again)[0] == "sent"
    with connect(db) as con:
        items = con.execute(
            "SELECT invoice_id FROM dunning_outbox_items WHERE key = ? ORDER BY 1", [again]
        ).fetchall()
    assert ("F-2026-002",) not in items and ("F-2026-001",) in items


def test_each_short_write_takes_the_writer_and_no_call_to_ar24_is_made_holding_it(
    db: Path, twin: Ar24Twin
) -> None:
    from contextlib import contextmanager

    held: list[bool] = []
    calls_while_held: list[int] = []

    @contextmanager
    def writer():
        held.append(True)
        before = len(twin.requests)
        yield
        calls_while_held.append(len(twin.requests) - before)

    c = notice("fr")
    send_formal_notices(db, [c], client=client(twin), writer=writer)
    assert outbox_row(db, c.key)[0] == "sent" and len(held) >= 4
    assert set(calls_while_held) == {0}


def test_proofs_are_recorded_where_any_working_directory_finds_them(tmp_path, monkeypatch):
    from o2c.tasks.ere.send import evidence_dir

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("O2C_ERE_EVIDENCE_DIR", raising=False)
    kept = evidence_dir("data/o2c.duckdb")
    assert kept.is_absolute() and kept == tmp_path / "data" / "ere-evidence"
