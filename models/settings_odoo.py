"""Settings of the Odoo source, read from O2C_ODOO_* variables.

The API key is the user's password for the external API (Odoo 14+): a SecretStr from
O2C_ODOO_API_KEY, or the value of the Prefect Secret block named by O2C_ODOO_API_KEY_BLOCK, so it
never sits in a repr, a log line or an artifact. `protocol` picks the backend: `jsonrpc`
(`/jsonrpc`, Odoo 17/18; deprecated in 19) or `json2` (`/json/2/<model>/<method>`, Odoo 19+).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from o2c.models.settings_common import HttpBaseUrl, settings_problems

KEY_BLOCK = "o2c-odoo-api-key"  # where `o2c blocks register` saves O2C_ODOO_API_KEY


class OdooSettings(BaseSettings):
    """How to reach one Odoo database and how much to read per call."""

    model_config = SettingsConfigDict(
        env_prefix="O2C_ODOO_", extra="ignore", hide_input_in_errors=True
    )

    url: HttpBaseUrl
    db: str
    login: str = ""  # needed by jsonrpc's common.authenticate; json2 needs the key only
    api_key: SecretStr | None = None
    api_key_block: str | None = None  # a Prefect Secret block holding the key
    protocol: Literal["jsonrpc", "json2"] = "jsonrpc"
    page_size: int = Field(default=500, ge=1, le=10_000)
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    requests_per_second: float = Field(default=5.0, ge=0)
    # The account.payment field the register wizard's `communication` lands in: `memo` from
    # Odoo 18, `ref` in 17 (odoo/odoo#223459; not re-read for 19, CONTRACTS.md section 7).
    payment_memo_field: Literal["memo", "ref"] = "memo"
    payment_journal_id: int | None = None  # the bank journal payments are registered in

    def key(self) -> str:
        """The API key: from the environment, else from its Prefect Secret block (the one
        O2C_ODOO_API_KEY_BLOCK names, else `o2c-odoo-api-key`, where `o2c blocks register`
        saves it)."""
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        from o2c.orchestration import secret_from_block

        value = secret_from_block(self.api_key_block or KEY_BLOCK)
        if value:
            return value
        raise OdooSettingsError(
            "no Odoo API key: set O2C_ODOO_API_KEY, or save it in a Prefect Secret block named"
            f" {self.api_key_block or KEY_BLOCK!r} (o2c blocks register)"
        )


class OdooSettingsError(ValueError):
    """A missing or invalid O2C_ODOO_* setting, named without its value."""


def odoo_settings(**values: object) -> OdooSettings:
    """The settings from the environment (and `values`), or an error naming what is wrong."""
    try:
        settings = OdooSettings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = settings_problems(exc, "O2C_ODOO_")
        raise OdooSettingsError("Odoo settings: " + problems) from None
    if settings.protocol == "jsonrpc" and not settings.login:
        raise OdooSettingsError("Odoo settings: O2C_ODOO_LOGIN: missing (needed by jsonrpc)")
    return settings
