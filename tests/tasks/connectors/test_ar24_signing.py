"""AR24's signing rule: the documentation's example, and the rule's round trips."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from o2c.tasks.connectors.ar24_signing import (
    DecryptionError,
    decrypt_body,
    decrypt_signature,
    encrypt_body,
    paris_date,
    parse_paris_date,
    signature,
)

# The documentation's example, as a third-party client's test quotes it (CONTRACTS.md 1.2).
KEY = "7X9gx9E3Qx4EiUdB63nc"
DATE = "2021-05-26 14:00:00"
CIPHERTEXT = "WwBOU6s8DaMWmYdctBJwfuoujFgVygBUjhsbdf8eWqQ="


def test_the_documented_response_decrypts_with_the_date_and_key():
    assert decrypt_body(CIPHERTEXT, DATE, KEY) == '{status: "SUCCESS"}'


def test_the_signature_of_the_documented_date():
    # Computed with the rule, not published by AR24: it pins the rule against regressions.
    assert signature(DATE, KEY) == "bDop0cbjKpkySlpvnNGvBMg7PuYFFgPPqTTS2RAHoY0="
    assert decrypt_signature(signature(DATE, KEY), KEY) == DATE


def test_a_body_encrypted_for_another_date_or_key_does_not_decrypt():
    body = encrypt_body('{"status":"SUCCESS","result":{"file_id":"7"}}', DATE, KEY)
    assert decrypt_body(body, DATE, KEY).endswith('"7"}}')
    with pytest.raises(DecryptionError) as error:
        decrypt_body(body, "2021-05-26 14:00:01", KEY)
    assert KEY not in str(error.value)
    with pytest.raises(DecryptionError):
        decrypt_body("not base64!", DATE, KEY)


@pytest.mark.parametrize(
    ("utc", "paris"),
    [
        (datetime(2026, 12, 4, 9, 5, 7, 900000, tzinfo=UTC), "2026-12-04 10:05:07"),  # CET
        (datetime(2026, 7, 1, 22, 30, tzinfo=UTC), "2026-07-02 00:30:00"),  # CEST, next day
    ],
)
def test_the_date_is_paris_wall_clock_time_to_the_second(utc, paris):
    assert paris_date(utc) == paris
    assert parse_paris_date(paris) == utc.replace(microsecond=0)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="aware"):
        paris_date(datetime(2026, 12, 4, 9, 0))
