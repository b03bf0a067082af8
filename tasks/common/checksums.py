"""Check digits of IBAN, payment references (ISO 11649 RF, Belgian structured communication), SIREN
and French VAT, as Polars expressions.

Validation runs over a million rows at a time, so these are vectorised (no Python call per
value) and computed once per distinct value: an IBAN or a SIREN repeats on every invoice of
its customer, and a million invoices rarely have more than a few ten thousand customers.
"""

from __future__ import annotations

import string
from collections.abc import Callable

import polars as pl

_LETTERS = list(string.ascii_uppercase)
_LETTER_VALUES = [str(int(c, 36)) for c in _LETTERS]
_CHUNK = 7
_MAX_LEN = 34  # the longest IBAN; RF references are at most 25


def on_distinct(expr: pl.Expr, logic: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType) -> pl.Expr:
    """`logic` evaluated on the distinct values of `expr` only, then mapped back to every row."""

    def run(values: pl.Series) -> pl.Series:
        table = values.unique().to_frame("v").with_columns(logic(pl.col("v")).alias("r"))
        return (
            values.to_frame("v")
            .join(table, on="v", how="left", nulls_equal=True, maintain_order="left")
            .get_column("r")
        )

    return expr.map_batches(run, return_dtype=dtype)


def _mod97_series(rearranged: pl.Series) -> pl.Series:
    """ISO 7064 MOD 97-10 of alphanumeric strings (letters count as 10..35), column-wise.

    Letters become their two-digit values, then the digit string is folded seven digits at
    a time, which keeps every intermediate value inside Int64.
    """
    digits = rearranged.str.replace_many(_LETTERS, _LETTER_VALUES)
    frame = pl.DataFrame({"d": digits, "acc": pl.Series([0] * len(digits), dtype=pl.Int64)})
    for start in range(0, 2 * _MAX_LEN, _CHUNK):
        chunk = pl.col("d").str.slice(start, _CHUNK)
        width = chunk.str.len_chars().cast(pl.Int64)
        frame = frame.with_columns(
            acc=pl.when(width == 0)
            .then(pl.col("acc"))
            .otherwise(
                (pl.col("acc") * pl.lit(10).pow(width) + chunk.cast(pl.Int64, strict=False)) % 97
            )
        )
    return frame["acc"]


def _mod97_is_one(value: pl.Expr) -> pl.Expr:
    rearranged = value.str.slice(4) + value.str.slice(0, 4)
    return rearranged.map_batches(_mod97_series, return_dtype=pl.Int64) == 1


def _compact(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"[\s\-\.\u00a0]", "").str.to_uppercase()


def compact(expr: pl.Expr) -> pl.Expr:
    """Upper-case with spaces, dashes and dots removed, as banks print identifiers."""
    return on_distinct(expr, _compact, pl.String)


