"""Settings of the Bridge payment-link client, read from O2C_PAYLINK_* variables.

Payment links use the Bridge application's own credentials (no bank user behind them), so they
are configured apart from the Open Banking pull; a company that uses both may give the same
client id and secret twice. Secrets are SecretStr: never in a repr, a log line or an artifact.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from o2c.models.settings_common import (
    HttpBaseUrl,
    secret_from_env_or_block,
    settings_problems,
)


class PaymentLinkSettings(BaseSettings):
    """How to reach Bridge's payment-link API, and what a link we create looks like."""

    model_config = SettingsConfigDict(
        env_prefix="O2C_PAYLINK_", extra="ignore", hide_input_in_errors=True
    )

    base_url: HttpBaseUrl = "https://api.bridgeapi.io"
    client_id: str
    client_secret: SecretStr  # from O2C_PAYLINK_CLIENT_SECRET, else its block (load_...)
    # Secrets Bridge signs webhooks with: the current one, and the previous one for the 24 h
    # after a rotation (both are accepted).
    webhook_secrets: list[SecretStr] = Field(default_factory=list)
    bridge_version: str = "2025-01-15"
    # Bridge's default link life is 15 minutes; a reminder's link must live as long as the
    # reminder is read: 30 days by default, at most 90 (Bridge's limit).
    validity_days: int = Field(default=30, ge=1, le=90)
    callback_url: str | None = None  # where the payer's browser returns (domain whitelisted)
    timeout_s: float = Field(default=15.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    requests_per_second: float = Field(default=5.0, ge=0)


class PaymentLinkSettingsError(ValueError):
    """A missing or invalid O2C_PAYLINK_* setting, named without its value."""


def payment_link_settings(**values: object) -> PaymentLinkSettings:
    """The settings from the environment (and `values`), or an error naming what is wrong."""
    try:
        return PaymentLinkSettings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = settings_problems(exc, "O2C_PAYLINK_")
        raise PaymentLinkSettingsError("payment-link settings: " + problems) from None


SECRET_BLOCK = "o2c-paylink-client-secret"  # where `o2c blocks register` saves the secret


def load_payment_link_settings(
    secret_from_block: Callable[[str], str | None],
) -> PaymentLinkSettings:
    """The settings, the client secret from the environment, else from its Prefect Secret block
    (O2C_PAYLINK_SECRET_BLOCK names it; default `o2c-paylink-client-secret`)."""
    secret = secret_from_env_or_block(
        "O2C_PAYLINK_CLIENT_SECRET",
        "O2C_PAYLINK_SECRET_BLOCK",
        SECRET_BLOCK,
        secret_from_block,
        lambda where: PaymentLinkSettingsError(f"no payment-link client secret: {where}"),
    )
    return payment_link_settings(client_secret=secret) if secret else payment_link_settings()
