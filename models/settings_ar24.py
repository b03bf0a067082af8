"""Settings of the AR24 client (electronic registered letters), read from O2C_AR24_* variables.

The API token and the private key are SecretStr: never in a repr, a log line or an artifact. They
come from O2C_AR24_TOKEN / O2C_AR24_PRIVATE_KEY or, on a deployment, from two Prefect Secret
blocks (names in O2C_AR24_TOKEN_BLOCK / O2C_AR24_KEY_BLOCK), so they can live in the Prefect
server rather than in the worker's environment. Hosts and the 60 s timeout: CONTRACTS.md 1.1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from o2c.models.settings_common import (
    HttpBaseUrl,
    secret_from_env_or_block,
    settings_problems,
)

SANDBOX_URL = "https://sandbox.ar24.fr/api"
PRODUCTION_URL = "https://app.ar24.fr/api"
TOKEN_BLOCK = "o2c-ar24-token"
KEY_BLOCK = "o2c-ar24-private-key"


class Ar24Settings(BaseSettings):
    """How to reach AR24, as whom, and how politely."""

    model_config = SettingsConfigDict(
        env_prefix="O2C_AR24_", extra="ignore", hide_input_in_errors=True
    )

    # The sandbox by default: a letter sent to production costs money and has legal effect.
    base_url: HttpBaseUrl = SANDBOX_URL
    token: SecretStr
    private_key: SecretStr
    id_user: str  # the sender's AR24 user id: every letter goes out in its name
    # AR24 asks clients to align their timeout with its own, 60 s (CONTRACTS.md 1.1).
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    requests_per_second: float = Field(default=2.0, ge=0)  # AR24 publishes no limit (section 7)
    retry_after_max_s: float = Field(default=120.0, ge=0)
    webhook_url: str | None = None  # passed per letter as `webhook` (per-request: unconfirmed)
    language: str = "en"  # Accept-Language: AR24 answers messages in en or nl (CONTRACTS.md 1.1)


class Ar24SettingsError(ValueError):
    """A missing or invalid O2C_AR24_* setting, named without its value (it may be a secret)."""


def ar24_settings(**values: Any) -> Ar24Settings:
    """The settings from the environment (and `values`), or an error naming what is wrong."""
    try:
        return Ar24Settings(**values)
    except ValidationError as exc:
        problems = settings_problems(exc, "O2C_AR24_")
        raise Ar24SettingsError("AR24 settings: " + problems) from None


def load_ar24_settings(secret_from_block: Callable[[str], str | None]) -> Ar24Settings:
    """The settings, token and key from the environment, else from their Prefect Secret blocks."""
    values: dict[str, Any] = {}
    for field, env, block_env, default in (
        ("token", "O2C_AR24_TOKEN", "O2C_AR24_TOKEN_BLOCK", TOKEN_BLOCK),
        ("private_key", "O2C_AR24_PRIVATE_KEY", "O2C_AR24_KEY_BLOCK", KEY_BLOCK),
    ):
        secret = secret_from_env_or_block(
            env,
            block_env,
            default,
            secret_from_block,
            lambda where, field=field: Ar24SettingsError(f"AR24 settings: no {field}: {where}"),
        )
        if secret:
            values[field] = secret
    return ar24_settings(**values)
