"""The email channel: reminders over SMTP, or as .eml files when no server is configured.

Settings come from the environment (O2C_SMTP_*), the password from O2C_SMTP_PASSWORD or a
Prefect Secret block named by O2C_SMTP_PASSWORD_BLOCK. With no O2C_SMTP_HOST the embedded
default writes each message as `<key>.eml` in a folder beside the warehouse (data/outbox-mail/),
so the demo shows real messages without a mail server.

Exactly once, as far as SMTP allows: the Message-ID is derived from the outbox key, so the same
communication is the same message whoever sends it. A reply 4xx (421, 450, 451, 452...) or a
connection lost before the message's final dot is temporary: retried with backoff and jitter.
A reply 5xx is permanent: bounced, with the server's reply, never retried. A connection lost
after the final dot, before the server's answer, is the one case nobody can settle: the server may
have queued it, so the result is `unknown` and the outbox never resends it by itself.

One batch is one connection, spaced by a rate limit per minute. The password is blanked out of
every reply and error this module keeps; smtplib's debug output (which would print it) is never
turned on.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import random
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from o2c.models.dunning import OutboxStatus
from o2c.tasks.channels import ChannelUnavailable, Envelope, Found, SendResult
from o2c.tasks.connectors.http import Clock, RateLimiter, Redactor, RetryPolicy, Sleep

log = logging.getLogger(__name__)

MAIL_DIR_NAME = "outbox-mail"  # beside the warehouse file
TEMPORARY_CODES = range(400, 500)


class _Headers(policy.Compat32):
    """compat32, minus its cost on plain headers: an ASCII value on one short line is written
    as it is (RFC 5322 allows 998 characters); anything else is folded and encoded as usual."""

    def _fold(self, name, value, sanitize):  # type: ignore[override]
        plain = isinstance(value, str) and value.isascii() and len(name) + len(value) < 900
        if plain and "\r" not in value and "\n" not in value:
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


# Bodies in base64, headers RFC 2047: 7-bit, any server takes it, 8BITMIME or not.
_FILE = _Headers()
_WIRE = _FILE.clone(linesep="\r\n")
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")


class SmtpSettings(BaseSettings):
    """Where and how to send (O2C_SMTP_*). No host: .eml files beside the warehouse."""

    model_config = SettingsConfigDict(env_prefix="O2C_SMTP_", extra="ignore", frozen=True)

    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)  # 587 starttls, 465 ssl, 25 none
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    password_block: str | None = None  # a Prefect Secret block holding the password
    ca_file: Path | None = None  # a private CA to trust (the default trust store otherwise)
    from_address: str | None = None  # default O2C_COMPANY_EMAIL
    from_name: str | None = None  # default O2C_COMPANY_NAME
    reply_to: str | None = None  # default the From address
    rate_per_minute: float = Field(default=60.0, ge=0)  # 0: no limit (a local relay)
    batch_size: int = Field(default=200, ge=1)  # messages per connection (and per task)
    max_attempts: int = Field(default=4, ge=1)  # per message, temporary failures only
    backoff_s: float = Field(default=2.0, ge=0)  # first wait, doubled each retry, plus jitter
    timeout_s: float = Field(default=30.0, gt=0)
    mail_dir: Path | None = None  # where .eml files go without a host

    @property
    def smtp_port(self) -> int:
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.security]

    def secret(self) -> str | None:
        """The password: from the environment, else from the named Prefect Secret block."""
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_block:
            from prefect.blocks.system import Secret

            return str(Secret.load(self.password_block).get())
        return None


def message_id(key: str, domain: str) -> str:
    """The Message-ID of the outbox key: the same communication is always the same message."""
    return f"<dunning.{key}@{domain}>"


def valid_address(address: str) -> bool:
    """A plain ASCII addr-spec (no display name, no SMTPUTF8), as SMTP takes it in RCPT TO."""
    return bool(_ADDRESS.match(address))


def build_message(
    envelope: Envelope,
    *,
    sender: Address,
    reply_to: str | None,
    now: datetime,
) -> Message:
    """The email as a customer's mail client shows it: text and HTML alternatives, Message-ID
    from the key, In-Reply-To and References naming the previous level of the same case.

    Built with the classic MIME classes: the same message as EmailMessage would write, at a
    fraction of the cost (its header parsing dominated a 10 000-reminder run)."""
    rendered = envelope.message
    domain = sender.domain
    text = MIMEText(rendered.text, "plain", "utf-8")
    if rendered.html:
        msg: Message = MIMEMultipart("alternative")
        msg.attach(text)
        msg.attach(MIMEText(rendered.html, "html", "utf-8"))
    else:
        msg = text
    msg["From"] = formataddr((sender.display_name, sender.addr_spec), charset="utf-8")
    msg["To"] = ", ".join(envelope.recipients)
    if reply_to:
        msg["Reply-To"] = reply_to
    subject = " ".join(rendered.subject.split())  # never a line break in a header
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
    msg["Date"] = format_datetime(now.astimezone(UTC))
    msg["Message-ID"] = message_id(rendered.key, domain)
    if envelope.previous_key:
        previous = message_id(envelope.previous_key, domain)
        msg["In-Reply-To"] = previous
        msg["References"] = previous
    msg["Content-Language"] = rendered.language
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies loop back
    return msg


def sender_address(settings: SmtpSettings) -> tuple[Address, str]:
    """From (display name, address) and Reply-To, defaulting to the company's (O2C_COMPANY_*)."""
    from o2c.tasks.dunning.settings import SenderSettings

    company = SenderSettings()
    addr = settings.from_address or company.email
    if not valid_address(addr):
        raise ValueError(f"O2C_SMTP_FROM_ADDRESS={addr!r} is not an email address")
    local, domain = addr.rsplit("@", 1)
    name = settings.from_name if settings.from_name is not None else company.name
    return Address(display_name=name, username=local, domain=domain), settings.reply_to or addr


