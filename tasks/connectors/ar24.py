"""AR24: electronic registered letters (simple ERE, or eIDAS-qualified LRE) and their proofs.

A formal notice sent twice costs money and looks incompetent, and AR24 offers no idempotency key
(CONTRACTS.md 1.3). So each letter carries our outbox key in `ref_client`, and `POST /mail` is
never repeated blindly: before a first send and before any retry (after a timeout, a 5xx, a 429
or an answer lost on the way back) the client lists the sender's letters and sends only if none
carries that key. A lookup that itself fails leaves the outcome unknown: nothing is resent.

Contract used, and where each fact comes from (../shared/CONTRACTS.md):
- 1.1: form-data in (POST body; GET query), JSON out; success status 200; errors in clear as
  `{"status":"ERROR","slug":...,"message":...}` (possibly with HTTP 200); `{"status":
  "maintenance"}` while down (retried here); timeout 60 s; hosts sandbox/app.ar24.fr/api.
- 1.2: `token` + `date` (Paris time, refused when older than now or over 10 min ahead, hence
  fresh per attempt) and the `signature` header; success bodies encrypted (ar24_signing.py).
- 1.3: POST /attachment (multipart `file`, `file_name`, `id_user` -> result.file_id); POST /mail
  (`id_user`, `to_*`, `dest_statut`, `ref_client`, `ref_dossier`, `ref_facturation`, `content`,
  `attachment[]`, `webhook`; `eidas=1` with `otp` or `auth_otp_hash` for a qualified LRE);
  GET /mail?id=; GET /user/mail?id_user=; the mail object's `proof_{ev,ar,rf,ng,bc}_url` and dates.
- 1.4: proof kinds ev (sent), ar (accepted), rf (refused), ng (not claimed in 15 days), bc
  (bounced).
NEVER confirmed against AR24's sandbox (CONTRACTS.md 7), each one place below:
- the signing rule itself, and whether the whole success body is ciphertext (assumed, as the
  documentation's example suggests) or only `result` (also accepted, see `_success_result`);
- the `status` values of a mail (only `waiting` was ever seen): the state is read from which
  proof URLs are present (`letter_state`), not from `status`;
- the shape of GET /user/mail's result (a list, or a list under `mails`/`data`), and whether it
  pages (not handled: a sender with very many letters may need `start`/`max`);
- how a proof URL is downloaded: fetched as given (the URL carries its own token in AR24's test
  fixtures), on the same origin as the API only, and checked to be a PDF;
- whether `webhook` is per letter (sent per letter here when set).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import httpx
from pydantic import SecretStr

from o2c.models.settings_ar24 import Ar24Settings
from o2c.tasks.connectors.ar24_signing import (
    DecryptionError,
    decrypt_body,
    paris_date,
    signature,
)
from o2c.tasks.connectors.http import (
    AttemptParts,
    ClosingClient,
    ConnectorDataError,
    ConnectorError,
    HttpClient,
    Logger,
    RetryPolicy,
    origin,
)

SERVICE = "AR24"
SIGNATURE_HEADER = "signature"
PROOF_KINDS = ("ev", "ar", "rf", "ng", "bc")  # CONTRACTS.md 1.3 / 1.4 (older clients: dp too)
PROOF_DATES = {  # the date field beside each proof URL in the mail object (CONTRACTS.md 1.3)
    "ev": "ts_ev_date",
    "ar": "view_date",
    "rf": "refused_date",
    "ng": "negligence_date",
    "bc": "bounced_date",
}
DEST_STATUTS = frozenset({"particulier", "professionnel"})


class LetterState(StrEnum):
    """Where a letter stands, read from its proofs (AR24's `status` enum is unconfirmed)."""

    WAITING = "waiting"  # accepted by AR24, not yet sent to the recipient
    SENT = "sent"  # notified: the recipient has 15 days to accept or refuse
    ACCEPTED = "accepted"  # proof ar
    REFUSED = "refused"  # proof rf: still a notification in law (CONTRACTS.md 1.4)
    NEGLECTED = "neglected"  # proof ng: not claimed in 15 days, a notification as well
    BOUNCED = "bounced"  # proof bc: the address does not receive mail

    @property
    def final(self) -> bool:
        return self not in (LetterState.WAITING, LetterState.SENT)

    @property
    def notified(self) -> bool:
        """Whether the letter counts as served on the recipient (refusal and neglect do)."""
        return self in (LetterState.ACCEPTED, LetterState.REFUSED, LetterState.NEGLECTED)


class Ar24Error(ConnectorError):
    """AR24 refused the call: its slug (machine reason) and message (for a person). Not retried:
    the same request would be refused again."""

    def __init__(self, message: str, *, slug: str, provider_message: str, **kw: Any) -> None:
        super().__init__(message, service=SERVICE, **kw)
        self.slug = slug
        self.provider_message = provider_message

    def __reduce__(self) -> tuple[Any, ...]:
        # Every field survives pickling (Prefect may serialise a failed task's exception).
        fields = {
            "slug": self.slug,
            "provider_message": self.provider_message,
            "endpoint": self.endpoint,
            "status": self.status,
            "attempts": self.attempts,
            "request_id": self.request_id,
        }
        return _rebuild_ar24, (str(self), fields)


def _rebuild_ar24(message: str, fields: dict[str, Any]) -> Ar24Error:
    return Ar24Error(message, **fields)


class SendOutcomeUnknown(ConnectorError):
    """POST /mail failed in a way that may have sent the letter, and the lookup that would say
    so failed too. Nothing was resent: a person (or a later run's lookup) must decide."""


@dataclass(frozen=True)
class LetterRequest:
    """One registered letter. `ref_client` is our outbox key: how a retry finds it again."""

    ref_client: str
    to_email: str
    dest_statut: str  # professionnel | particulier (a consumer: consent is the caller's check)
    content: str = ""
    attachment_ids: tuple[str, ...] = ()
    to_firstname: str = ""
    to_lastname: str = ""
    to_company: str = ""
    ref_dossier: str = ""  # the case (customer id), shown in AR24's interface
    ref_facturation: str = ""
    eidas: bool = False  # a qualified LRE (needs the sender's identity verified by AR24)
    otp: SecretStr | None = None  # a one-time code, or
    auth_otp_hash: SecretStr | None = None  # the 1-hour hash from POST /user/auth_otp

    def form(self, id_user: str, webhook: str | None) -> dict[str, Any]:
        """The form fields of POST /mail (CONTRACTS.md 1.3)."""
        if self.dest_statut not in DEST_STATUTS:
            raise ValueError(f"letter {self.ref_client}: dest_statut must be one of {DEST_STATUTS}")
        if not self.ref_client:
            raise ValueError("a letter needs ref_client (the outbox key) to be sent exactly once")
        if not self.content and not self.attachment_ids:
            raise ValueError(f"letter {self.ref_client}: no content and no attachment")
        if self.eidas and not (self.otp or self.auth_otp_hash):
            raise ValueError(f"letter {self.ref_client}: an eIDAS LRE needs otp or auth_otp_hash")
        form: dict[str, Any] = {
            "id_user": id_user,
            "to_email": self.to_email,
            "dest_statut": self.dest_statut,
            "ref_client": self.ref_client,
        }
        optional = {
            "to_firstname": self.to_firstname,
            "to_lastname": self.to_lastname,
            "to_company": self.to_company,
            "ref_dossier": self.ref_dossier,
            "ref_facturation": self.ref_facturation,
            "content": self.content,
            "webhook": webhook or "",
        }
        form |= {name: value for name, value in optional.items() if value}
        if self.attachment_ids:
            form["attachment[]"] = list(self.attachment_ids)
        if self.eidas:
            form["eidas"] = "1"
            if self.auth_otp_hash:
                form["auth_otp_hash"] = self.auth_otp_hash.get_secret_value()
            elif self.otp:
                form["otp"] = self.otp.get_secret_value()
        return form


@dataclass(frozen=True)
class Letter:
    """A letter as AR24 describes it: its id, state, our keys, and its proofs' URLs and dates."""

    id: str
    status: str  # AR24's own word, kept as said
    state: LetterState
    ref_client: str
    ref_dossier: str
    to_email: str
    proof_urls: Mapping[str, str] = field(default_factory=dict)
    proof_dates: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Proof:
    kind: str  # ev | ar | rf | ng | bc
    letter_id: str
    content: bytes = field(repr=False)
    sha256: str


def letter_state(mail: Mapping[str, Any]) -> LetterState:
    """The state a mail object's proofs show, the final one winning over `sent`."""
    has = {kind for kind in PROOF_KINDS if mail.get(f"proof_{kind}_url")}
    for kind, state in (
        ("bc", LetterState.BOUNCED),
        ("rf", LetterState.REFUSED),
        ("ng", LetterState.NEGLECTED),
        ("ar", LetterState.ACCEPTED),
        ("ev", LetterState.SENT),
    ):
        if kind in has:
            return state
    return LetterState.WAITING


def parse_letter(mail: Any, endpoint: str) -> Letter:
    """A mail object to a Letter, or a ConnectorDataError naming what is missing."""
    if not isinstance(mail, Mapping) or not mail.get("id"):
        raise ConnectorDataError(
            f"{SERVICE} {endpoint}: the answer has no mail object with an id",
            service=SERVICE,
            endpoint=endpoint,
        )
    return Letter(
        id=str(mail["id"]),
        status=str(mail.get("status") or ""),
        state=letter_state(mail),
        ref_client=str(mail.get("ref_client") or ""),
        ref_dossier=str(mail.get("ref_dossier") or ""),
        to_email=str(mail.get("to_email") or ""),
        proof_urls={
            k: str(mail[f"proof_{k}_url"]) for k in PROOF_KINDS if mail.get(f"proof_{k}_url")
        },
        proof_dates={k: str(mail[d]) for k, d in PROOF_DATES.items() if mail.get(d)},
        raw=dict(mail),
    )


class Ar24Client(ClosingClient):
    """Upload attachments, send letters exactly once, read their state, download proofs."""

    def __init__(
        self,
        settings: Ar24Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rand: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
        logger: Logger | None = None,
    ) -> None:
        self.settings = settings
        self._token = settings.token.get_secret_value()
        self._key = settings.private_key.get_secret_value()
        self._now = now
        self._http = HttpClient(
            SERVICE,
            settings.base_url,
            timeout_s=settings.timeout_s,
            retry=RetryPolicy(
                max_retries=settings.max_retries, retry_after_max_s=settings.retry_after_max_s
            ),
            requests_per_second=settings.requests_per_second,
            headers={"Accept": "application/json", "Accept-Language": settings.language},
            secrets=[self._token, self._key],
            sleep=sleep,
            clock=clock,
            wall_clock=now,
            rand=rand,
            transport=transport,
            logger=logger,
        )

    def __repr__(self) -> str:
        return f"Ar24Client(base_url={self.settings.base_url!r}, id_user={self.settings.id_user!r})"

    def close(self) -> None:
        self._http.close()

    @property
    def requests_made(self) -> int:
        return self._http.requests_made

    # -- calls -------------------------------------------------------------------------------

    def upload(self, content: bytes, file_name: str) -> str:
        """An attachment (the letter's PDF), its AR24 file id back. A retry after a lost answer
        may leave an unused attachment at AR24: harmless, nothing is sent or billed."""
        result = self._call(
            "POST",
            "/attachment",
            data={"file_name": file_name, "id_user": self.settings.id_user},
            files={"file": (file_name, content, "application/pdf")},
        )
        file_id = result.get("file_id")
        if file_id in (None, ""):
            raise self._data_error("POST /attachment", "the answer has no result.file_id")
        return str(file_id)

    def letter(self, letter_id: str) -> Letter:
        """One letter's state and proofs (GET /mail?id=)."""
        return parse_letter(self._call("GET", "/mail", params={"id": letter_id}), "GET /mail")

    def letters(self) -> list[Letter]:
        """The sender's letters (GET /user/mail?id_user=). The result's shape is unconfirmed: a
        list, or a list under `mails` or `data`."""
        result: Any = self._call("GET", "/user/mail", params={"id_user": self.settings.id_user})
        if isinstance(result, Mapping):
            result = next(
                (result[k] for k in ("mails", "data", "mail") if isinstance(result.get(k), list)),
                None,
            )
        if not isinstance(result, list):
            raise self._data_error("GET /user/mail", "the result is not a list of mails")
        return [parse_letter(mail, "GET /user/mail") for mail in result]

    def find(self, ref_client: str) -> Letter | None:
        """The sender's letter carrying our key, if AR24 has one (what a retry relies on)."""
        found = [letter for letter in self.letters() if letter.ref_client == ref_client]
        return found[0] if found else None

    def send(self, request: LetterRequest, *, look_first: bool = True) -> Letter:
        """Send a letter exactly once: if AR24 already holds one with our key, that one.

        `look_first` looks before the first attempt too (a previous run may have sent it and
        died before recording); the lookups before retries are always made.
        """
        form = request.form(self.settings.id_user, self.settings.webhook_url)
        for secret in (request.otp, request.auth_otp_hash):
            if secret:
                self._http.add_secret(secret.get_secret_value())
        if look_first:
            existing = self.find(request.ref_client)
            if existing is not None:
                return existing
        found: list[Letter] = []

        def gate(failure: ConnectorError) -> bool:
            # Only a provable absence allows another POST /mail.
            try:
                letter = self.find(request.ref_client)
            except ConnectorError as exc:
                raise SendOutcomeUnknown(
                    f"{failure}; whether AR24 accepted letter {request.ref_client} is unknown"
                    f" (the lookup failed: {exc}); not resent",
                    service=SERVICE,
                    endpoint="POST /mail",
                    status=failure.status,
                    attempts=failure.attempts,
                    retryable=False,
                    request_id=failure.request_id,
                ) from None
            if letter is not None:
                found.append(letter)
                return False
            return True

        try:
            result = self._call("POST", "/mail", data=form, before_retry=gate)
            return parse_letter(result, "POST /mail")
        except ConnectorDataError:
            # An answer we cannot read may still be a letter sent: ask before saying it failed.
            letter = self.find(request.ref_client)
            if letter is not None:
                return letter
            raise
        except ConnectorError:
            if found:
                return found[0]
            raise

    def proof(self, letter: Letter, kind: str) -> Proof:
        """A proof PDF of a letter, with its SHA-256 (for the audit log and the evidence store)."""
        url = letter.proof_urls.get(kind)
        endpoint = f"GET proof {kind}"
        if not url:
            raise self._data_error(endpoint, f"letter {letter.id} has no {kind} proof yet")
        if origin(url) != self._http.origin:
            # Unconfirmed how proofs are served; never follow one to another host.
            raise self._data_error(endpoint, f"the {kind} proof of {letter.id} is on another host")
        content = self._http.request("GET", url).content
        if not content.startswith(b"%PDF-"):
            raise self._data_error(endpoint, f"the {kind} proof of {letter.id} is not a PDF")
        return Proof(kind, letter.id, content, hashlib.sha256(content).hexdigest())

    # -- the envelope ------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        before_retry: Callable[[ConnectorError], bool] | None = None,
    ) -> Any:
        """One signed call; the decrypted `result` of a success, or Ar24Error with its slug."""
        endpoint = f"{method} {path}"
        dates: list[str] = []

        def sign() -> AttemptParts:
            # A fresh date per attempt: AR24 refuses one older than now (CONTRACTS.md 1.2).
            date = paris_date(self._now())
            dates.append(date)
            auth = {"token": self._token, "date": date}
            return AttemptParts(
                params=auth if method == "GET" else None,
                data=None if method == "GET" else auth,
                headers={SIGNATURE_HEADER: signature(date, self._key)},
            )

        response = self._http.request(
            method,
            path,
            params=params,
            data=data,
            files=files,
            refresh=sign,
            check=lambda r: self._check(r, endpoint),
            before_retry=before_retry,
        )
        return self._success_result(response.content, dates[-1], endpoint)

    def _check(self, response: httpx.Response, endpoint: str) -> str | None:
        """Errors and maintenance come in clear, with any status (CONTRACTS.md 1.1)."""
        try:
            body = json.loads(response.content)
        except ValueError:
            return None  # ciphertext: a success
        if not isinstance(body, dict):
            return None
        status = str(body.get("status") or "")
        if status.lower() == "maintenance":
            return "AR24 is in maintenance"
        if status == "ERROR":
            slug = str(body.get("slug") or "unknown")
            message = str(body.get("message") or "")
            redact = self._http.redact
            raise Ar24Error(
                redact(f"{SERVICE} {endpoint} refused the call: {slug}: {message}; not retried"),
                slug=slug,
                provider_message=redact(message),
                endpoint=endpoint,
                status=response.status_code,
            )
        return None

    def _success_result(self, content: bytes, date: str, endpoint: str) -> Any:
        """The `result` of a success body: the whole body is ciphertext (the documentation's
        example); a clear envelope with an encrypted `result` string is accepted too
        (one third-party client reads it so). Neither was confirmed against the sandbox."""
        try:
            clear = json.loads(content)
        except ValueError:
            clear = None
        try:
            if isinstance(clear, dict) and clear.get("status") == "SUCCESS":
                result = clear.get("result")
                if not isinstance(result, str):
                    return result
                return json.loads(decrypt_body(result, date, self._key))
            envelope = json.loads(decrypt_body(content.strip(), date, self._key))
        except (DecryptionError, ValueError):
            raise self._data_error(endpoint, "the answer does not decrypt to JSON") from None
        if not isinstance(envelope, dict) or envelope.get("status") != "SUCCESS":
            raise self._data_error(endpoint, "the decrypted answer is not a SUCCESS envelope")
        return envelope.get("result")

    def _data_error(self, endpoint: str, text: str) -> ConnectorDataError:
        return ConnectorDataError(
            self._http.redact(f"{SERVICE} {endpoint}: {text}"), service=SERVICE, endpoint=endpoint
        )
