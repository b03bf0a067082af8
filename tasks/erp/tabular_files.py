"""Reading ERP exports: CSV as French ERPs write them, Parquet and JSON lines, all as text first.

Everything is read as strings so that a bad value ('12,34,5') reaches validation and
quarantine with its original text instead of failing the whole read.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from o2c.tasks.common.checksums import on_distinct

LINE = "_line"  # the row's line number in the source file (header = line 1 for CSV)


class InputFileError(ValueError):
    """A file that cannot be read at all; the message names the file and what is wrong."""


def _as_utf8(raw: bytes, path: Path) -> bytes:
    """UTF-8 bytes (BOM dropped) from UTF-8 or Windows-1252, the two encodings French ERPs export.

    Valid UTF-8 is passed on as it is: re-encoding 200 MB of text would cost a second.
    """
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        raw.decode("utf-8")
        return raw
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"{path}: neither UTF-8 nor Windows-1252 (byte {exc.start})"
            ) from exc


def _sniff_delimiter(data: bytes) -> str:
    header = data.split(b"\n", 1)[0]
    return ";" if header.count(b";") > header.count(b",") else ","


def read_table(path: Path) -> pl.DataFrame:
    """Any supported export as an all-string frame, normalised column names, and a line column."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
            frame = frame.with_columns(pl.all().cast(pl.String))
            first_line = 1
        elif suffix in {".jsonl", ".ndjson", ".json"}:
            frame = pl.read_ndjson(path, infer_schema_length=None)
            frame = frame.with_columns(pl.all().cast(pl.String))
            first_line = 1
        else:
            data = _as_utf8(path.read_bytes(), path)
            frame = pl.read_csv(
                data,
                separator=_sniff_delimiter(data),
                infer_schema=False,
                truncate_ragged_lines=False,
            )
            first_line = 2
    except InputFileError:
        raise
    except Exception as exc:  # polars' own message says where; we add which file
        raise InputFileError(f"{path}: cannot be read as {suffix or 'csv'}: {exc}") from exc
    frame = frame.rename({c: c.strip().lower().replace(" ", "_") for c in frame.columns})
    frame = frame.with_columns(
        pl.col(pl.String).str.strip_chars().replace("", None),
    )
    return frame.with_row_index(LINE, offset=first_line).with_columns(pl.col(LINE).cast(pl.Int64))


def require_columns(frame: pl.DataFrame, required: list[str], path: Path) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputFileError(
            f"{path}: missing required column(s) {', '.join(missing)}; "
            f"found {', '.join(c for c in frame.columns if c != LINE)}"
        )


_AMOUNT_SHAPE = (
    r"^[+-]?(?:\d+(?:[.,]\d{1,2})?"  # 1234.56  1234,56  -12
    r"|\d{1,3}(?:\.\d{3})+,\d{1,2}"  # 1.234,56
    r"|\d{1,3}(?:,\d{3})+\.\d{1,2})$"  # 1,234.56
)


def _amount_logic(text: pl.Expr) -> pl.Expr:
    s = text.str.replace_all(r"[\s\u00a0\u202f']", "")
    comma_decimal = s.str.contains(r",\d{1,2}$")
    canonical = (
        pl.when(comma_decimal)
        .then(s.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .otherwise(s.str.replace_all(",", "", literal=True))
    )
    # The shape check comes first: a bare Decimal cast would truncate '12.345' to 12.34.
    cents = (canonical.cast(pl.Decimal(20, 2), strict=False) * 100).cast(pl.Int64, strict=False)
    return pl.when(s.str.contains(_AMOUNT_SHAPE)).then(cents)


def parse_amount_cents(column: str) -> pl.Expr:
    """Text amount -> Int64 cents, or null when it is not one unambiguous amount.

    Accepts '1234.56', '1234,56', '1 234,56', '1.234,56', '1,234.56', '-12', '+12,5'.
    Rejects '12,34,5', '1,234' and '1.234' (thousands or decimals?) and three decimals.
    Computed once per distinct text: amounts repeat across a large export.
    """
    return on_distinct(pl.col(column), _amount_logic, pl.Int64)


def parse_date(column: str) -> pl.Expr:
    """ISO dates (2026-03-31, also with a time) and French dates (31/03/2026, 31.03.2026)."""
    s = pl.col(column).str.slice(0, 10)
    return pl.coalesce(
        s.str.to_date("%Y-%m-%d", strict=False),
        s.str.to_date("%d/%m/%Y", strict=False),
        s.str.to_date("%d.%m.%Y", strict=False),
    )