class EmlSender:
    """The embedded default: each message as `<key>.eml` in a folder, written then renamed, so
    a file either is whole or is not there, and its presence is the proof it was 'sent'."""

    name = "eml"

    def __init__(
        self,
        folder: Path,
        *,
        sender: Address,
        reply_to: str | None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.folder = Path(folder)
        self._sender, self._reply_to, self._now = sender, reply_to, now

    def path(self, key: str) -> Path:
        if not re.fullmatch(r"[0-9A-Za-z_-]+", key):
            raise ValueError(f"outbox key {key!r} cannot name a file")
        return self.folder / f"{key}.eml"

    def lookup(self, key: str) -> tuple[Found, str | None]:
        path = self.path(key)
        return (Found.SENT, path.name) if path.exists() else (Found.NOT_SENT, None)

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        self.folder.mkdir(parents=True, exist_ok=True)
        return [self._write(e) for e in envelopes]

    def _write(self, envelope: Envelope) -> SendResult:
        path = self.path(envelope.key)
        if path.exists():
            return SendResult(envelope.key, OutboxStatus.SENT, path.name, "already written")
        bad = [r for r in envelope.recipients if not valid_address(r)]
        if bad or not envelope.recipients:
            return SendResult(envelope.key, OutboxStatus.BOUNCED, None, _no_address(bad))
        msg = build_message(envelope, sender=self._sender, reply_to=self._reply_to, now=self._now())
        data = msg.as_bytes(policy=_FILE)
        partial = path.with_name(f".{path.name}.partial")
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        return SendResult(envelope.key, OutboxStatus.SENT, path.name, f"written to {path.name}")


class SmtpSender:
    """SMTP with STARTTLS or SSL and login; one connection per batch; retries on 4xx only."""

    name = "smtp"

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        rand: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sender: tuple[Address, str] | None = None,
    ) -> None:
        if not settings.host:
            raise ValueError("O2C_SMTP_HOST is not set")
        self.settings = settings
        self._sender, self._reply_to = sender or sender_address(settings)
        self._sleep, self._rand, self._now = sleep, rand, now
        self._limiter = RateLimiter(settings.rate_per_minute / 60.0, clock, sleep)
        self._retry = RetryPolicy(
            max_retries=settings.max_attempts - 1,
            backoff_base_s=settings.backoff_s,
            backoff_max_s=max(settings.backoff_s * 16, settings.backoff_s),
            jitter=0.5,
        )
        self._password = settings.secret()
        self._redact = Redactor()
        if self._password:
            self._redact.add(self._password)
            user = settings.username or ""
            for raw in (self._password, f"\0{user}\0{self._password}"):
                self._redact.add(base64.b64encode(raw.encode()).decode())
        self._conn: smtplib.SMTP | None = None

    @property
    def target(self) -> str:
        return f"{self.settings.host}:{self.settings.smtp_port}"

    def lookup(self, key: str) -> tuple[Found, str | None]:
        """SMTP has no way to ask a server whether it took a Message-ID."""
        return Found.UNKNOWABLE, None

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        """Send over one connection. Raises ChannelUnavailable only when the server could not be
        reached (or refused the login) before the first message; later, the messages left are
        `failed` with the reason (certainly unsent, a later run tries them again)."""
        results: list[SendResult] = []
        try:
            for envelope in envelopes:
                try:
                    results.append(self._send_one(envelope))
                except ChannelUnavailable as exc:
                    if not results:
                        raise
                    reason = str(exc)
                    results.extend(
                        SendResult(e.key, OutboxStatus.FAILED, None, reason, 0)
                        for e in envelopes[len(results) :]
                    )
                    break
        finally:
            self._close()
        return results

    # -- one message -----------------------------------------------------------------------

    def _send_one(self, envelope: Envelope) -> SendResult:
        key = envelope.key
        bad = [r for r in envelope.recipients if not valid_address(r)]
        if bad or not envelope.recipients:
            return SendResult(key, OutboxStatus.BOUNCED, None, _no_address(bad), 0)
        msg = build_message(envelope, sender=self._sender, reply_to=self._reply_to, now=self._now())
        data = _dot_stuffed(msg.as_bytes(policy=_WIRE))
        mid = msg["Message-ID"]
        attempt = 0
        while True:
            attempt += 1
            self._limiter.wait()
            outcome, reply = self._attempt(envelope.recipients, data)
            reply = self._redact(reply)
            if outcome == "sent":
                return SendResult(key, OutboxStatus.SENT, mid, reply, attempt)
            if outcome == "permanent":
                return SendResult(key, OutboxStatus.BOUNCED, mid, reply, attempt)
            if outcome == "unknown":
                log.warning("%s: no answer after the message was sent; marked unknown", key)
                return SendResult(key, OutboxStatus.UNKNOWN, mid, reply, attempt)
            if attempt >= self.settings.max_attempts:
                return SendResult(key, OutboxStatus.FAILED, mid, reply, attempt)
            wait = self._retry.backoff(attempt, self._rand())
            log.info("%s: temporary failure (%s); retry in %.1f s", key, reply, wait)
            self._sleep(wait)

    def _attempt(self, recipients: Sequence[str], data: bytes) -> tuple[str, str]:
        """One try: ('sent' | 'temporary' | 'permanent' | 'unknown', the server's reply)."""
        conn = self._connection()
        delivered = False  # the final dot went out: from here a lost answer is unknowable
        try:
            code, text = conn.mail(self._sender.addr_spec)
            if code != 250:
                return self._refused(code, text, "MAIL FROM")
            replies = [(r, *conn.rcpt(r)) for r in recipients]
            accepted = [r for r, code, _ in replies if code in (250, 251)]
            refused = "; ".join(
                f"{r}: {_reply(c, t)}" for r, c, t in replies if c not in (250, 251)
            )
            if not accepted:
                worst = min(c for _, c, _ in replies)  # a 4xx among 5xx: worth a retry
                return self._refused(worst, refused.encode(), "RCPT TO", whole=True)
            code, text = conn.docmd("DATA")
            if code != 354:
                return self._refused(code, text, "DATA")
            conn.send(data)
            delivered = True
            code, text = conn.getreply()
            if code == 250:
                extra = f" (refused: {refused})" if refused else ""
                return "sent", _reply(code, text) + extra
            return self._refused(code, text, "end of data")
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            what = f"{type(exc).__name__}: {exc}"
            if delivered:
                return "unknown", f"connection lost waiting for the answer to the message ({what})"
            return "temporary", f"connection lost ({what})"

    def _refused(
        self, code: int, text: bytes | str, step: str, *, whole: bool = False
    ) -> tuple[str, str]:
        reply = text.decode() if isinstance(text, bytes) else text
        if not whole:
            reply = _reply(code, reply)
        if code == 421:  # the server is closing the connection
            self._drop()
        else:
            self._reset()
        kind = "temporary" if code in TEMPORARY_CODES else "permanent"
        return kind, f"{step}: {reply}"

    # -- the connection --------------------------------------------------------------------

    def _connection(self) -> smtplib.SMTP:
        """The batch's connection, opened (with retries on temporary failures) when needed."""
        attempt = 0
        while self._conn is None:
            attempt += 1
            try:
                self._conn = self._open()
            except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError) as exc:
                raise ChannelUnavailable(self._redact(f"{self.target} refused us: {exc}")) from None
            except ssl.SSLError as exc:
                raise ChannelUnavailable(f"{self.target}: TLS failed: {exc}") from None
            except (smtplib.SMTPException, OSError) as exc:
                reason = self._redact(f"{self.target} unreachable: {type(exc).__name__}: {exc}")
                if attempt >= self.settings.max_attempts:
                    raise ChannelUnavailable(f"{reason} after {attempt} attempts") from None
                self._sleep(self._retry.backoff(attempt, self._rand()))
        return self._conn

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        if s.security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.smtp_port, timeout=s.timeout_s, context=context
            )
        else:
            conn = smtplib.SMTP(s.host, s.smtp_port, timeout=s.timeout_s)
        try:
            conn.ehlo()
            if s.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if s.username:
                conn.login(s.username, self._password or "")
        except BaseException:
            _quietly_close(conn)
            raise
        return conn

    def _reset(self) -> None:
        if self._conn is not None:
            try:
                self._conn.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            _quietly_close(self._conn)
            self._conn = None

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._conn.quit()
            self._drop()


def email_sender(settings: SmtpSettings | None = None, *, db: str | Path | None = None):
    """The configured channel: SMTP when O2C_SMTP_HOST is set, else .eml files beside the
    warehouse (O2C_SMTP_MAIL_DIR, default <warehouse folder>/outbox-mail)."""
    from o2c.warehouse import db_path

    settings = settings or SmtpSettings()
    if settings.host:
        return SmtpSender(settings)
    sender, reply_to = sender_address(settings)
    folder = settings.mail_dir or db_path(db).parent / MAIL_DIR_NAME
    return EmlSender(folder, sender=sender, reply_to=reply_to)


def _dot_stuffed(data: bytes) -> bytes:
    """RFC 5321 4.5.2: a line starting with '.' gets another; then the final CRLF.CRLF."""
    data = _DOT_AT_LINE_START.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode(errors="replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(text.split())}"


def _no_address(bad: list[str]) -> str:
    if not bad:
        return "no recipient address"
    return "not an email address: " + ", ".join(repr(b) for b in bad)


def _quietly_close(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        conn.close()
