"""The ERE channel: formal notices out of the outbox as electronic registered letters (AR24).

The channel never touches the warehouse. What it needs beyond the envelope (the PDF kept by
tasks/ere/store.keep_letter, the recipient's address and status, consent) is an *order*: a small
JSON file beside the PDF (`<key>.order.json`), written atomically by the enqueue step
(tasks/ere/send.py) before the outbox row. Why a file rather than fields of the envelope: the
Envelope and RenderedMessage are shared contracts (models/dunning.py) and the outbox rebuilds
envelopes from its own columns; the order beside the PDF travels with the evidence and needs no
migration. The outbox key is AR24's `ref_client`, so `lookup(key)` can ask AR24 whether the letter
already exists: a resumed run records it instead of sending it twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from o2c.models.dunning import CustomerKind, OutboxStatus
from o2c.tasks.channels import Envelope, Found, SendResult
from o2c.tasks.connectors.ar24 import (
    Ar24Client,
    Ar24Error,
    Letter,
    LetterRequest,
    SendOutcomeUnknown,
)
from o2c.tasks.connectors.http import ConnectorError

NO_CONSENT = "no LRE consent: send by paper LRAR"
ORDER_SUFFIX = ".order.json"


class EreSettings(BaseSettings):
    """O2C_ERE_*: whether notices go as qualified LRE (eIDAS), and the 1-hour OTP hash for it."""

    model_config = SettingsConfigDict(env_prefix="O2C_ERE_", extra="ignore")

    eidas: bool = False  # a qualified LRE; simple ERE otherwise (enough between businesses)
    auth_otp_hash: SecretStr | None = None  # from POST /user/auth_otp; without it: simple ERE
    evidence_dir: Path | None = None  # where proofs are kept; default: ere-evidence beside the db


@dataclass(frozen=True)
class LetterOrder:
    """What the channel needs to send one kept letter, written beside its PDF."""

    key: str
    pdf_file: str  # name of the PDF in the letters folder
    pdf_sha256: str
    to_email: str
    customer_kind: str  # business | consumer
    lre_consent: bool
    to_company: str = ""
    ref_dossier: str = ""  # the customer id: AR24 shows it as the case
    eidas: bool = False  # the policy asks for a qualified LRE

    @property
    def dest_statut(self) -> str:
        return "particulier" if self.customer_kind == CustomerKind.CONSUMER else "professionnel"


def order_path(folder: Path, key: str) -> Path:
    return folder / f"{key}{ORDER_SUFFIX}"


def write_order(folder: Path, order: LetterOrder) -> Path:
    """The order as JSON, written whole or not at all (same bytes again: a no-op)."""
    from o2c.tasks.ere.store import write_atomically

    path = order_path(folder, order.key)
    data = json.dumps(asdict(order), ensure_ascii=False, sort_keys=True, indent=1).encode()
    if not path.exists() or path.read_bytes() != data:
        write_atomically(path, data)
    return path


def read_order(folder: Path, key: str) -> LetterOrder:
    path = order_path(folder, key)
    try:
        return LetterOrder(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ValueError(f"{path}: no order for letter {key} (was it kept by send.py?)") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not a letter order: {exc}") from None


@dataclass(frozen=True)
class Accepted:
    """A letter AR24 holds under our key: what store.mark_sent records."""

    key: str
    letter: Letter
    attachment_id: str | None


class EreSender:
    """`Sender` for Channel.ERE_LETTER on an Ar24Client (which this sender closes when done)."""

    name = "ere_letter"

    def __init__(
        self, client: Ar24Client, folder: Path, settings: EreSettings | None = None
    ) -> None:
        self.client = client
        self.folder = folder
        self.settings = settings or EreSettings()
        self.accepted: dict[str, Accepted] = {}  # what AR24 holds, by key, for mark_sent

    def _keep(self, key: str, letter: Letter, attachment_id: str | None = None) -> None:
        if attachment_id is None:
            ids = letter.raw.get("attachments") or []
            attachment_id = str(ids[0]) if ids else None
        self.accepted[key] = Accepted(key, letter, attachment_id)

    def lookup(self, key: str) -> tuple[Found, str | None]:
        """AR24 asked for a letter with ref_client = key; a failed lookup cannot tell."""
        try:
            letter = self.client.find(key)
        except ConnectorError:
            return Found.UNKNOWABLE, None
        if letter is None:
            return Found.NOT_SENT, None
        self._keep(key, letter)
        return Found.SENT, letter.id

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        return [self._send_one(e) for e in envelopes]

    def _request(self, order: LetterOrder, attachment_id: str) -> LetterRequest:
        hash_ = self.settings.auth_otp_hash
        eidas = (self.settings.eidas or order.eidas) and hash_ is not None
        return LetterRequest(
            ref_client=order.key,
            to_email=order.to_email,
            dest_statut=order.dest_statut,
            attachment_ids=(attachment_id,),
            to_company=order.to_company,
            ref_dossier=order.ref_dossier,
            eidas=eidas,
            auth_otp_hash=hash_ if eidas else None,
        )

    def _send_one(self, envelope: Envelope) -> SendResult:
        key = envelope.key
        try:
            order = read_order(self.folder, key)
            pdf = (self.folder / order.pdf_file).read_bytes()
        except (OSError, ValueError) as exc:
            return SendResult(key, OutboxStatus.FAILED, None, str(exc), 0)
        if not order.lre_consent:
            return SendResult(key, OutboxStatus.CANCELLED, None, NO_CONSENT, 0)
        if hashlib.sha256(pdf).hexdigest() != order.pdf_sha256:
            reason = f"{order.pdf_file}: the PDF no longer matches its SHA-256; not sent"
            return SendResult(key, OutboxStatus.BOUNCED, None, reason, 0)
        try:
            attachment_id = self.client.upload(pdf, order.pdf_file)
            letter = self.client.send(self._request(order, attachment_id), look_first=False)
        except Ar24Error as exc:  # refused: the same request would be refused again
            return SendResult(
                key, OutboxStatus.BOUNCED, None, f"{exc.slug}: {exc.provider_message}"
            )
        except SendOutcomeUnknown as exc:
            return SendResult(key, OutboxStatus.UNKNOWN, None, str(exc), exc.attempts or 1)
        except ConnectorError as exc:
            return self._after_failure(key, exc)
        self._keep(key, letter, attachment_id)
        return SendResult(key, OutboxStatus.SENT, letter.id, f"AR24 status {letter.status}")

    def _after_failure(self, key: str, exc: ConnectorError) -> SendResult:
        """The retries ran out: did the last attempt land? Only a proven absence is `failed`."""
        found, letter_id = self.lookup(key)
        if found is Found.SENT:
            return SendResult(key, OutboxStatus.SENT, letter_id, "found at AR24 after a failure")
        if found is Found.NOT_SENT:
            return SendResult(key, OutboxStatus.FAILED, None, str(exc), exc.attempts or 1)
        reason = f"{exc}; whether AR24 took it is unknown (the lookup failed); not resent"
        return SendResult(key, OutboxStatus.UNKNOWN, None, reason, exc.attempts or 1)
