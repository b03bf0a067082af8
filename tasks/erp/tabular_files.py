"""Reading ERP exports: CSV as French ERPs write them, Parquet and JSON lines, all as text first.

Everything is read as strings so that a bad value ('12,34,5') reaches validation and
quarantine with its original text instead of failing the whole read.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import polars as pl

from o2c.models.bounds import CONTROL_CHARACTERS_STRICT, MAX_AMOUNT_CENTS
from o2c.tasks.common.checksums import on_distinct

LINE = "_line"  # the row's line number in the source file (header = line 1 for CSV)


class InputFileError(ValueError):
    """A file that cannot be read at all; the message names the file and what is wrong."""


_HEAD = 8192
_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook?)",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
    b"PAR1": "a Parquet file (name it .parquet)",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
}
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def what_binary(raw: bytes) -> str | None:
    """What a file that is not text is, from its first bytes (None: it looks like text)."""
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            return what
    head = raw[:_HEAD]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if head and controls > len(head) // 10:
        return f"binary content ({controls} control bytes in its first {len(head)})"
    return None


def utf16_codec(raw: bytes) -> str | None:
    """'utf-16' (with a BOM), 'utf-16-le' or '-be' (every other byte NUL), else None."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = raw[:_HEAD]
    even, odd = head[0::2], head[1::2]
    if len(head) >= 4 and odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if len(head) >= 4 and even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return None


def _as_utf8(raw: bytes, path: Path) -> bytes:
    """UTF-8 bytes (BOM dropped) from UTF-8, Windows-1252 or UTF-16, with LF line ends.

    Valid UTF-8 is passed on as it is: re-encoding 200 MB of text would cost a second. What is
    not text (a ZIP, an .xlsx, binary) is refused saying what it is, not as a "missing column".
    """
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # UTF-32, before UTF-16's BOM
        raise InputFileError(f"{path}: UTF-32 text; export it as UTF-8 (or UTF-16) CSV")
    utf16 = utf16_codec(raw)
    if utf16:
        try:
            raw = raw.decode(utf16).removeprefix("\ufeff").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"{path}: UTF-16 text that does not decode (byte {exc.start})"
            ) from exc
    else:
        what = what_binary(raw)
        if what:
            raise InputFileError(f"{path}: this is {what}, not a text export; export it as CSV")
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            raw = raw.decode("cp1252").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"{path}: neither UTF-8 nor Windows-1252 (byte {exc.start})"
            ) from exc
    if b"\n" not in raw and b"\r" in raw:  # classic Mac line ends: CR only
        raw = raw.replace(b"\r", b"\n")
    elif b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):  # CR-only lines among others
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return raw


def _sniff_delimiter(data: bytes) -> str:
    header = data.split(b"\n", 1)[0]
    return ";" if header.count(b";") > header.count(b",") else ","


def _normal(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def _refuse_duplicate_columns(names: list[str], path: Path) -> None:
    """Two columns of one name (whatever the case): which one holds the data? Refuse the file;
    a control character in a name too (it would surface later as a baffling missing column)."""
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names, start=1):
        if re.search(CONTROL_CHARACTERS_STRICT, name):
            raise InputFileError(
                f"{path}: the name of column {i} holds a control character: {name!r}"
            )
        positions.setdefault(_normal(name), []).append(i)
    for name, where in positions.items():
        if len(where) > 1:
            raise InputFileError(
                f"{path}: column '{name}' appears {len(where)} times in the header "
                f"(columns {', '.join(map(str, where))}); keep one"
            )


def _csv_header(data: bytes, separator: str) -> list[str]:
    text = data[:65536].decode("utf-8", "ignore")
    return next(csv.reader(io.StringIO(text), delimiter=separator), [])


def _line_of(data: bytes, at: int) -> int:
    return data.count(b"\n", 0, at) + 1


def _quote_problem(data: bytes, separator: str) -> str | None:
    """An unclosed quoted field (naming the line where it starts), or a quote inside an unquoted
    field; None when the quotes are sound. Walks the quotes only: this runs on a failed read or
    an odd number of quotes."""
    sep = separator.encode()
    quoted_from = -1
    quotes = [m.start() for m in re.finditer(b'"', data)]
    i = 0
    while i < len(quotes):
        at = quotes[i]
        if quoted_from < 0:
            before = data[at - 1 : at] if at else b"\n"
            if before not in (sep, b"\n", b"\r"):
                return f"line {_line_of(data, at)}: a quote inside an unquoted field"
            quoted_from = at
        elif i + 1 < len(quotes) and quotes[i + 1] == at + 1:
            i += 1  # "" is a quote inside a quoted field
        else:
            after = data[at + 1 : at + 2]
            if after not in (sep, b"\n", b"\r", b""):  # not a real end: the field ran on
                opened, here = _line_of(data, quoted_from), _line_of(data, at)
                if opened != here:
                    return f"line {opened}: a quoted field is never closed (it runs to line {here})"
                return f"line {here}: text after the closing quote of a field"
            quoted_from = -1
        i += 1
    if quoted_from >= 0:
        return f"line {_line_of(data, quoted_from)}: a quoted field is never closed"
    return None


