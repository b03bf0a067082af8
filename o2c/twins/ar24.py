"""A local twin of AR24's API on loopback, for tests and for the demo.

It speaks the contract tasks/connectors/ar24.py follows (see its docstring, and what is
unconfirmed there): `token` + `date` + `signature` checked on every call, with AR24's error slugs
(CONTRACTS.md 1.2, 1.3); success bodies encrypted with the request's date; attachments and
letters kept; letters moved through their states over simulated time (`advance(days)`) by the
behaviour set per recipient address (`recipient`); proof PDFs served at the letters' proof URLs;
faults injected on demand (`inject`), consumed one per matching request, in order.

The twin's own choices, where AR24 says nothing known (CONTRACTS.md 7): the `status` words after
`waiting` (sent, AR, refused, negligence, bounced), the slug of a wrong signature
(`signature_invalid`), of an unknown attachment (`attachment_not_found`) and of a bad
`dest_statut` (`invalid_dest_statut`), a 60 s grace on a date just past, GET /user/mail answering
a plain list, and proof URLs `/get/proof/{kind}-{id}?token=` (the shape of AR24's fixtures).
AR24 cannot know whether a consumer consented to electronic notification: neither does the twin.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr

from o2c.models.settings_ar24 import Ar24Settings
from o2c.tasks.connectors.ar24_signing import (
    PARIS,
    DecryptionError,
    decrypt_signature,
    encrypt_body,
    paris_date,
    parse_paris_date,
)
from o2c.twins.loopback import LoopbackTwin, QuietHandler

API = "/api"
PROOF_PATH = "/get/proof/"
FUTURE_WINDOW = timedelta(minutes=10)  # CONTRACTS.md 1.2: date_in_future past +10 minutes
NOTICE_DAYS = 15  # days from the day after notification to accept or refuse (CONTRACTS.md 1.4)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Behaviour:
    """What a recipient does: accept, refuse, neglect (never opens), or bounce."""

    action: str = "accept"  # accept | refuse | neglect | bounce
    after_days: float = 1.0  # for accept / refuse; past the 15 days it is a neglect

    def __post_init__(self) -> None:
        if self.action not in ("accept", "refuse", "neglect", "bounce"):
            raise ValueError(f"unknown recipient behaviour {self.action!r}")


@dataclass
class Fault:
    """One bad answer to the next request on `path` (any when None), `method` likewise.

    kind: `status` (answer `status`, with `retry_after` if given), `maintenance` (200
    `{"status":"maintenance"}`), `timeout` (answer nothing for `seconds`), `lost` (do the work,
    then close the connection without an answer), `late` (do the work, answer nothing for
    `seconds`: a timeout after the letter was accepted), `garbled` (do the work, answer 200 with
    a body that does not decrypt).
    """

    kind: str = "status"
    status: int = 503
    path: str | None = None
    method: str | None = None
    retry_after: str | None = None
    seconds: float = 2.0


@dataclass
class TwinLetter:
    id: str
    id_user: str
    fields: dict[str, Any]
    attachments: list[str]
    created: datetime  # simulated time
    behaviour: Behaviour
    proof_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))


@dataclass
class _Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close without answering


class Ar24Twin(LoopbackTwin):
    """Start with `with Ar24Twin(...) as twin:`; `twin.api_url` is the base URL for the client."""

    def __init__(
        self,
        token: str = "twin-ar24-token",
        private_key: str = "twin-ar24-private-key",
        users: dict[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        date_grace_s: float = 60.0,
        default_behaviour: Behaviour | None = None,
    ) -> None:
        self.token, self.private_key = token, private_key
        self.users = dict(users or {"1001": "relances@example-creditor.fr"})  # id_user -> email
        self.clock = clock
        self.date_grace = timedelta(seconds=date_grace_s)
        self.default_behaviour = default_behaviour or Behaviour()
        self.behaviours: dict[str, Behaviour] = {}
        self.attachments: dict[str, tuple[str, bytes, str]] = {}  # id -> (name, content, user)
        self.letters: dict[str, TwinLetter] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path), in order
        self.offset = timedelta()
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._listen(_handler(self))

    @property
    def api_url(self) -> str:
        return self.url + API

    def client_settings(self, id_user: str | None = None, **changes: Any) -> Ar24Settings:
        """Settings for an Ar24Client talking to this twin (what `o2c demo` needs)."""
        values: dict[str, Any] = {
            "base_url": self.api_url,
            "token": SecretStr(self.token),
            "private_key": SecretStr(self.private_key),
            "id_user": id_user or next(iter(self.users)),
        }
        return Ar24Settings(**(values | changes))

    # -- the test's levers -------------------------------------------------------------------

    def recipient(self, address: str, behaviour: Behaviour) -> None:
        """How the holder of `address` will treat letters sent after this call."""
        with self._lock:
            self.behaviours[address.lower()] = behaviour

    def advance(self, days: float) -> None:
        """Simulated time moves on (the date window of requests still follows the real clock)."""
        with self._lock:
            self.offset += timedelta(days=days)

    def now(self) -> datetime:
        return self.clock() + self.offset

    def letters_with(self, ref_client: str) -> list[TwinLetter]:
        with self._lock:
            return [x for x in self.letters.values() if x.fields.get("ref_client") == ref_client]

    # -- answers -----------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> _Answer:
        parts = urlsplit(target)
        path = parts.path
        with self._lock:
            self.requests.append((method, path))
            fault = next(
                (f for f in self._faults if f.path in (None, path) and f.method in (None, method)),
                None,
            )
            if fault:
                self._faults.remove(fault)
        if path.startswith(PROOF_PATH) and method == "GET":
            return self._proof(path.removeprefix(PROOF_PATH), parse_qs(parts.query))
        if fault and fault.kind in ("status", "maintenance", "timeout"):
            return _fault_answer(fault)
        fields, files = _form(method, parts.query, headers, raw)
        answer = self._api(method, path.removeprefix(API), fields, files, headers)
        if fault and fault.kind == "lost":
            return _Answer(drop=True)
        if fault and fault.kind == "late":
            return _Answer(delay=fault.seconds, drop=True)
        if fault and fault.kind == "garbled":
            return _Answer(200, b"c29tZXRoaW5nIGVsc2U=", {"Content-Type": "text/plain"})
        return answer

    def _api(
        self,
        method: str,
        path: str,
        fields: dict[str, list[str]],
        files: dict[str, tuple[str, bytes]],
        headers: dict[str, str],
    ) -> _Answer:
        def one(name: str) -> str:
            return (fields.get(name) or [""])[0]

        refused = self._authenticate(one("token"), one("date"), headers.get("signature", ""))
        if refused:
            return refused
        date = one("date")
        if method == "POST" and path == "/attachment":
            return self._upload(date, one("id_user"), one("file_name"), files)
        if method == "POST" and path == "/mail":
            return self._send(date, fields)
        if method == "GET" and path == "/mail":
            letter = self.letters.get(one("id"))
            if not one("id"):
                return _error("missing_erm_id", "The id of the registered mail is missing")
            if letter is None:
                return _error("mail_not_found", "No registered mail with this id")
            return self._success(date, self._view(letter))
        if method == "GET" and path == "/user/mail":
            if one("id_user") not in self.users:
                return _error("user_not_exist", "The user does not exist")
            with self._lock:
                mine = [x for x in self.letters.values() if x.id_user == one("id_user")]
            return self._success(date, [self._view(x) for x in mine])
        return _Answer(404, b'{"status":"ERROR","slug":"not_found","message":"No such route"}')

    def _authenticate(self, token: str, date: str, signature: str) -> _Answer | None:
        """AR24's checks of every call, with its slugs (CONTRACTS.md 1.2)."""
        if not token:
            return _error("token_missing", "The token is missing")
        if not secrets.compare_digest(token, self.token):
            return _error("token_invalid", "The token is invalid")
        if not date:
            return _error("empty_date", "The date is missing")
        try:
            when = parse_paris_date(date)
        except ValueError:
            return _error("invalid_date", "The date must be YYYY-MM-DD HH:mm:ss")
        now = self.clock()
        if when < now - self.date_grace:
            return _error("expired_date", "The date is older than the current datetime")
        if when > now + FUTURE_WINDOW:
            return _error(
                "date_in_future", "The date must be between call submission and +10 minutes"
            )
        try:
            signed = decrypt_signature(signature, self.private_key) if signature else ""
        except DecryptionError:
            signed = ""
        if not secrets.compare_digest(signed.encode(), date.encode()):
            return _error("signature_invalid", "The signature does not match the date")
        return None

    def _upload(
        self, date: str, id_user: str, name: str, files: dict[str, tuple[str, bytes]]
    ) -> _Answer:
        if id_user not in self.users:
            return _error("user_not_exist", "The user does not exist")
        if "file" not in files or not files["file"][1]:
            return _error("attachment_missing_file", "The file is missing")
        if not name:
            return _error("attachment_empty_name", "The file name is empty")
        with self._lock:
            file_id = str(self._next_id)
            self._next_id += 1
            self.attachments[file_id] = (name, files["file"][1], id_user)
        return self._success(date, {"file_id": file_id})

    def _send(self, date: str, fields: dict[str, list[str]]) -> _Answer:
        one = {name: values[0] for name, values in fields.items() if values}
        id_user = one.get("id_user", "")
        attachments = fields.get("attachment[]", [])
        to_email = one.get("to_email", "")
        if id_user not in self.users:
            return _error("user_not_exist", "The user does not exist")
        if not _EMAIL.match(to_email):
            return _error("invalid_email", "The recipient's email is invalid")
        if to_email.lower() == self.users[id_user].lower():
            return _error("same_sender_recipients_emails", "Sender and recipient are the same")
        if one.get("dest_statut") not in ("particulier", "professionnel"):
            return _error("invalid_dest_statut", "dest_statut is particulier or professionnel")
        if not one.get("content") and not attachments:
            return _error("error_no_content_no_attachment", "No content and no attachment")
        if any(self.attachments.get(a, ("", b"", ""))[2] != id_user for a in attachments):
            return _error("attachment_not_found", "An attachment does not exist")
        if one.get("eidas") == "1" and not (one.get("otp") or one.get("auth_otp_hash")):
            return _error("authentication_missing", "An eIDAS mail needs otp or auth_otp_hash")
        kept = {k: v for k, v in one.items() if k not in ("token", "date", "otp", "auth_otp_hash")}
        with self._lock:
            letter = TwinLetter(
                id=str(self._next_id),
                id_user=id_user,
                fields=kept,
                attachments=list(attachments),
                created=self.now(),
                behaviour=self.behaviours.get(to_email.lower(), self.default_behaviour),
            )
            self._next_id += 1
            self.letters[letter.id] = letter
        return self._success(date, self._view(letter))

    # -- letters over time -------------------------------------------------------------------

    def events(self, letter: TwinLetter) -> dict[str, datetime]:
        """The proofs a letter has by the simulated now, each with its date."""
        behaviour, sent = letter.behaviour, letter.created
        # The 15 days run from the day after the notification (CONTRACTS.md 1.4).
        deadline = datetime.combine(
            sent.astimezone(PARIS).date() + timedelta(days=NOTICE_DAYS + 1),
            datetime.min.time(),
            tzinfo=PARIS,
        )
        planned = {"ev": sent}
        if behaviour.action == "bounce":
            planned["bc"] = sent + timedelta(minutes=5)
        elif behaviour.action == "neglect" or sent + timedelta(behaviour.after_days) >= deadline:
            planned["ng"] = deadline
        else:
            kind = "ar" if behaviour.action == "accept" else "rf"
            planned[kind] = sent + timedelta(days=behaviour.after_days)
        now = self.now()
        return {kind: when for kind, when in planned.items() if when <= now}

    def _view(self, letter: TwinLetter) -> dict[str, Any]:
        events = self.events(letter)
        status = "waiting"
        for kind, word in (("ev", "sent"), ("ar", "AR"), ("rf", "refused"), ("ng", "negligence")):
            if kind in events:
                status = word
        if "bc" in events:
            status = "bounced"
        f = letter.fields
        view: dict[str, Any] = {
            "id": letter.id,
            "type": "lre",
            "status": status,
            "from_email": self.users[letter.id_user],
            "id_sender": letter.id_user,
            "to_firstname": f.get("to_firstname", ""),
            "to_lastname": f.get("to_lastname", ""),
            "to_company": f.get("to_company", ""),
            "to_email": f.get("to_email", ""),
            "dest_statut": f.get("dest_statut", ""),
            "ref_client": f.get("ref_client", ""),
            "ref_dossier": f.get("ref_dossier", ""),
            "ref_facturation": f.get("ref_facturation", ""),
            "is_eidas": f.get("eidas") == "1",
            "date": paris_date(letter.created),
            "attachments": letter.attachments,
        }
        dates = {"ev": "ts_ev_date", "ar": "view_date", "rf": "refused_date"}
        dates |= {"ng": "negligence_date", "bc": "bounced_date"}
        for kind, when in events.items():
            view[f"proof_{kind}_url"] = (
                f"{self.url}{PROOF_PATH}{kind}-{letter.id}?token={letter.proof_token}"
            )
            view[dates[kind]] = paris_date(when)
        return view

    def _proof(self, name: str, query: dict[str, list[str]]) -> _Answer:
        kind, _, letter_id = name.partition("-")
        letter = self.letters.get(letter_id)
        token = (query.get("token") or [""])[0]
        if letter is None or not secrets.compare_digest(token, letter.proof_token):
            return _Answer(404, b"not found", {"Content-Type": "text/plain"})
        when = self.events(letter).get(kind)
        if when is None:
            return _Answer(404, b"no such proof yet", {"Content-Type": "text/plain"})
        return _Answer(200, proof_pdf(kind, letter, when), {"Content-Type": "application/pdf"})

    def _success(self, date: str, result: Any) -> _Answer:
        text = json.dumps({"status": "SUCCESS", "result": result}, ensure_ascii=False)
        body = encrypt_body(text, date, self.private_key).encode()
        return _Answer(200, body, {"Content-Type": "text/plain"})


