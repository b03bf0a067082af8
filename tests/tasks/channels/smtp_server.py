"""A real SMTP server on loopback (aiosmtpd) that keeps what it accepted, for the email tests.

It speaks SMTP as a mail server does: replies scripted per test are the ones real servers give
(451 greylisting, 550 unknown mailbox, 421 closing), optional STARTTLS or implicit TLS with a
self-signed certificate made for the test, and AUTH checked against one user and password.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        # stored with local line ends, as a mailbox keeps what arrived in CRLF
        return email.message_from_bytes(
            self.data.replace(b"\r\n", b"\n"), policy=email.policy.default
        )


@dataclass
class Handler:
    """Keeps accepted messages; replies from `data_replies` (one per DATA end, None for 250)
    and `rcpt_replies` (per address) first, as a real server would answer."""

    received: list[Received] = field(default_factory=list)
    data_replies: list[str | None] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    drop_after_data: int = 0  # this many times: keep the message, close without answering
    data_seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_seen += 1
            scripted = self.data_replies.pop(0) if self.data_replies else None
            if scripted:
                return scripted
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
            )
            if self.drop_after_data:
                self.drop_after_data -= 1
                server.transport.close()  # the answer to the final dot never leaves
            return f"250 2.0.0 queued as Q{len(self.received)}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (the certificate is its own CA)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Server:
    handler: Handler
    host: str
    port: int
    cert_file: Path | None = None


@contextmanager
def smtp_server(
    *,
    tls: str | None = None,  # None, "starttls" or "ssl"
    cert_dir: Path | None = None,
    credentials: tuple[str, str] | None = None,
) -> Iterator[Server]:
    handler = Handler()
    port = free_port()
    kwargs: dict = {}
    cert_file = None
    if tls:
        assert cert_dir is not None
        cert_file, key_file = self_signed(cert_dir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        if tls == "ssl":
            kwargs["ssl_context"] = context
        else:
            kwargs.update(tls_context=context, require_starttls=True)
    if credentials:

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and (
                    auth_data.login.decode(),
                    auth_data.password.decode(),
                )
                == credentials
            )
            return AuthResult(success=ok, handled=False)

        # aiosmtpd sees STARTTLS, not a socket that was TLS from the start: it would hide AUTH
        kwargs.update(
            authenticator=authenticator, auth_required=True, auth_require_tls=tls == "starttls"
        )
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield Server(handler, "127.0.0.1", port, cert_file)
    finally:
        controller.stop()
