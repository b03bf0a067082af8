"""The dunning policy a company edits: levels, delays, thresholds, per segment and per customer.

It lives in a YAML file (tasks/dunning/policy.yaml is the shipped default; O2C_DUNNING_POLICY
names a company's own) read by tasks/dunning/policy.py, which reports any error with the file's
line. This module only says what a valid policy is, so the plan, the flow and the docs read one
definition. Amounts are Decimal in the currency's units in the file and integer cents in code.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from o2c.models.dunning import Channel

Amount = Annotated[Decimal, Field(ge=0, decimal_places=2)]
DEFAULT_CURRENCY_KEY = "default"
# A validator's message may start with AT + a dotted path below the model it checks, then ": ":
# the loader reports the line of that path rather than the model's first line.
AT = "@"


class _Strict(BaseModel):
    # A misspelt key (`min_opne`) must be an error, not a setting silently left at its default.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _minimum(value: object) -> object:
    """`min_open: "15.00"` is shorthand for `{default: "15.00"}`."""
    if isinstance(value, str | int | Decimal | float):
        value = {DEFAULT_CURRENCY_KEY: value}
    if isinstance(value, dict) and any(isinstance(v, float) for v in value.values()):
        raise ValueError("write amounts as strings ('15.00'): a float is not exact")
    return value


def _check_currencies(value: dict[str, Decimal]) -> dict[str, Decimal]:
    for key in value:
        if key != DEFAULT_CURRENCY_KEY and not (len(key) == 3 and key.isalpha() and key.isupper()):
            raise ValueError(f"{key!r} is neither 'default' nor an ISO 4217 code such as 'EUR'")
    return value


def cents_for(minimum: dict[str, Decimal], currency: str) -> int:
    """The minimum in cents for `currency`: its own entry, else `default`, else zero."""
    units = minimum.get(currency, minimum.get(DEFAULT_CURRENCY_KEY, Decimal(0)))
    return int((units * 100).to_integral_value())


class Level(_Strict):
    """One step of the escalation. `days` counts from the due date: negative is a courtesy
    reminder before it, 0 the due date itself."""

    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    days: int = Field(ge=-60, le=3650)
    channel: Channel
    template: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    # The customer's overdue total net of credits, below which this level sends nothing.
    min_open: dict[str, Amount] = Field(default_factory=dict)
    # At least this many days (in the policy's day count) since the customer's last reminder.
    min_days_since_last: int = Field(default=0, ge=0, le=365)
    # Only after the level just below was sent for the same items (no jump from 1 to 3).
    requires_previous: bool = False
    # Finance approves the communications of this level before anything is sent.
    needs_approval: bool = False

    @field_validator("min_open", mode="before")
    @classmethod
    def _min(cls, value: object) -> object:
        return _minimum(value)

    @field_validator("min_open")
    @classmethod
    def _cur(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        return _check_currencies(value)

    @property
    def courtesy(self) -> bool:
        return self.days < 0


class SegmentPolicy(_Strict):
    """The levels one segment of customers goes through, in the order they escalate."""

    levels: list[Level] = Field(min_length=1, max_length=12)
    # Overdue levels wait this long after the due date (a payment in transit, a weekend).
    grace_days: int = Field(default=0, ge=0, le=90)

    @model_validator(mode="after")
    def _escalates(self) -> SegmentPolicy:
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise ValueError(f"level names must differ: {names}")
        for i, (lower, upper) in enumerate(zip(self.levels, self.levels[1:], strict=False)):
            if upper.days <= lower.days:
                raise ValueError(
                    f"{AT}levels.{i + 1}.days: level {upper.name!r} ({upper.days} days) "
                    f"must come after {lower.name!r} ({lower.days} days)"
                )
        if self.levels[0].requires_previous:
            raise ValueError(
                f"{AT}levels.0: the first level {self.levels[0].name!r} has no previous level"
            )
        return self


class CustomerOverride(_Strict):
    """What one customer gets apart from its segment's policy."""

    segment: str | None = None  # use this segment's policy instead of the customer's own
    grace_days: int | None = Field(default=None, ge=0, le=365)
    min_open: dict[str, Amount] | None = None
    # Never escalate past this level (a key account): a level name of the customer's segment.
    max_level: str | None = None
    needs_approval: bool | None = None  # every level waits for finance (or none does)

    @field_validator("min_open", mode="before")
    @classmethod
    def _min(cls, value: object) -> object:
        return None if value is None else _minimum(value)

    @field_validator("min_open")
    @classmethod
    def _cur(cls, value: dict[str, Decimal] | None) -> dict[str, Decimal] | None:
        return None if value is None else _check_currencies(value)


class Calendar(_Strict):
    """How delays are counted: calendar days, or business days (Monday to Friday less the
    public holidays of `country`, and of `subdivision`: Alsace-Moselle is '57', '67', '68')."""

    business_days: bool = True
    country: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    subdivision: str | None = None


class DunningPolicy(_Strict):
    """The whole file."""

    version: int = Field(default=1, ge=1, le=1)
    calendar: Calendar = Field(default_factory=Calendar)
    # Dunning does not run when the last bank load is older than this many business days:
    # reminding a customer who paid yesterday is worse than reminding nobody today.
    fresh_data_business_days: int = Field(default=3, ge=0, le=30)
    # The deadline to pay stated in a formal notice (mise en demeure), in calendar days.
    formal_notice_days: int = Field(default=8, ge=1, le=60)
    # One policy per segment; `default` is for customers with no segment or an unknown one.
    segments: dict[str, SegmentPolicy]
    customers: dict[str, CustomerOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> DunningPolicy:
        if "default" not in self.segments:
            raise ValueError("segments: a 'default' segment is required")
        for customer, override in self.customers.items():
            segment = override.segment
            if segment is not None and segment not in self.segments:
                raise ValueError(f"{AT}customers.{customer}.segment: unknown segment {segment!r}")
            # without its own segment here, the customer's segment comes with the data: the
            # level must exist somewhere (a segment without it leaves the customer uncapped)
            chosen = [segment] if segment else list(self.segments)
            names = sorted({lv.name for s in chosen for lv in self.segments[s].levels})
            if override.max_level is not None and override.max_level not in names:
                raise ValueError(
                    f"{AT}customers.{customer}.max_level: max_level {override.max_level!r} "
                    f"is not one of {names}"
                )
        return self

    def segment_for(self, customer_id: str, segment: str | None) -> str:
        """The segment whose levels a customer goes through (override, own, else default)."""
        override = self.customers.get(customer_id)
        if override is not None and override.segment:
            return override.segment
        return segment if segment in self.segments else "default"
