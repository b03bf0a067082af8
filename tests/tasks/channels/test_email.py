"""The email channel against a real SMTP server on loopback: what a customer receives, what a
greylisting or refusing server makes of it, the rate limit, and the .eml default."""

from __future__ import annotations

import email
import email.policy
import logging
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from o2c.models.dunning import OutboxStatus, RenderedMessage
from o2c.tasks.channels import ChannelUnavailable, Envelope, Found
from o2c.tasks.channels.email import (
    EmlSender,
    SmtpSender,
    SmtpSettings,
    email_sender,
    message_id,
)
from tests.tasks.channels.smtp_server import smtp_server

FROM = "relances@lumiere.example"
PASSWORD = "s3cr3t-Pa55word!"


def rendered(key: str, lang: str = "fr") -> RenderedMessage:
    if lang == "fr":
        subject, text = "Relance : facture F-001 échue", "Bonjour,\nMontant dû : 1 234,56 €\n.\nFin"
        html = "<p>Bonjour,</p><p>Montant dû : <b>1 234,56 €</b></p>"
    else:
        subject, text = "Reminder: invoice F-002 overdue", "Hello,\nAmount due: €90.00\n"
        html = "<p>Hello,</p><p>Amount due: <b>€90.00</b></p>"
    return RenderedMessage(key, lang, subject, text, html, "t" * 64, "c" * 64)


def settings(server, **extra) -> SmtpSettings:
    values = dict(
        host=server.host,
        port=server.port,
        security="none",
        from_address=FROM,
        from_name="Lumière Industries",
        reply_to="compta@lumiere.example",
        rate_per_minute=0,
        backoff_s=1.0,
    )
    values.update(extra)
    return SmtpSettings(**values)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_messages_arrive_with_both_parts_and_the_headers_a_thread_needs() -> None:
    with smtp_server() as server:
        sender = SmtpSender(settings(server), sleep=Sleeps())
        results = sender.send_batch(
            [
                Envelope(rendered("k1", "fr"), ("compta@martin.example", "dg@martin.example")),
                Envelope(rendered("k2", "en"), ("ap@acme.example",), previous_key="k0"),
            ]
        )
    got = {r.message["Message-ID"]: r for r in server.handler.received}
    first, second = got[message_id("k1", "lumiere.example")], got["<dunning.k2@lumiere.example>"]
    assert [r.status for r in results] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert [r.provider_id for r in results] == list(got)
    assert first.rcpt_tos == ["compta@martin.example", "dg@martin.example"]
    assert first.mail_from == FROM
    fr = first.message
    assert fr["Subject"] == "Relance : facture F-001 échue"
    assert fr["From"] == "Lumière Industries <relances@lumiere.example>"
    assert fr["Reply-To"] == "compta@lumiere.example"
    assert fr["To"] == "compta@martin.example, dg@martin.example"
    assert parsedate_to_datetime(fr["Date"]).tzinfo is not None
    assert fr.get_body(("plain",)).get_content() == "Bonjour,\nMontant dû : 1 234,56 €\n.\nFin"
    assert "<b>1 234,56 €</b>" in fr.get_body(("html",)).get_content()
    assert "In-Reply-To" not in fr
    en = second.message
    assert en["Subject"] == "Reminder: invoice F-002 overdue"
    assert en["In-Reply-To"] == en["References"] == "<dunning.k0@lumiere.example>"
    assert en.get_body(("plain",)).get_content() == "Hello,\nAmount due: €90.00\n"


# implicit TLS: aiosmtpd cannot tell the socket is TLS, so AUTH is offered with its warning
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_tls_and_login(tmp_path: Path, tls: str) -> None:
    with smtp_server(tls=tls, cert_dir=tmp_path, credentials=("relances", PASSWORD)) as server:
        config = settings(
            server, security=tls, username="relances", password=PASSWORD, ca_file=server.cert_file
        )
        results = SmtpSender(config).send_batch([Envelope(rendered("k1"), ("a@b.example",))])
    assert results[0].status is OutboxStatus.SENT
    assert len(server.handler.received) == 1


def test_a_refused_login_names_the_server_never_the_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with smtp_server(tls="starttls", cert_dir=tmp_path, credentials=("relances", "other")) as srv:
        config = settings(
            srv, security="starttls", username="relances", password=PASSWORD, ca_file=srv.cert_file
        )
        sender = SmtpSender(config)
        with pytest.raises(ChannelUnavailable) as refused:
            sender.send_batch([Envelope(rendered("k1"), ("a@b.example",))])
    text = str(refused.value)
    assert f"{srv.host}:{srv.port}" in text and "535" in text
    for shown in (text, caplog.text, repr(config), repr(refused.value)):
        assert PASSWORD not in shown
    assert srv.handler.received == []


def test_a_451_is_retried_after_a_backoff() -> None:
    with smtp_server() as server:
        server.handler.data_replies = ["451 4.7.1 Greylisted, try again later"]
        sleeps = Sleeps()
        [result] = SmtpSender(settings(server), sleep=sleeps, rand=lambda: 0.5).send_batch(
            [Envelope(rendered("k1"), ("a@b.example",))]
        )
    assert (result.status, result.attempts) == (OutboxStatus.SENT, 2)
    assert len(server.handler.received) == 1
    assert sleeps == [1.25]  # 1 s backoff + half of the 50 % jitter


