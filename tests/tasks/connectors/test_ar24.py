"""The AR24 client against the local AR24 twin: a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import logging
import pickle
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from o2c.models.settings_ar24 import Ar24Settings, Ar24SettingsError, load_ar24_settings
from o2c.tasks.connectors.ar24 import (
    Ar24Client,
    Ar24Error,
    LetterRequest,
    LetterState,
    SendOutcomeUnknown,
)
from o2c.tasks.connectors.http import ConnectorError
from o2c.twins.ar24 import Ar24Twin, Behaviour, Fault

TOKEN = "tok_5f1c9a7e3b2d4e6f8a0b"
KEY = "pk_Zq8rT2wX4yV6uN0mK3jH"
PDF = b"%PDF-1.4\n% a formal notice\n"


@pytest.fixture
def twin():
    with Ar24Twin(token=TOKEN, private_key=KEY, users={"1001": "relances@creditor.fr"}) as twin:
        yield twin


def settings(twin: Ar24Twin, **changes) -> Ar24Settings:
    return twin.client_settings(**({"timeout_s": 2.0, "requests_per_second": 0} | changes))


def client(twin: Ar24Twin, sleeps: list | None = None, **changes) -> Ar24Client:
    return Ar24Client(
        settings(twin, **changes),
        sleep=(sleeps if sleeps is not None else []).append,
        rand=lambda: 0.0,
    )


def notice(ref: str = "out-7c1e", to: str = "compta@debtor.fr", **changes) -> LetterRequest:
    values = dict(
        ref_client=ref,
        to_email=to,
        to_company="Debtor SAS",
        dest_statut="professionnel",
        ref_dossier="C0042",
        content="Mise en demeure de payer",
    )
    return LetterRequest(**(values | changes))


def posts(twin: Ar24Twin) -> int:
    return twin.requests.count(("POST", "/api/mail"))


@pytest.mark.parametrize(
    ("behaviour", "days", "state", "proof"),
    [
        (Behaviour("accept", after_days=2), 3, LetterState.ACCEPTED, "ar"),
        (Behaviour("refuse", after_days=5), 6, LetterState.REFUSED, "rf"),
        (Behaviour("neglect"), 16, LetterState.NEGLECTED, "ng"),
    ],
)
def test_a_letter_goes_out_and_ends_with_its_proof(twin, behaviour, days, state, proof):
    twin.recipient("compta@debtor.fr", behaviour)
    with client(twin) as ar24:
        file_id = ar24.upload(PDF, "mise-en-demeure.pdf")
        sent = ar24.send(notice(attachment_ids=(file_id,)))
        assert sent.state is LetterState.SENT and sent.ref_client == "out-7c1e"
        assert twin.attachments[file_id][1] == PDF
        assert twin.letters[sent.id].attachments == [file_id]
        deposit = ar24.proof(sent, "ev")
        twin.advance(1)
        assert ar24.letter(sent.id).state is LetterState.SENT
        twin.advance(days - 1)
        final = ar24.letter(sent.id)
        got = ar24.proof(final, proof)
    assert final.state is state and final.state.final and final.state.notified
    assert proof in final.proof_dates
    assert (
        got.content.startswith(b"%PDF-") and got.sha256 == hashlib.sha256(got.content).hexdigest()
    )
    assert deposit.sha256 != got.sha256


def test_a_neglected_letter_is_still_pending_on_its_fifteenth_day(twin):
    # 15 days from the day after notification: on day 15 the recipient may still accept.
    twin.recipient("compta@debtor.fr", Behaviour("neglect"))
    with client(twin) as ar24:
        sent = ar24.send(notice())
        twin.advance(15)
        assert ar24.letter(sent.id).state is LetterState.SENT
        twin.advance(1)
        assert ar24.letter(sent.id).state is LetterState.NEGLECTED


def test_a_bounced_letter_is_final_but_not_a_notification(twin):
    twin.recipient("gone@debtor.fr", Behaviour("bounce"))
    with client(twin) as ar24:
        sent = ar24.send(notice(to="gone@debtor.fr"))
        twin.advance(0.01)
        letter = ar24.letter(sent.id)
    assert letter.state is LetterState.BOUNCED
    assert letter.state.final and not letter.state.notified


def test_a_proof_not_issued_yet_is_a_clear_error(twin):
    with client(twin) as ar24:
        sent = ar24.send(notice())
        with pytest.raises(ConnectorError, match="has no ar proof yet"):
            ar24.proof(sent, "ar")


def test_a_wrong_private_key_is_refused_by_slug_and_not_retried(twin):
    sleeps: list[float] = []
    wrong_key = client(twin, sleeps, private_key=SecretStr("pk_not_the_right_one"))
    with wrong_key as ar24, pytest.raises(Ar24Error) as error:
        ar24.upload(PDF, "x.pdf")
    assert error.value.slug == "signature_invalid"
    assert "signature does not match" in str(error.value) and "not retried" in str(error.value)
    assert len(twin.requests) == 1 and sleeps == []
    assert not error.value.retryable
    again = pickle.loads(pickle.dumps(error.value))
    assert (again.slug, again.attempts, again.endpoint) == (
        "signature_invalid",
        1,
        "POST /attachment",
    )


def test_a_wrong_token_is_refused_by_slug(twin):
    with (
        client(twin, token=SecretStr("tok_revoked_0000")) as ar24,
        pytest.raises(Ar24Error) as error,
    ):
        ar24.letters()
    assert error.value.slug == "token_invalid" and len(twin.requests) == 1
    assert "tok_revoked_0000" not in str(error.value)


@pytest.mark.parametrize(
    ("shift", "slug"),
    [(-timedelta(minutes=15), "expired_date"), (timedelta(minutes=11), "date_in_future")],
)
def test_a_date_out_of_the_window_is_refused(twin, shift, slug):
    ar24 = Ar24Client(settings(twin), now=lambda: datetime.now(UTC) + shift, sleep=lambda s: None)
    with ar24, pytest.raises(Ar24Error) as error:
        ar24.letters()
    assert error.value.slug == slug


def test_5xx_then_success_is_retried_with_backoff(twin):
    sleeps: list[float] = []
    twin.inject(Fault(status=502, path="/api/user/mail"), Fault(status=503, path="/api/user/mail"))
    with client(twin, sleeps) as ar24:
        assert ar24.letters() == []
    assert twin.requests.count(("GET", "/api/user/mail")) == 3
    assert sleeps == [0.5, 1.0]


def test_429_waits_as_long_as_retry_after_says(twin):
    sleeps: list[float] = []
    twin.inject(Fault(status=429, path="/api/attachment", retry_after="7"))
    with client(twin, sleeps) as ar24:
        assert ar24.upload(PDF, "a.pdf")
    assert sleeps == [7.0]


def test_a_timeout_and_a_maintenance_notice_are_retried(twin):
    sleeps: list[float] = []
    twin.inject(Fault("timeout", path="/api/user/mail", seconds=1.0), Fault("maintenance"))
    with client(twin, sleeps, timeout_s=0.3) as ar24:
        assert ar24.letters() == []
    assert len(sleeps) == 2


def test_5xx_until_the_end_fails_saying_it_may_work_later(twin):
    twin.inject(*[Fault(status=500, path="/api/mail", method="GET")] * 4)
    with client(twin, max_retries=3) as ar24, pytest.raises(ConnectorError) as error:
        ar24.letter("1")
    assert error.value.retryable and error.value.attempts == 4
    assert "gave up after 4 attempts" in str(error.value)


def test_a_refused_letter_is_not_retried_and_shows_the_providers_message(twin):
    sleeps: list[float] = []
    with client(twin, sleeps) as ar24, pytest.raises(Ar24Error) as error:
        ar24.send(notice(to="relances@creditor.fr"))
    assert error.value.slug == "same_sender_recipients_emails"
    assert "Sender and recipient are the same" in str(error.value)
    assert posts(twin) == 1 and sleeps == [] and twin.letters == {}


@pytest.mark.parametrize("kind", ["lost", "late"])
def test_an_answer_lost_after_acceptance_leaves_exactly_one_letter(twin, kind):
    twin.inject(Fault(kind, path="/api/mail", method="POST", seconds=1.0))
    with client(twin, timeout_s=0.3) as ar24:
        letter = ar24.send(notice(ref="out-lost"))
    assert [x.id for x in twin.letters_with("out-lost")] == [letter.id]
    assert posts(twin) == 1


def test_an_unreadable_answer_after_acceptance_is_resolved_by_the_lookup(twin):
    twin.inject(Fault("garbled", path="/api/mail", method="POST"))
    with client(twin) as ar24:
        letter = ar24.send(notice(ref="out-garbled"))
        twin.inject(Fault("garbled", path="/api/mail", method="GET"))
        with pytest.raises(ConnectorError, match="does not decrypt"):
            ar24.letter(letter.id)
    assert [x.id for x in twin.letters_with("out-garbled")] == [letter.id]
    assert posts(twin) == 1


def test_a_5xx_before_acceptance_is_sent_again_once_none_is_found(twin):
    twin.inject(Fault(status=503, path="/api/mail", method="POST"))
    with client(twin) as ar24:
        letter = ar24.send(notice(ref="out-503"))
    assert [x.id for x in twin.letters_with("out-503")] == [letter.id]
    assert posts(twin) == 2


def test_when_the_lookup_fails_too_nothing_is_resent(twin):
    twin.inject(
        Fault("lost", path="/api/mail", method="POST"),
        *[Fault(status=503, path="/api/user/mail")] * 2,
    )
    with client(twin, max_retries=1) as ar24, pytest.raises(SendOutcomeUnknown) as error:
        ar24.send(notice(ref="out-unknown"), look_first=False)
    assert "unknown" in str(error.value) and "not resent" in str(error.value)
    assert not error.value.retryable
    assert posts(twin) == 1 and len(twin.letters_with("out-unknown")) == 1


def test_a_letter_an_earlier_run_sent_is_not_sent_again(twin):
    with client(twin) as ar24:
        first = ar24.send(notice(ref="out-again"))
        again = ar24.send(notice(ref="out-again"))
    assert again.id == first.id and posts(twin) == 1


def test_secrets_never_reach_logs_errors_or_reprs(twin, caplog):
    otp = "otp-884213-secret"
    caplog.set_level(logging.DEBUG)
    with client(twin) as ar24:
        ar24.send(notice(ref="out-s", eidas=True, otp=SecretStr(otp)))
        twin.inject(Fault(status=503, path="/api/user/mail"))
        ar24.letters()
        errors = []
        for bad in (dict(token=SecretStr(TOKEN + "x")), dict(private_key=SecretStr(KEY + "x"))):
            with client(twin, **bad) as wrong, pytest.raises(Ar24Error) as error:
                wrong.letters()
            errors.append(error.value)
        texts = [caplog.text, repr(ar24), repr(ar24.settings), str(ar24.settings)]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [str(pickle.loads(pickle.dumps(e))) for e in errors]
    assert "GET /api/user/mail" in caplog.text  # the calls were logged, their secrets not
    for text in texts:
        for secret in (TOKEN, KEY, otp):
            assert secret not in text


def test_an_eidas_letter_needs_a_code_and_a_letter_needs_a_body():
    with pytest.raises(ValueError, match="otp"):
        notice(eidas=True).form("1001", None)
    with pytest.raises(ValueError, match="no content and no attachment"):
        notice(content="").form("1001", None)
    with pytest.raises(ValueError, match="dest_statut"):
        notice(dest_statut="company").form("1001", None)


def test_settings_name_what_is_missing_without_quoting_secrets(monkeypatch):
    monkeypatch.setenv("O2C_AR24_TOKEN", TOKEN)
    monkeypatch.setenv("O2C_AR24_PRIVATE_KEY", KEY)
    monkeypatch.delenv("O2C_AR24_ID_USER", raising=False)
    with pytest.raises(Ar24SettingsError) as error:
        load_ar24_settings(lambda name: None)
    assert "O2C_AR24_ID_USER: missing" in str(error.value)
    assert TOKEN not in str(error.value) and KEY not in str(error.value)


def test_settings_take_token_and_key_from_secret_blocks(monkeypatch):
    monkeypatch.delenv("O2C_AR24_TOKEN", raising=False)
    monkeypatch.delenv("O2C_AR24_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("O2C_AR24_ID_USER", "1001")
    blocks = {"o2c-ar24-token": TOKEN, "o2c-ar24-private-key": KEY}
    loaded = load_ar24_settings(blocks.get)
    assert loaded.token.get_secret_value() == TOKEN and loaded.base_url.startswith(
        "https://sandbox"
    )
    with pytest.raises(Ar24SettingsError, match="o2c-ar24-private-key"):
        load_ar24_settings({"o2c-ar24-token": TOKEN}.get)
