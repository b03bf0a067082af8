"""The ERE channel alone against the AR24 twin: it reads its order beside the PDF, never sends a
PDF that changed or a letter without consent, and asks for a qualified LRE only when it can."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import SecretStr

from o2c.models.dunning import OutboxStatus, RenderedMessage
from o2c.tasks.channels import Envelope
from o2c.tasks.channels.ere import NO_CONSENT, EreSender, EreSettings, LetterOrder, write_order
from o2c.tasks.connectors.ar24 import Ar24Client
from o2c.twins.ar24 import Ar24Twin

PDF = b"%PDF-1.7\n% a formal notice\n%%EOF\n"


@pytest.fixture
def twin():
    with Ar24Twin(users={"1001": "relances@creditor.fr"}) as twin:
        yield twin


def sender(twin: Ar24Twin, folder: Path, **settings) -> EreSender:
    client = Ar24Client(
        twin.client_settings(timeout_s=1.0, requests_per_second=0), sleep=lambda s: None
    )
    return EreSender(client, folder, EreSettings(**settings))


def kept(folder: Path, key: str, pdf: bytes = PDF, **changes) -> Envelope:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{key}.pdf").write_bytes(pdf)
    order = dict(
        key=key,
        pdf_file=f"{key}.pdf",
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        to_email="compta@debtor.example",
        customer_kind="business",
        lre_consent=True,
        ref_dossier="C-1",
    )
    write_order(folder, LetterOrder(**(order | changes)))
    message = RenderedMessage(key, "fr", "s", "t", None, "x", "y")
    return Envelope(message, ("compta@debtor.example",))


def test_each_envelope_goes_with_its_own_pdf_or_says_why_not(twin: Ar24Twin, tmp_path: Path):
    ok = kept(tmp_path, "k-ok")
    consumer = kept(tmp_path, "k-consumer", customer_kind="consumer", lre_consent=False)
    changed = kept(tmp_path, "k-changed")
    (tmp_path / "k-changed.pdf").write_bytes(PDF + b"% edited")
    orphan = Envelope(RenderedMessage("k-orphan", "fr", "s", "t", None, "x", "y"), ("a@b.fr",))

    ere = sender(twin, tmp_path)
    results = {r.key: r for r in ere.send_batch([ok, consumer, changed, orphan])}

    assert results["k-ok"].status is OutboxStatus.SENT
    assert results["k-consumer"].status is OutboxStatus.CANCELLED
    assert results["k-consumer"].reply == NO_CONSENT
    assert results["k-changed"].status is OutboxStatus.BOUNCED
    assert "no longer matches" in results["k-changed"].reply
    assert results["k-orphan"].status is OutboxStatus.FAILED
    assert "k-orphan.order.json" in results["k-orphan"].reply
    [letter] = twin.letters.values()
    assert letter.fields["ref_client"] == "k-ok"
    assert twin.attachments[letter.attachments[0]][1] == PDF
    assert ere.accepted["k-ok"].attachment_id == letter.attachments[0]


def test_a_qualified_lre_only_with_an_otp_hash(twin: Ar24Twin, tmp_path: Path) -> None:
    sender(twin, tmp_path, eidas=True).send_batch([kept(tmp_path, "k-simple")])
    sender(twin, tmp_path, eidas=True, auth_otp_hash=SecretStr("otp-hash-1")).send_batch(
        [kept(tmp_path, "k-eidas")]
    )
    assert twin.letters_with("k-simple")[0].fields.get("eidas") is None
    assert twin.letters_with("k-eidas")[0].fields.get("eidas") == "1"
    assert "otp-hash-1" not in str(twin.letters_with("k-eidas")[0].fields)