def _iban_logic(v: pl.Expr) -> pl.Expr:
    iban = _compact(v)
    return iban.str.contains(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$") & _mod97_is_one(iban)


def _rf_logic(v: pl.Expr) -> pl.Expr:
    ref = _compact(v)
    return ref.str.contains(r"^RF[0-9]{2}[A-Z0-9]{1,21}$") & _mod97_is_one(ref)


# The Belgian structured communication (OGM/VCS): 10 digits and their mod 97 (97 for 0), printed
# +++123/4567/89012+++ (or with *** or without the frame and slashes).
_OGM_SHAPE = r"^(?:\+\+\+|\*\*\*)?[0-9]{3}/?[0-9]{4}/?[0-9]{5}(?:\+\+\+|\*\*\*)?$"


def _ogm_logic(v: pl.Expr) -> pl.Expr:
    ref = v.str.replace_all(r"[\s\u00a0]", "")
    digits = ref.str.replace_all(r"[^0-9]", "")
    base = digits.str.slice(0, 10).cast(pl.Int64, strict=False)
    check = digits.str.slice(10, 2).cast(pl.Int64, strict=False)
    expected = pl.when(base % 97 == 0).then(97).otherwise(base % 97)
    return ref.str.contains(_OGM_SHAPE) & (check == expected)


def _ogm_canonical(v: pl.Expr) -> pl.Expr:
    digits = v.str.replace_all(r"[^0-9]", "")
    return pl.format(
        "+++{}/{}/{}+++", digits.str.slice(0, 3), digits.str.slice(3, 4), digits.str.slice(7, 5)
    )


def _siren_logic(v: pl.Expr) -> pl.Expr:
    siren = _compact(v)
    total = pl.lit(0, dtype=pl.Int64)
    for i in range(9):
        digit = siren.str.slice(i, 1).cast(pl.Int64, strict=False)
        if i % 2 == 1:  # Luhn from the right over 9 digits: every second from the left doubles
            digit = pl.when(digit * 2 > 9).then(digit * 2 - 9).otherwise(digit * 2)
        total = total + digit
    return siren.str.contains(r"^[0-9]{9}$") & (total % 10 == 0)


def _fr_vat_logic(v: pl.Expr) -> pl.Expr:
    vat = _compact(v)
    siren = vat.str.slice(4, 9).cast(pl.Int64, strict=False)
    key = vat.str.slice(2, 2).cast(pl.Int64, strict=False)
    fr_valid = vat.str.contains(r"^FR[0-9]{11}$") & (key == (12 + 3 * (siren % 97)) % 97)
    other_valid = vat.str.contains(r"^[A-Z]{2}[A-Z0-9]{2,13}$")
    return pl.when(vat.str.starts_with("FR")).then(fr_valid).otherwise(other_valid)


def _checked(expr: pl.Expr, logic: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """True or False where there is a value, null where there is none."""
    return on_distinct(expr, lambda v: pl.when(v.is_not_null()).then(logic(v)), pl.Boolean)


def iban_ok(expr: pl.Expr) -> pl.Expr:
    """A well-formed IBAN with valid check digits."""
    return _checked(expr, _iban_logic)


def rf_ok(expr: pl.Expr) -> pl.Expr:
    """A valid ISO 11649 creditor reference (RFkk + up to 21 characters)."""
    return _checked(expr, _rf_logic)


def ogm_ok(expr: pl.Expr) -> pl.Expr:
    """A valid Belgian structured communication (+++123/4567/89012+++, mod 97 check)."""
    return _checked(expr, _ogm_logic)


def payment_reference_ok(expr: pl.Expr) -> pl.Expr:
    """A reference a payer can quote and a check digit proves: ISO 11649 RF or Belgian OGM."""
    return _checked(expr, lambda v: _rf_logic(v) | _ogm_logic(v))


def payment_reference(expr: pl.Expr) -> pl.Expr:
    """The reference as stored: a Belgian OGM in its printed form (+++123/4567/89012+++), anything
    else upper-case without spaces, dashes and dots (an RF as banks carry it)."""
    return on_distinct(
        expr,
        lambda v: pl.when(_ogm_logic(v)).then(_ogm_canonical(v)).otherwise(_compact(v)),
        pl.String,
    )


def siren_ok(expr: pl.Expr) -> pl.Expr:
    """A 9-digit SIREN passing the Luhn check."""
    return _checked(expr, _siren_logic)


def fr_vat_ok(expr: pl.Expr) -> pl.Expr:
    """A French VAT number FRkk + SIREN whose key is (12 + 3 * (SIREN mod 97)) mod 97.

    Other EU VAT numbers pass on shape alone: their check algorithms differ by country.
    """
    return _checked(expr, _fr_vat_logic)


def rf_reference(body: str) -> str:
    """An ISO 11649 creditor reference for `body` (letters and digits, at most 21)."""
    from stdnum.iso7064 import mod_97_10

    body = "".join(body.split()).upper()
    if not body.isalnum() or not body.isascii() or not 1 <= len(body) <= 21:
        raise ValueError(f"an RF reference body is 1 to 21 letters or digits, not {body!r}")
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"