def _csv_problem(data: bytes, separator: str) -> str:
    """Why Polars could not read a CSV, in the file's terms (line, field count)."""
    problem = _quote_problem(data, separator)
    if problem:
        return problem
    reader = csv.reader(io.StringIO(data.decode("utf-8", "replace")), delimiter=separator)
    width = None
    try:
        for record in reader:
            if width is None:
                width = len(record)
            elif record and len(record) != width:
                return (
                    f"line {reader.line_num} has {len(record)} fields, the header {width}"
                    f" (separator {separator!r})"
                )
    except csv.Error as exc:
        return f"line {reader.line_num}: {exc}"
    return "not a readable CSV (run with -v for the details)"


def _json_problem(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                return f"line {number} is not JSON"
            if not isinstance(value, dict):
                return f"line {number} is not a JSON object"
    return "not readable as JSON lines (run with -v for the details)"


_JSON_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"\s*:?'  # each string token; a key: one with ':'


def _refuse_duplicate_keys(path: Path) -> None:
    """A JSON object naming one key twice (whatever the case): Polars keeps one copy without a
    word, so which value is meant is unknowable; refuse the file naming the line and the key.
    Vectorised over the lines (Python's json per line would take ten times the read)."""
    key = pl.col("key")
    lines = pl.read_csv(  # one line a row (a raw NUL is not JSON: Polars refused it already)
        path,
        has_header=False,
        separator="\x00",
        quote_char=None,
        new_columns=["key"],
        infer_schema=False,
        encoding="utf8-lossy",
    )
    repeated = (
        lines.with_row_index("line", offset=1)
        .with_columns(key.str.extract_all(_JSON_STRING))
        .explode("key")
        .filter(key.str.ends_with(":"))
        .with_columns(
            key.str.strip_chars_end(": \t\r\n")
            .str.strip_chars('"')
            .str.strip_chars()
            .str.to_lowercase()
            .str.replace_all(" ", "_", literal=True)
        )
        .group_by("line", "key")
        .len()
        .filter(pl.col("len") > 1)
        .sort("line")
    )
    if repeated.height:
        line, name, count = repeated.row(0)
        raise InputFileError(
            f"{path}: line {line}: key '{name}' appears {count} times in one object"
            " (whatever the case); keep one"
        )


def _read_csv(path: Path) -> pl.DataFrame:
    data = _as_utf8(path.read_bytes(), path)
    if not data.strip():
        raise InputFileError(f"{path}: empty file")
    separator = _sniff_delimiter(data)
    _refuse_duplicate_columns(_csv_header(data, separator), path)
    if data.count(b'"') % 2:
        problem = _quote_problem(data, separator)
        if problem:
            raise InputFileError(f"{path}: {problem}")
    try:
        return pl.read_csv(
            data, separator=separator, infer_schema=False, truncate_ragged_lines=False
        )
    except Exception as exc:  # Polars' message is for -v; ours names the line
        raise InputFileError(f"{path}: {_csv_problem(data, separator)}") from exc


def read_table(path: Path) -> pl.DataFrame:
    """Any supported export as an all-string frame, normalised column names, and a line column.

    A file that cannot be read raises InputFileError: one line naming the file and what is
    wrong (line, column), never a library's message (that one stays on the exception's cause).
    """
    path = Path(path)
    if path.is_dir():
        raise InputFileError(f"{path}: is a directory, not a file")
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic != b"PAR1":
            what = what_binary(magic) or "not a Parquet file"
            raise InputFileError(f"{path}: {what}; export it as Parquet or CSV")
        try:
            frame = pl.read_parquet(path)
        except Exception as exc:
            raise InputFileError(f"{path}: a damaged Parquet file (run with -v)") from exc
        first_line = 1
    elif suffix in {".jsonl", ".ndjson", ".json"}:
        try:
            frame = pl.read_ndjson(path, infer_schema_length=None)
        except Exception as exc:
            raise InputFileError(f"{path}: {_json_problem(path)}") from exc
        _refuse_duplicate_keys(path)
        first_line = 1
    else:
        frame = _read_csv(path)
        first_line = 2
    if first_line == 1:  # Parquet and JSON lines: typed columns, names that may differ in case
        _refuse_duplicate_columns(frame.columns, path)
        frame = frame.with_columns(pl.all().cast(pl.String))
    frame = frame.rename({c: _normal(c) for c in frame.columns})
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


_PAST_BOUND = MAX_AMOUNT_CENTS + 1


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
    # An amount of sound shape too large for Int64 cents is still an amount: beyond the bound
    # just past it, so the suite's bound check quarantines it as such (the raw text is kept).
    beyond = pl.when(s.str.starts_with("-")).then(-_PAST_BOUND).otherwise(_PAST_BOUND)
    return pl.when(s.str.contains(_AMOUNT_SHAPE)).then(pl.coalesce(cents, beyond))


def parse_amount_cents(column: str) -> pl.Expr:
    """Text amount -> Int64 cents, or null when it is not one unambiguous amount (one too large
    for Int64 cents gives ±(10^14 + 1), past the bound of models/bounds.py).

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
