"""AR24's request signature and response encryption (CONTRACTS.md 1.2).

The rule comes from two independent third-party PHP clients and one documentation example (the
test vector in tests/tasks/connectors/test_ar24_signing.py); it was NEVER confirmed against AR24's
sandbox. PHP's openssl_encrypt truncates a 64-character hex key to its first 32 bytes: the keys
here are those 32 ASCII characters, not the raw digest.
- `date`: Europe/Paris local time, `YYYY-MM-DD HH:mm:ss`, sent with the token on every call.
- header `signature` = base64(AES-256-CBC(date)), key = hex(sha256(privateKey))[:32].
- a success body = base64(AES-256-CBC(JSON)), key = hex(sha256(date + privateKey))[:32].
- the IV of both = hex(sha256(hex(sha256(privateKey))))[:16]; PKCS#7 padding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PARIS = ZoneInfo("Europe/Paris")
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class DecryptionError(ValueError):
    """A body that does not decrypt with our key and date (says nothing of either)."""


def _hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _iv(private_key: str) -> bytes:
    return _hex(_hex(private_key))[:16].encode()


def _encrypt(plaintext: str, key: bytes, iv: bytes) -> str:
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def _decrypt(ciphertext: str | bytes, key: bytes, iv: bytes) -> str:
    try:
        raw = base64.b64decode(ciphertext, validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        data = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(data) + unpadder.finalize()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise DecryptionError("the body does not decrypt with this key and date") from None


def paris_date(now: datetime | None = None) -> str:
    """The `date` parameter: Paris wall-clock time to the second (a fresh one per attempt)."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("paris_date needs an aware datetime")
    return moment.astimezone(PARIS).strftime(DATE_FORMAT)


def parse_paris_date(value: str) -> datetime:
    """A `date` parameter back to an aware datetime (ValueError if not YYYY-MM-DD HH:mm:ss)."""
    return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=PARIS)


def signature(date: str, private_key: str) -> str:
    """The `signature` header for a request carrying `date`."""
    return _encrypt(date, _hex(private_key)[:32].encode(), _iv(private_key))


def encrypt_body(plaintext: str, date: str, private_key: str) -> str:
    """A success body as AR24 sends it (the twin's side)."""
    return _encrypt(plaintext, _hex(date + private_key)[:32].encode(), _iv(private_key))


def decrypt_body(ciphertext: str | bytes, date: str, private_key: str) -> str:
    """A success body in clear, given the date our request carried."""
    return _decrypt(ciphertext, _hex(date + private_key)[:32].encode(), _iv(private_key))


def decrypt_signature(value: str, private_key: str) -> str:
    """The date a `signature` header encrypts (the twin checks it equals the `date` sent)."""
    return _decrypt(value, _hex(private_key)[:32].encode(), _iv(private_key))