def _error(slug: str, message: str, status: int = 200) -> _Answer:
    """AR24 sends its errors in clear, with HTTP 200 (CONTRACTS.md 1.1)."""
    body = json.dumps({"status": "ERROR", "slug": slug, "message": message}).encode()
    return _Answer(status, body, {"Content-Type": "application/json"})


def _fault_answer(fault: Fault) -> _Answer:
    if fault.kind == "maintenance":
        return _Answer(200, b'{"status":"maintenance"}', {"Content-Type": "application/json"})
    if fault.kind == "timeout":
        return _Answer(delay=fault.seconds, drop=True)
    headers = {"Content-Type": "text/html"}
    if fault.retry_after:
        headers["Retry-After"] = fault.retry_after
    return _Answer(fault.status, b"<html>injected fault</html>", headers)


_KIND_NAMES = {
    "ev": "deposit and sending",
    "ar": "acceptance (accuse de reception)",
    "rf": "refusal",
    "ng": "negligence (not claimed within 15 days)",
    "bc": "bounce",
}


def proof_pdf(kind: str, letter: TwinLetter, when: datetime) -> bytes:
    """A small, real one-page PDF standing for AR24's proof of `kind` (written by hand: the
    standard library has no PDF writer and the twin needs no dependency)."""
    lines = [
        "AR24 TWIN - NOT A LEGAL PROOF",
        f"Proof of {_KIND_NAMES.get(kind, kind)}",
        f"Letter {letter.id}, reference {letter.fields.get('ref_client', '')}",
        f"Recipient {letter.fields.get('to_email', '')}",
        f"Date (Paris) {paris_date(when)}",
    ]
    text = "BT /F1 11 Tf 50 780 Td 14 TL " + " ".join(f"({_pdf_text(x)}) '" for x in lines) + " ET"
    stream = text.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_text(value: str) -> str:
    """Text as a PDF string literal's content: Latin-1 only, delimiters escaped."""
    folded = value.encode("latin-1", "replace").decode("latin-1")
    return folded.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _form(
    method: str, query: str, headers: dict[str, str], raw: bytes
) -> tuple[dict[str, list[str]], dict[str, tuple[str, bytes]]]:
    """A request's fields (query for GET, form body for POST) and uploaded files."""
    if method == "GET":
        return parse_qs(query, keep_blank_values=True), {}
    content_type = headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return parse_qs(raw.decode(), keep_blank_values=True), {}
    if not content_type.startswith("multipart/form-data"):
        return {}, {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, list[str]] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[str(name)] = (filename, payload)
        else:
            fields.setdefault(str(name), []).append(payload.decode())
    return fields, files


def _handler(twin: Ar24Twin) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _serve(self) -> None:
            answer = twin.answer(self.command, self.path, self.lower_headers(), self.body())
            if answer.delay:
                time.sleep(answer.delay)
            if answer.drop:
                self.close_connection = True
                return
            self.answer(answer.status, answer.body, answer.headers, content_type=None)

        do_GET = do_POST = _serve

    return Handler
