"""What finance may tune in aging, read from O2C_AGING_* variables, with defaults that hold.

Amounts are in the currency's units (Decimal, "25.00"), one default for every currency and,
where a currency needs its own, an entry in the `_by_currency` mapping (JSON in the variable:
O2C_AGING_SMALL_BALANCE_BY_CURRENCY='{"GBP": "20.00", "JPY": "3000"}'). Aging reads them as
cents.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from o2c.tasks.common.formatting import Lang
from o2c.tasks.common.language import company_language


def _cents(units: Decimal) -> int:
    return int((units * 100).to_integral_value())


class AgingSettings(BaseSettings):
    """Thresholds of the aging view and the language it is written in."""

    model_config = SettingsConfigDict(env_prefix="O2C_AGING_", extra="ignore", frozen=True)

    # What is left open on a partly paid invoice up to this much (a bank fee above the
    # reconciliation tolerance, a rounding) is a small balance: shown apart, offered for
    # write-off, never a late payer.
    small_balance: Decimal = Field(default=Decimal("25.00"), ge=0, decimal_places=2)
    small_balance_by_currency: dict[str, Decimal] = Field(default_factory=dict)
    # Below this revenue over the DSO period a currency's DSO is not meaningful ("n/s"): a few
    # sales make any receivable look like years of them.
    dso_min_revenue: Decimal = Field(default=Decimal("1000.00"), ge=0, decimal_places=2)
    dso_min_revenue_by_currency: dict[str, Decimal] = Field(default_factory=dict)
    top_late_payers: int = Field(default=10, ge=1, le=100)
    # The company's language (O2C_LANGUAGE, one place for every report and letter);
    # O2C_AGING_LANG overrides it for aging alone.
    lang: Lang = Field(default_factory=company_language)

    @field_validator("small_balance_by_currency", "dso_min_revenue_by_currency")
    @classmethod
    def _currency_amounts(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for currency, amount in value.items():
            if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
                raise ValueError(f"{currency!r} is not an ISO 4217 code such as 'EUR'")
            if amount < 0 or amount != amount.quantize(Decimal("0.01")):
                raise ValueError(f"{currency}: {amount} is not an amount >= 0 with 2 decimals")
        return value

    def small_balance_cents(self, currency: str) -> int:
        return _cents(self.small_balance_by_currency.get(currency, self.small_balance))

    def dso_min_revenue_cents(self, currency: str) -> int:
        return _cents(self.dso_min_revenue_by_currency.get(currency, self.dso_min_revenue))

    def per_currency(self, currencies: list[str], which: str) -> dict[str, int]:
        """{currency: cents} of `which` ('small_balance' or 'dso_min_revenue')."""
        get = self.small_balance_cents if which == "small_balance" else self.dso_min_revenue_cents
        return {c: get(c) for c in currencies}


DEFAULT_SETTINGS = AgingSettings.model_construct()
