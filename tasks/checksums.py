"""Check digits of IBAN, RF references (ISO 11649), SIREN and French VAT, as Polars expressions.

Validation runs over a million rows at a time, so these are vectorised: no Python call per value.
"""

from __future__ import annotations

import string

import polars as pl

_LETTERS = list(string.ascii_uppercase)
_LETTER_VALUES = [str(int(c, 36)) for c in _LETTERS]
_CHUNK = 7
_MAX_LEN = 34  # the longest IBAN; RF references are at most 25


def _mod97_series(rearranged: pl.Series) -> pl.Series:
    """ISO 7064 MOD 97-10 of alphanumeric strings (letters count as 10..35), column-wise.

    Letters become their two-digit values, then the digit string is folded seven digits at
    a time, which keeps every intermediate value inside Int64.
    """
    distinct = rearranged.unique()  # an IBAN repeats on every invoice of its customer
    digits = distinct.str.replace_many(_LETTERS, _LETTER_VALUES)
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
    lookup = pl.DataFrame({"value": distinct, "acc": frame["acc"]})
    return (
        rearranged.to_frame("value")
        .join(lookup, on="value", how="left", nulls_equal=True, maintain_order="left")
        .get_column("acc")
    )


def _mod97(rearranged: pl.Expr) -> pl.Expr:
    return rearranged.map_batches(_mod97_series, return_dtype=pl.Int64)


def compact(expr: pl.Expr) -> pl.Expr:
    """Upper-case with spaces, dashes and dots removed, as banks print identifiers."""
    return expr.str.replace_all(r"[\s\-\.\u00a0]", "").str.to_uppercase()


def iban_ok(expr: pl.Expr) -> pl.Expr:
    """True for a well-formed IBAN with valid check digits; null when the value is null."""
    iban = compact(expr)
    shape = iban.str.contains(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
    return pl.when(expr.is_not_null()).then(
        shape & (_mod97(iban.str.slice(4) + iban.str.slice(0, 4)) == 1)
    )


def rf_ok(expr: pl.Expr) -> pl.Expr:
    """True for a valid ISO 11649 creditor reference (RFkk + up to 21 characters)."""
    ref = compact(expr)
    shape = ref.str.contains(r"^RF[0-9]{2}[A-Z0-9]{1,21}$")
    return pl.when(expr.is_not_null()).then(
        shape & (_mod97(ref.str.slice(4) + ref.str.slice(0, 4)) == 1)
    )


def siren_ok(expr: pl.Expr) -> pl.Expr:
    """True for a 9-digit SIREN passing the Luhn check."""
    siren = compact(expr)
    total = pl.lit(0, dtype=pl.Int64)
    for i in range(9):
        digit = siren.str.slice(i, 1).cast(pl.Int64, strict=False)
        if (
            i % 2 == 1
        ):  # every second digit from the left is doubled (9 digits: Luhn from the right)
            digit = pl.when(digit * 2 > 9).then(digit * 2 - 9).otherwise(digit * 2)
        total = total + digit
    return pl.when(expr.is_not_null()).then(siren.str.contains(r"^[0-9]{9}$") & (total % 10 == 0))


def fr_vat_ok(expr: pl.Expr) -> pl.Expr:
    """True for a French VAT number FRkk + SIREN whose key is (12 + 3 * (SIREN mod 97)) mod 97.

    Other EU VAT numbers pass on shape alone: their check algorithms differ by country.
    """
    vat = compact(expr)
    is_fr = vat.str.starts_with("FR")
    siren = vat.str.slice(4, 9).cast(pl.Int64, strict=False)
    key = vat.str.slice(2, 2).cast(pl.Int64, strict=False)
    fr_valid = vat.str.contains(r"^FR[0-9]{11}$") & (key == (12 + 3 * (siren % 97)) % 97)
    other_valid = vat.str.contains(r"^[A-Z]{2}[A-Z0-9]{2,13}$")
    return (
        pl.when(expr.is_null())
        .then(pl.lit(None, dtype=pl.Boolean))
        .when(is_fr)
        .then(fr_valid)
        .otherwise(other_valid)
    )
