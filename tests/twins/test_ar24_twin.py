"""The local AR24 twin speaks AR24's contract to any client: checked here with plain httpx."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from o2c.tasks.connectors.ar24_signing import decrypt_body, paris_date, signature
from o2c.twins.ar24 import Ar24Twin, Behaviour, Fault

TOKEN, KEY = "twin-test-token", "twin-test-key"


@pytest.fixture
def twin():
    with Ar24Twin(token=TOKEN, private_key=KEY, users={"7": "me@creditor.fr"}) as twin:
        yield twin


def signed(date: str | None = None, key: str = KEY) -> tuple[dict[str, str], dict[str, str]]:
    date = date or paris_date(datetime.now(UTC))
    return {"token": TOKEN, "date": date}, {"signature": signature(date, key)}


def post_mail(twin: Ar24Twin, **fields: str) -> httpx.Response:
    auth, headers = signed()
    form = {"id_user": "7", "to_email": "debtor@example.org", "dest_statut": "professionnel"}
    return httpx.post(f"{twin.api_url}/mail", data=auth | form | fields, headers=headers)


def result(response: httpx.Response, date: str | None = None) -> object:
    """The decrypted result, with the date the request carried (in its query or its form)."""
    request = response.request
    date = date or request.url.params.get("date")
    date = date or httpx.QueryParams(request.content.decode()).get("date")
    envelope = json.loads(decrypt_body(response.content, date, KEY))
    assert envelope["status"] == "SUCCESS"
    return envelope["result"]


@pytest.mark.parametrize(
    ("auth", "slug"),
    [
        ({}, "token_missing"),
        ({"token": "nope"}, "token_invalid"),
        ({"token": TOKEN}, "empty_date"),
        ({"token": TOKEN, "date": "04/12/2026 10:00"}, "invalid_date"),
    ],
)
def test_calls_without_valid_credentials_are_refused_in_clear_with_200(twin, auth, slug):
    response = httpx.get(f"{twin.api_url}/user/mail", params={"id_user": "7", **auth})
    assert response.status_code == 200 and response.json()["slug"] == slug
    assert response.json()["status"] == "ERROR" and response.json()["message"]


def test_a_signature_made_with_another_key_or_for_another_date_is_refused(twin):
    for auth, headers in (
        signed(key="another-key"),
        ({"token": TOKEN, "date": paris_date(datetime.now(UTC))}, signed("2026-01-01 00:00:00")[1]),
        (signed()[0], {}),
    ):
        response = httpx.get(
            f"{twin.api_url}/user/mail", params={"id_user": "7", **auth}, headers=headers
        )
        assert response.json()["slug"] == "signature_invalid"


def test_a_date_outside_the_window_is_refused(twin):
    now = datetime.now(UTC)
    for moment, slug in (
        (now - timedelta(minutes=5), "expired_date"),
        (now + timedelta(minutes=12), "date_in_future"),
    ):
        auth, headers = signed(paris_date(moment))
        response = httpx.get(
            f"{twin.api_url}/user/mail", params={"id_user": "7", **auth}, headers=headers
        )
        assert response.json()["slug"] == slug


def test_a_success_is_ciphertext_that_only_the_requests_date_opens(twin):
    response = post_mail(twin, content="Mise en demeure", ref_client="k-1")
    with pytest.raises(ValueError):
        response.json()
    letter = result(response)
    assert letter["ref_client"] == "k-1" and letter["status"] == "sent"
    with pytest.raises(ValueError):
        decrypt_body(response.content, "2020-01-01 00:00:00", KEY)


@pytest.mark.parametrize(
    ("fields", "slug"),
    [
        ({"to_email": "not-an-address", "content": "x"}, "invalid_email"),
        ({"to_email": "ME@creditor.fr", "content": "x"}, "same_sender_recipients_emails"),
        ({}, "error_no_content_no_attachment"),
        ({"attachment[]": "999"}, "attachment_not_found"),
        ({"content": "x", "eidas": "1"}, "authentication_missing"),
        ({"content": "x", "dest_statut": "entreprise"}, "invalid_dest_statut"),
    ],
)
def test_what_ar24_refuses_is_refused_and_nothing_is_kept(twin, fields, slug):
    assert post_mail(twin, **fields).json()["slug"] == slug
    assert twin.letters == {}


def test_an_upload_is_kept_and_a_letter_can_carry_it(twin):
    auth, headers = signed()
    response = httpx.post(
        f"{twin.api_url}/attachment",
        data=auth | {"id_user": "7", "file_name": "notice.pdf"},
        files={"file": ("notice.pdf", b"%PDF-1.4 x", "application/pdf")},
        headers=headers,
    )
    file_id = result(response, auth["date"])["file_id"]
    assert twin.attachments[file_id] == ("notice.pdf", b"%PDF-1.4 x", "7")
    letter = result(post_mail(twin, **{"attachment[]": file_id}))
    assert letter["attachments"] == [file_id]


def test_a_late_answer_past_fifteen_days_is_a_neglect(twin):
    twin.recipient("debtor@example.org", Behaviour("accept", after_days=20))
    letter_id = result(post_mail(twin, content="x"))["id"]
    twin.advance(30)
    assert set(twin.events(twin.letters[letter_id])) == {"ev", "ng"}


def test_proofs_are_real_pdfs_served_only_with_their_token(twin):
    twin.recipient("debtor@example.org", Behaviour("refuse", after_days=2))
    letter_id = result(post_mail(twin, content="x", ref_client="Dupont (SARL) \\ k"))["id"]
    twin.advance(3)
    auth, headers = signed()
    view = result(
        httpx.get(f"{twin.api_url}/mail", params={"id": letter_id, **auth}, headers=headers)
    )
    url = view["proof_rf_url"]
    assert view["status"] == "refused" and view["refused_date"]
    pdf = httpx.get(url).content
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref:].startswith(b"xref")
    assert b"Dupont \\(SARL\\) \\\\ k" in pdf  # customer text stays text
    assert httpx.get(url.split("?")[0] + "?token=guess").status_code == 404
    assert httpx.get(url.replace("rf-", "ar-")).status_code == 404


def test_faults_hit_the_matching_requests_in_order(twin):
    twin.inject(Fault(status=503, path="/api/mail"), Fault("maintenance"))
    auth, headers = signed()
    first = httpx.get(f"{twin.api_url}/user/mail", params={"id_user": "7", **auth}, headers=headers)
    assert first.json() == {"status": "maintenance"}
    assert post_mail(twin, content="x").status_code == 503 and twin.letters == {}
    twin.inject(Fault(status=429, retry_after="3"))
    limited = post_mail(twin, content="x")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"


def test_a_lost_answer_keeps_the_letter(twin):
    twin.inject(Fault("lost", path="/api/mail"))
    with pytest.raises(httpx.RemoteProtocolError):
        post_mail(twin, content="x", ref_client="k-lost")
    assert len(twin.letters_with("k-lost")) == 1
