"""One entry point for every statement file: tell its format from its content, then parse it.

The name of a file says nothing reliable (banks send `.txt`, `.dat`, `.xml` for anything), so
only the first bytes decide: an ISO 20022 camt namespace, OFX markers, MT940 field tags (MT942
when a :34F: or :13D: field shows), CFONB 120 record codes, else the header row of a known CSV
mapping. Files above `max_bytes` are refused before being read (`size_limit`).
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from o2c.models.bank import Statement
from o2c.tasks.bank.statements.bounds import check_statements
from o2c.tasks.bank.statements.camt import parse_camt, plain_namespace
from o2c.tasks.bank.statements.camt_columns import parse_camt_columns
from o2c.tasks.bank.statements.cfonb import parse_cfonb
from o2c.tasks.bank.statements.csv_bank import (
    CsvMapping,
    bundled_mappings,
    header_matches,
    load_mapping,
    parse_csv,
)
from o2c.tasks.bank.statements.errors import StatementError
from o2c.tasks.bank.statements.mt940 import parse_mt940
from o2c.tasks.bank.statements.ofx import parse_ofx
from o2c.tasks.common.files import sha256_of
from o2c.tasks.erp.tabular_files import utf16_codec, what_binary

_HEAD = 65536
_CAMT = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.05[234]")
_MT940_TAG = re.compile(rb"(?m)^(?:\{4:)?:(?:20|25|28C?|60[FM]|61):")
# An MT942 (intraday report): its floor limit or date-time field, or its SWIFT message type.
_MT942 = re.compile(rb"(?m)^(?:\{4:)?:(?:34F|13D):|\{2:[IO]942")
_CFONB = re.compile(rb"^0[1457]\d{5}")


@dataclass
class ParsedFile:
    path: Path
    sha256: str
    format: str
    statements: list[Statement]
    notes: list[str] = field(default_factory=list)


def detect_format(head: bytes, csv_mappings: list[CsvMapping] | None = None) -> str | None:
    """camt | ofx | mt940 | mt942 | cfonb120 | csv:<mapping name>, or None when nothing
    matches."""
    body = head.lstrip(b"\xef\xbb\xbf\x00\x01\x02\x03 \t\r\n")
    if body.startswith(b"<") or body.startswith(b"OFXHEADER"):
        upper = body[:4096].upper()
        if b"OFXHEADER" in upper or b"<OFX>" in upper:
            return "ofx"
        if _CAMT.search(body):
            return "camt"
        return None
    if _MT940_TAG.search(body) or body.startswith(b"{1:"):
        return "mt942" if _MT942.search(body) else "mt940"
    first = body.split(b"\n", 1)[0].rstrip(b"\r")
    if _CFONB.match(first) and len(first) >= 120 and (len(first) == 120 or len(first) % 120 == 0):
        return "cfonb120"
    for mapping in csv_mappings if csv_mappings is not None else bundled_mappings():
        if header_matches(head, mapping):
            return f"csv:{mapping.name}"
    return None


def _not_text(head: bytes) -> str | None:
    """What a file that no parser reads is, when it is not text: said instead of 'unknown'."""
    if utf16_codec(head):
        return "UTF-16 text: statements are read as UTF-8 or Latin-1; convert it to UTF-8"
    what = what_binary(head)
    return f"this is {what}, not a bank statement" if what else None


DEFAULT_LIMIT = 200_000_000
LIMIT_VARIABLE = "O2C_STATEMENT_MAX_BYTES"


def size_limit() -> int:
    """Largest statement file accepted: O2C_STATEMENT_MAX_BYTES, else 200 MB. Memory stays well
    below the file's size for camt and MT940 (they are read in blocks), so a bank that sends
    bigger files only needs this raised."""
    raw = os.environ.get(LIMIT_VARIABLE)
    try:
        return int(raw) if raw else DEFAULT_LIMIT
    except ValueError:
        raise ValueError(f"{LIMIT_VARIABLE} must be a number of bytes, got {raw!r}") from None


def parse_file(
    path: Path,
    *,
    max_bytes: int | None = None,
    csv_mapping: CsvMapping | Path | None = None,
) -> ParsedFile:
    """Parse a statement file of any supported format; StatementError names file, place, reason.

    Every statement is then held to the bounds of models/bounds.py (amounts, currencies, dates,
    control characters): a value outside them refuses the file, whatever its format.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise StatementError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    if path.is_dir():
        raise StatementError(path, None, "is a directory, not a file")
    limit = max_bytes if max_bytes is not None else size_limit()
    if size > limit:
        raise StatementError(
            path, None, f"{size} bytes, above the {limit}-byte limit ({LIMIT_VARIABLE} sets it)"
        )
    if size == 0:
        raise StatementError(path, None, "empty file")
    with open(path, "rb") as fh:
        head = fh.read(_HEAD)
    mappings: list[CsvMapping] | None = None
    if isinstance(csv_mapping, CsvMapping):
        mappings = [csv_mapping]
    elif csv_mapping is not None:
        mappings = [load_mapping(Path(csv_mapping))]
    kind = detect_format(head, mappings)
    if kind is None and (what := _not_text(head)):
        raise StatementError(path, "start of file", what)
    if kind is None:
        raise StatementError(
            path,
            "start of file",
            "unknown format (not camt.052/053/054, MT940, CFONB 120, OFX, "
            "nor a CSV matching a known mapping)",
        )
    # hashlib lets go of the GIL on big blocks: the file is hashed while it is parsed.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as pool:
        digest = pool.submit(sha256_of, path)
        fmt, statements, notes = _parse(kind, path, head, mappings)
        sha = digest.result()
    check_statements(path, statements)
    return ParsedFile(path=path, sha256=sha, format=fmt, statements=statements, notes=notes)


def _parse(
    kind: str, path: Path, head: bytes, mappings: list[CsvMapping] | None
) -> tuple[str, list[Statement], list[str]]:
    """(format, statements, notes) of a file whose kind is known."""
    if kind == "camt":
        ns = plain_namespace(head)
        result = parse_camt_columns(path, head, ns) if ns else parse_camt(path, head)
        return result.format, result.statements, result.notes
    raw = path.read_bytes()
    if kind in ("mt940", "mt942"):  # one reader: an MT942 is an MT940 without balances
        statements = parse_mt940(path, raw)
        mt942 = statements and all(st.format == "mt942" for st in statements)
        return ("mt942" if mt942 else "mt940"), statements, []
    if kind == "cfonb120":
        return "cfonb120", parse_cfonb(path, raw), []
    if kind == "ofx":
        return "ofx", parse_ofx(path, raw), []
    name = kind.split(":", 1)[1]
    pool = mappings if mappings is not None else bundled_mappings()
    mapping = next(m for m in pool if m.name == name)
    return "csv", parse_csv(path, raw, mapping), [f"read with CSV mapping {name}"]
