"""Settings of the Bridge (Open Banking aggregation) client, read from O2C_BRIDGE_* variables.

The client secret is a SecretStr so that it never shows in a repr, a log line or an artifact. It
comes from O2C_BRIDGE_CLIENT_SECRET or, on a deployment, from a Prefect Secret block (named by
O2C_BRIDGE_SECRET_BLOCK, `o2c-bridge-client-secret` by default), so that it can live in the
Prefect server rather than in the worker's environment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from o2c.models.settings_common import (
    HttpBaseUrl,
    secret_from_env_or_block,
    settings_problems,
)


class BridgeSettings(BaseSettings):
    """How to reach Bridge API v3 and how politely to talk to it."""

    # hide_input_in_errors: a validation error must never quote an input (the secret included).
    model_config = SettingsConfigDict(
        env_prefix="O2C_BRIDGE_", extra="ignore", hide_input_in_errors=True
    )

    base_url: HttpBaseUrl = "https://api.bridgeapi.io"
    client_id: str
    client_secret: SecretStr
    # The Bridge user whose bank connections are read: its uuid, or the id we gave it at creation.
    user_uuid: str | None = None
    external_user_id: str | None = None
    bridge_version: str = "2025-01-15"
    timeout_s: float = Field(default=15.0, gt=0)
    max_retries: int = Field(default=4, ge=0)  # retries after the first attempt
    requests_per_second: float = Field(default=5.0, ge=0)  # 0 disables the client-side limit
    backoff_base_s: float = Field(default=0.5, ge=0)  # first retry delay, doubled each time
    backoff_max_s: float = Field(default=30.0, ge=0)  # cap on one backoff wait
    backoff_jitter: float = Field(default=0.1, ge=0, le=1)  # random share added to a wait
    # A Retry-After is honoured up to this; a longer one ends the run with a clear error.
    retry_after_max_s: float = Field(default=120.0, ge=0)
    page_limit: int = Field(default=500, ge=1, le=500)  # Bridge serves at most 500 per page
    # History fetched for an account seen for the first time (no cursor yet).
    initial_history_days: int = Field(default=90, ge=1)
    # The fetch task's own retries (a run-level second chance, retryable errors only).
    run_retries: int = Field(default=2, ge=0)
    run_retry_delay_s: float = Field(default=60.0, ge=0)

    @model_validator(mode="after")
    def _one_user(self) -> BridgeSettings:
        if bool(self.user_uuid) == bool(self.external_user_id):
            raise ValueError(
                "set exactly one of O2C_BRIDGE_USER_UUID or O2C_BRIDGE_EXTERNAL_USER_ID"
            )
        return self


SECRET_BLOCK = "o2c-bridge-client-secret"


class BridgeSecretMissing(ValueError):
    """Neither the variable nor the Secret block holds the client secret."""


class BridgeSettingsError(ValueError):
    """A missing or invalid O2C_BRIDGE_* setting, named without its value (it may be a secret)."""


def bridge_settings(**values: Any) -> BridgeSettings:
    """BridgeSettings from the environment (and `values`), a clean error naming what is wrong."""
    try:
        return BridgeSettings(**values)
    except ValidationError as exc:
        problems = settings_problems(exc, "O2C_BRIDGE_")
        raise BridgeSettingsError("Bridge settings: " + problems) from None


def load_bridge_settings(secret_from_block: Callable[[str], str | None]) -> BridgeSettings:
    """The settings, with the client secret from the environment, else from the Secret block."""
    secret = secret_from_env_or_block(
        "O2C_BRIDGE_CLIENT_SECRET",
        "O2C_BRIDGE_SECRET_BLOCK",
        SECRET_BLOCK,
        secret_from_block,
        lambda where: BridgeSecretMissing(f"no Bridge client secret: {where}"),
    )
    return bridge_settings(client_secret=secret) if secret else bridge_settings()
