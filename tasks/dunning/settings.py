"""Who sends the reminders: the company's identity as letters show it, from O2C_COMPANY_*.

The defaults are the demo's seller (Lumière Industries SAS, its EUR account at BNP Paribas), so
`o2c demo` writes complete letters with nothing configured; a real company sets at least
O2C_COMPANY_NAME, _ADDRESS, _SIREN, _EMAIL and _IBAN. Nothing here is a secret: all of it is
printed on every letter.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _iban_ok(iban: str) -> bool:
    """ISO 13616 check digits: the rearranged IBAN read as a number is 1 modulo 97."""
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


class SenderSettings(BaseSettings):
    """The sender a reminder names: legal name, postal address, SIREN, contact, bank account."""

    model_config = SettingsConfigDict(env_prefix="O2C_COMPANY_", extra="ignore", frozen=True)

    name: str = Field(default="Lumière Industries SAS", min_length=1)
    address: str = "12 rue de la République, 69002 Lyon, France"
    siren: str = "812345676"
    contact_name: str = "Service relances clients"
    email: str = "relances@lumiere-industries.example"
    phone: str = "+33 4 72 00 00 00"
    iban: str = "FR7630004008210001047651274"
    bic: str = "BNPAFRPPXXX"
    # The date a firm or final reminder asks to be paid by: this many calendar days after the
    # reminder (O2C_COMPANY_PAY_WITHIN_DAYS).
    pay_within_days: int = Field(default=8, ge=1, le=60)
    # A folder with the company's own templates (dunning/<lang>/<template>.j2, the layouts):
    # a file there replaces the shipped one of the same name, the others stay as shipped.
    templates_dir: Path | None = None

    @field_validator("siren", mode="before")
    @classmethod
    def _siren(cls, value: object) -> str:
        digits = re.sub(r"\s", "", str(value))
        if not (len(digits) == 9 and digits.isdigit() and _luhn(digits)):
            raise ValueError(f"O2C_COMPANY_SIREN={value!r}: not 9 digits with a valid key")
        return digits

    @field_validator("iban", mode="before")
    @classmethod
    def _iban(cls, value: object) -> str:
        iban = re.sub(r"\s", "", str(value)).upper()
        if not (_IBAN.match(iban) and _iban_ok(iban)):
            raise ValueError(f"O2C_COMPANY_IBAN={value!r}: not an IBAN with valid check digits")
        return iban

    @field_validator("bic", mode="before")
    @classmethod
    def _bic(cls, value: object) -> str:
        bic = str(value).strip().upper()
        if not _BIC.match(bic):
            raise ValueError(f"O2C_COMPANY_BIC={value!r}: not a BIC (8 or 11 characters)")
        return bic

    @property
    def siren_display(self) -> str:
        """'812 345 676', as the SIREN is printed."""
        return f"{self.siren[:3]} {self.siren[3:6]} {self.siren[6:]}"

    @property
    def iban_display(self) -> str:
        """The IBAN by groups of four, as a payer copies it."""
        return " ".join(self.iban[i : i + 4] for i in range(0, len(self.iban), 4))
