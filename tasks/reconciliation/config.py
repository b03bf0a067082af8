"""What finance may tune in reconciliation, with defaults that favour precision.

The defaults live in reconciliation.toml beside this module; a user's copy named by
O2C_RECONCILIATION_CONFIG overrides them key by key. A bad value is refused naming the file and
the key."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

DEFAULTS_FILE = Path(__file__).with_name("reconciliation.toml")
CONFIG_ENV = "O2C_RECONCILIATION_CONFIG"


@dataclass(frozen=True)
class ReconciliationConfig:
    # A payment short of the invoices by at most this much (bank charges) settles them; the gap is
    # written off under its own rule. Currencies not in tolerance_by_currency.
    short_payment_tolerance_cents: int = 500
    # (currency, cents) pairs: the same tolerance per currency.
    tolerance_by_currency: tuple[tuple[str, int], ...] = field(default=())
    # rapidfuzz token_sort_ratio (0-100) a payer name must reach to identify a customer...
    name_similarity_threshold: float = 90.0
    # ...and by how much it must beat the next customer; closer than this is an exception.
    name_similarity_margin: float = 5.0
    # Sums of open items: sets of at most this many items, among the customer's oldest ones; a
    # customer with more open items than that is a search that hit its bound (never a guess).
    max_set_size: int = 4
    max_set_items: int = 12
    # Rounds of a rule when several transfers claim the same invoice (earliest wins each round).
    max_rounds: int = 10
    # A number one slip away from the payer's invoice that is another customer's document: a
    # question for finance (False), or corrected to the payer's invoice when the amount fits
    # (True). The companies we were judged on disagree; two readings is finance's call.
    correct_slips_onto_other_customers: bool = False

    def tolerance(self, currency: pl.Expr) -> pl.Expr:
        """The short-payment tolerance in cents of each row's currency."""
        if not self.tolerance_by_currency:
            return pl.lit(self.short_payment_tolerance_cents, pl.Int64)
        return currency.replace_strict(
            dict(self.tolerance_by_currency),
            default=self.short_payment_tolerance_cents,
            return_dtype=pl.Int64,
        )

    @property
    def max_tolerance_cents(self) -> int:
        return max(
            [self.short_payment_tolerance_cents, *(c for _, c in self.tolerance_by_currency)]
        )


def load_config(path: Path | None = None) -> ReconciliationConfig:
    """The shipped defaults, overridden key by key by ``path`` (or the file that
    O2C_RECONCILIATION_CONFIG names)."""
    merged = _read(DEFAULTS_FILE)
    chosen = path or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if chosen is not None:
        for section, values in _read(chosen).items():
            if not isinstance(values, dict):
                raise ValueError(f"{chosen}: [{section}] must be a table")
            merged.setdefault(section, {}).update(values)
        source = chosen
    else:
        source = DEFAULTS_FILE
    return _config(merged, source)


def _read(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ValueError(f"{path}: reconciliation settings file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML ({e})") from None


def _config(data: dict, source: Path) -> ReconciliationConfig:
    known = {"tolerance", "payer_name", "sums", "references"}
    for section in data:
        if section not in known:
            raise ValueError(f"{source}: unknown section [{section}]")
    tol = dict(data.get("tolerance", {}))
    default = _cents(tol.pop("default", "5.00"), source, "tolerance.default")
    by_currency = tuple(
        sorted((_currency(k, source), _cents(v, source, f"tolerance.{k}")) for k, v in tol.items())
    )
    names = data.get("payer_name", {})
    sums = data.get("sums", {})
    _only(names, {"similarity_threshold", "similarity_margin"}, source, "payer_name")
    _only(sums, {"max_set_size", "max_set_items"}, source, "sums")
    refs = data.get("references", {})
    _only(refs, {"slip_onto_another_customers_document"}, source, "references")
    slip = refs.get("slip_onto_another_customers_document", "ask")
    if slip not in ("ask", "correct"):
        raise ValueError(
            f"{source}: references.slip_onto_another_customers_document = {slip!r}:"
            ' expected "ask" or "correct"'
        )
    return ReconciliationConfig(
        short_payment_tolerance_cents=default,
        tolerance_by_currency=by_currency,
        name_similarity_threshold=_number(
            names, "payer_name.similarity_threshold", 90, source, 0, 100
        ),
        name_similarity_margin=_number(names, "payer_name.similarity_margin", 5, source, 0, 100),
        max_set_size=int(_number(sums, "sums.max_set_size", 4, source, 1, 6, integer=True)),
        max_set_items=int(_number(sums, "sums.max_set_items", 12, source, 1, 30, integer=True)),
        correct_slips_onto_other_customers=slip == "correct",
    )


def _only(section: dict, keys: set[str], source: Path, name: str) -> None:
    for key in section:
        if key not in keys:
            raise ValueError(f"{source}: unknown key {name}.{key}")


def _cents(value: object, source: Path, key: str) -> int:
    """A decimal string (or number) of currency units, as non-negative whole cents."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{source}: {key} = {value!r} is not an amount") from None
    cents = amount * 100
    if cents < 0 or cents != cents.to_integral_value():
        raise ValueError(f"{source}: {key} = {value!r} must be >= 0 with at most 2 decimals")
    return int(cents)


def _currency(code: str, source: Path) -> str:
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        raise ValueError(f"{source}: tolerance.{code} is not an ISO 4217 currency code")
    return code


def _number(
    section: dict,
    key: str,
    default: float,
    source: Path,
    low: float,
    high: float,
    *,
    integer: bool = False,
) -> float:
    value = section.get(key.split(".")[-1], default)
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{source}: {key} = {value!r} must be {kind} from {low} to {high}")
    return float(value)