def test_temporary_failures_stop_after_the_last_attempt_as_failed() -> None:
    with smtp_server() as server:
        server.handler.data_replies = ["452 4.3.1 Insufficient system storage"] * 4
        sleeps = Sleeps()
        [result] = SmtpSender(
            settings(server, max_attempts=4), sleep=sleeps, rand=lambda: 0.0
        ).send_batch([Envelope(rendered("k1"), ("a@b.example",))])
    assert (result.status, result.attempts) == (OutboxStatus.FAILED, 4)
    assert sleeps == [1.0, 2.0, 4.0]
    assert "452 4.3.1" in result.reply
    assert server.handler.received == []


def test_a_550_bounces_at_once_with_the_servers_reply() -> None:
    with smtp_server() as server:
        server.handler.data_replies = ["550 5.1.1 <a@b.example>: mailbox unavailable"]
        sleeps = Sleeps()
        [result, after] = SmtpSender(settings(server), sleep=sleeps).send_batch(
            [
                Envelope(rendered("k1"), ("a@b.example",)),
                Envelope(rendered("k2"), ("c@d.example",)),
            ]
        )
    assert (result.status, result.attempts) == (OutboxStatus.BOUNCED, 1)
    assert result.reply == "end of data: 550 5.1.1 <a@b.example>: mailbox unavailable"
    assert sleeps == [] and server.handler.data_seen == 2
    assert after.status is OutboxStatus.SENT  # the same connection goes on after a refusal


def test_a_recipient_refused_for_good_bounces_and_a_bad_address_never_reaches_the_server() -> None:
    with smtp_server() as server:
        server.handler.rcpt_replies = {"gone@b.example": "550 5.1.1 No such user"}
        results = SmtpSender(settings(server), sleep=Sleeps()).send_batch(
            [
                Envelope(rendered("k1"), ("gone@b.example",)),
                Envelope(rendered("k2"), ("not an address\r\nBcc: x@y.example",)),
            ]
        )
    assert [r.status for r in results] == [OutboxStatus.BOUNCED, OutboxStatus.BOUNCED]
    assert "550 5.1.1 No such user" in results[0].reply
    assert "not an email address" in results[1].reply
    assert server.handler.data_seen == 0


def test_no_answer_after_the_message_is_unknown_and_not_retried() -> None:
    with smtp_server() as server:
        server.handler.drop_after_data = 1
        sleeps = Sleeps()
        [result] = SmtpSender(settings(server), sleep=sleeps).send_batch(
            [Envelope(rendered("k1"), ("a@b.example",))]
        )
    assert result.status is OutboxStatus.UNKNOWN
    assert len(server.handler.received) == 1 and sleeps == []


def test_the_rate_limit_spaces_messages_on_the_injected_clock() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    sleeps: list[float] = []
    with smtp_server() as server:
        sender = SmtpSender(settings(server, rate_per_minute=30), sleep=sleep, clock=lambda: now[0])
        results = sender.send_batch(
            [Envelope(rendered(f"k{n}"), ("a@b.example",)) for n in range(4)]
        )
    assert [r.status for r in results] == [OutboxStatus.SENT] * 4
    assert sleeps == [2.0, 2.0, 2.0]  # 30 a minute: one every 2 s, the first at once


def test_an_unreachable_server_is_retried_then_unavailable() -> None:
    from tests.tasks.channels.smtp_server import free_port

    sleeps = Sleeps()
    config = SmtpSettings(
        host="127.0.0.1", port=free_port(), security="none", from_address=FROM, max_attempts=3
    )
    with pytest.raises(ChannelUnavailable, match="after 3 attempts"):
        SmtpSender(config, sleep=sleeps).send_batch([Envelope(rendered("k1"), ("a@b.example",))])
    assert len(sleeps) == 2


def test_without_a_host_each_message_is_an_eml_file_beside_the_warehouse(tmp_path: Path) -> None:
    db = tmp_path / "data" / "o2c.duckdb"
    sender = email_sender(SmtpSettings(from_address=FROM), db=db)
    envelopes = [Envelope(rendered("k1"), ("a@b.example",), previous_key="k0")]
    assert isinstance(sender, EmlSender)
    assert sender.lookup("k1") == (Found.NOT_SENT, None)
    first = sender.send_batch(envelopes)
    again = sender.send_batch(envelopes)
    files = sorted(p.name for p in (tmp_path / "data" / "outbox-mail").iterdir())
    message = email.message_from_bytes(
        (tmp_path / "data" / "outbox-mail" / "k1.eml").read_bytes(), policy=email.policy.default
    )
    assert files == ["k1.eml"]
    assert first[0].status is OutboxStatus.SENT and first[0].provider_id == "k1.eml"
    assert again[0].status is OutboxStatus.SENT and again[0].reply == "already written"
    assert sender.lookup("k1") == (Found.SENT, "k1.eml")
    assert message["Message-ID"] == "<dunning.k1@lumiere.example>"
    assert message["In-Reply-To"] == "<dunning.k0@lumiere.example>"
    assert message.get_body(("plain",)).get_content().startswith("Bonjour,\nMontant dû")
