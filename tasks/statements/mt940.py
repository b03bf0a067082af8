"""SWIFT MT940 customer statements, as the banks really write them.

A file may hold several messages (each `:20:` starts a statement), wrapped in SWIFT blocks
(`{1:..}{2:..}{4:` ... `-}`) or not, with SOH/ETX control bytes (mBank) and in a legacy code page
(UTF-8 tried first, then cp1252, then latin-1, which reads any byte).

`:61:` is value date, optional entry (booking) date, mark C/D/RC/RD (RC, a reversed credit, is a
debit; RD a credit) with an optional funds code, amount with a decimal comma, type code, customer
reference, `//` bank reference, and supplementary details on the next line.

`:86:` comes in four dialects, told apart by their look: German/Polish structured `?20..?63`
subfields after a three-digit transaction code (remittance ?20-?29 and ?60-?63, name ?32-?33, IBAN
?31 or ?38), the same with `>` separators (Triodos), Dutch `/EREF/ /REMI/ /NAME/ /IBAN/ /CNTP/`
tags (ING, Rabobank), and free text. Subfields and tags are wrapped at 65 columns mid-word, so
their continuation lines are joined without a separator; free text is joined with spaces.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.statements.errors import StatementError

_FIELD = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
_BALANCE = re.compile(r"^([CD])(\d{6})([A-Z]{3})(\d[\d,]*)$")
_LINE61 = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|EC|ED|C|D)(?P<funds>[A-Z])?"
    r"(?P<amount>\d[\d]*,\d*)(?P<rest>.*)$"
)
_TYPE = re.compile(r"^([NSF][A-Z0-9]{3})(.*)$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$")
_SUBFIELD_START = re.compile(r"^\s*(\d{3})?\s*([?>])\d{2}")
_TAGS = (
    "EREF|REMI|NAME|IBAN|CNTP|ORDP|BENM|ADDR|ISDT|PREF|RTRN|MARF|CSID|TRCD|SUM|BUSP|ULTD|ULTC|"
    "ULTB|PURP|BIC|CDTRREFTP|CDTRREF|CREF|CODE|OCMT|ID"
)
_TAG_SPLIT = re.compile(rf"/({_TAGS})/")
_SEPA_KEYS = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|COAM|OAMT|PURP)\+")


def decode(raw: bytes) -> str:
    """Text of an MT940 file: control bytes out, UTF-8 else cp1252 else latin-1."""
    raw = raw.replace(b"\x01", b"").replace(b"\x03", b"")
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any byte")


def _fields(text: str) -> list[tuple[str, str, int]]:
    """(tag, value, line number) of each field, continuation lines kept with '\\n'."""
    out: list[list] = []
    inside = False
    for number, raw_line in enumerate(
        text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1
    ):
        line = raw_line
        if "{4:" in line:
            line = line.split("{4:", 1)[1]
            inside = True
            if not line.strip():
                continue
        elif line.startswith("{"):
            inside = False
            continue
        stripped = line.strip()
        # A lone "-" ends a message, but ING also wraps ":86:" text onto a "-" line: keep it as
        # text; the fields that end a message (balances) only read their first line.
        if stripped.startswith("-}"):
            inside = False
            continue
        match = _FIELD.match(line)
        if match:
            inside = True
            out.append([match[1], match[2], number])
        elif inside and out:
            out[-1][1] += "\n" + line
    return [(t, v, n) for t, v, n in out]


def _amount(raw: str, file: Path, place: str) -> Decimal:
    try:
        return Decimal(raw.replace(",", "."))
    except InvalidOperation as exc:
        raise StatementError(file, place, f"bad amount {raw!r}") from exc


def _date6(raw: str, file: Path, place: str) -> date:
    try:
        return date(2000 + int(raw[0:2]), int(raw[2:4]), int(raw[4:6]))
    except ValueError as exc:
        raise StatementError(file, place, f"bad date {raw!r}") from exc


def _balance(value: str, file: Path, place: str) -> tuple[Decimal, str, date]:
    first = value.strip().split("\n", 1)[0].strip()
    match = _BALANCE.match(first)
    if not match:
        raise StatementError(file, place, f"bad balance {first!r}")
    amount = _amount(match[4], file, place)
    return (amount if match[1] == "C" else -amount), match[3], _date6(match[2], file, place)


def _statement_line(value: str, currency: str | None, file: Path, place: str) -> StatementLine:
    first, _, supplementary = value.partition("\n")
    match = _LINE61.match(first.strip())
    if not match:
        raise StatementError(file, place, f"bad :61: line {first.strip()!r}")
    value_date = _date6(match["value"], file, place)
    booking = value_date
    if match["entry"]:
        month, day = int(match["entry"][:2]), int(match["entry"][2:])
        year = value_date.year
        if value_date.month == 12 and month == 1:
            year += 1
        elif value_date.month == 1 and month == 12:
            year -= 1
        try:
            booking = date(year, month, day)
        except ValueError as exc:
            raise StatementError(file, place, f"bad entry date {match['entry']!r}") from exc
    amount = _amount(match["amount"], file, place)
    mark = match["mark"]
    signed = amount if mark in ("C", "RD", "EC") else -amount
    rest = match["rest"]
    code = None
    if not rest.startswith("NONREF"):
        typed = _TYPE.match(rest)
        if typed:
            code, rest = typed[1], typed[2]
    bank_ref = None
    if "//" in rest:
        rest, bank_ref = rest.split("//", 1)
        bank_ref = bank_ref.strip() or None
    supp = " ".join(s.strip() for s in supplementary.split("\n") if s.strip())
    line = StatementLine(
        booking_date=booking,
        amount=signed,
        currency=currency or "",
        value_date=value_date,
        bank_reference=bank_ref,
        bank_tx_code=code,
        is_reversal=mark in ("RC", "RD"),
    )
    if supp and _IBAN.match(supp.replace(" ", "")):
        line.counterparty_iban = supp.replace(" ", "")
    elif supp and not supp.startswith("/"):
        line.counterparty_name = supp
    return line


def _none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().strip("/").strip()
    return value or None


def _apply_subfields(line: StatementLine, text: str, sep: str) -> None:
    """German ?20-?29 style (or Triodos '>'): remittance, name, IBAN, SEPA keys."""
    flat = text.replace("\n", "")
    head, *parts = re.split(rf"\{sep}(\d{{2}})" if sep == "?" else rf"{sep}(\d{{2}})", flat)
    fields: dict[int, list[str]] = {}
    for key, val in zip(parts[::2], parts[1::2], strict=False):
        fields.setdefault(int(key), []).append(val)
    gvc = head.strip()[:3]
    if gvc.isdigit() and not line.bank_tx_code:
        line.bank_tx_code = gvc
    remit = "".join(v for k in [*range(20, 30), *range(60, 64)] for v in fields.get(k, [])).strip()
    name = "".join(v for k in (32, 33) for v in fields.get(k, [])).strip()
    iban = "".join(fields.get(38, []) or fields.get(31, [])).strip().replace(" ", "")
    if _SEPA_KEYS.search(remit):
        keyed = _sepa_keys(remit)
        if keyed.get("EREF") and keyed["EREF"].upper() != "NOTPROVIDED":
            line.end_to_end_id = keyed["EREF"]
        remit = keyed.get("SVWZ") or remit
    line.remittance_unstructured = remit or line.remittance_unstructured
    if name:
        line.counterparty_name = " ".join(name.split())
    if iban:
        line.counterparty_iban = iban


def _sepa_keys(text: str) -> dict[str, str]:
    pieces = _SEPA_KEYS.split(text)
    keyed = {}
    for key, val in zip(pieces[1::2], pieces[2::2], strict=False):
        keyed[key] = val.strip()
    return keyed


def _apply_tags(line: StatementLine, text: str) -> None:
    """Dutch /TAG/value style: /EREF/ /REMI/ /NAME/ /IBAN/ /CNTP/iban/bic/name/city/."""
    flat = text.replace("\n", "")
    pieces = _TAG_SPLIT.split(flat)
    tags: dict[str, str] = {}
    for key, val in zip(pieces[1::2], pieces[2::2], strict=False):
        tags.setdefault(key, val)
    eref = _none(tags.get("EREF"))
    if eref and eref.upper() != "NOTPROVIDED":
        line.end_to_end_id = eref
    if "CNTP" in tags:
        cntp = tags["CNTP"].split("/")
        if cntp and _none(cntp[0]):
            line.counterparty_iban = _none(cntp[0])
        if len(cntp) > 2 and _none(cntp[2]):
            line.counterparty_name = _none(cntp[2])
    if _none(tags.get("NAME")):
        line.counterparty_name = _none(tags["NAME"])
    if _none(tags.get("IBAN")):
        line.counterparty_iban = _none(tags["IBAN"])
    remi = tags.get("REMI")
    if remi is not None:
        remi = remi.strip("/")
        if remi.startswith("USTD//"):
            line.remittance_unstructured = _none(remi[6:])
        elif remi.startswith("STRD/"):
            line.remittance_structured = _none(remi.rsplit("/", 1)[-1] or remi[5:])
            if line.remittance_structured is None:
                parts = [p for p in remi.split("/") if p]
                line.remittance_structured = parts[-1] if parts else None
        else:
            line.remittance_unstructured = _none(remi)


def apply_information(line: StatementLine, text: str) -> None:
    """Read one :86: field into the line it follows."""
    if _SUBFIELD_START.match(text) or re.search(r"\?2\d", text[:40]):
        _apply_subfields(line, text, ">" if re.match(r"^\s*\d{0,3}\s*>", text) else "?")
    elif _TAG_SPLIT.search(text.replace("\n", "")):
        _apply_tags(line, text)
    else:
        free = " ".join(text.split())
        line.remittance_unstructured = free or None


def parse_mt940(path: Path, raw: bytes) -> list[Statement]:
    """All statements of an MT940 file, in file order."""
    text = decode(raw)
    statements: list[Statement] = []
    current: Statement | None = None
    last_line: StatementLine | None = None
    last_had_info = True
    total = Decimal(0)
    for tag, value, number in _fields(text):
        place = f"line {number} (:{tag}:)"
        if tag == "20" or current is None:
            current = Statement(
                format="mt940",
                account_iban=None,
                currency=None,
                statement_ref=value.strip() or None,
                from_date=None,
                to_date=None,
                opening_balance=None,
                closing_balance=None,
                entries_total=Decimal(0),
            )
            statements.append(current)
            last_line, last_had_info = None, True
            if tag == "20":
                continue
        if tag == "25":
            account = value.strip().split("\n")[0].strip()
            # "NL34RABO0142623393 EUR" / "NL77INGB0574908765EUR": the currency is not the account.
            parts = account.split()
            account = parts[0] if parts else account
            if len(account) > 3 and account[-3:].isalpha() and _IBAN.match(account[:-3]):
                account = account[:-3]
            current.account_iban = account
        elif tag == "28C" or tag == "28":
            seq = value.strip().split("\n-", 1)[0].replace("\n", "").strip()
            if seq and current.statement_ref:
                current.statement_ref = f"{current.statement_ref}/{seq}"
        elif tag in ("60F", "60M"):
            amount, ccy, when = _balance(value, path, place)
            current.opening_balance, current.currency, current.from_date = amount, ccy, when
        elif tag in ("62F", "62M"):
            amount, ccy, when = _balance(value, path, place)
            current.closing_balance, current.to_date = amount, when
            current.currency = current.currency or ccy
        elif tag == "61":
            line = _statement_line(value, current.currency, path, place)
            if not line.currency:
                raise StatementError(path, place, "entry before any balance gives its currency")
            total = current.entries_total or Decimal(0)
            current.entries_total = total + line.amount
            current.entry_count += 1
            line.entry_ref = f"{current.statement_ref or ''}#{current.entry_count}"
            current.lines.append(line)
            last_line, last_had_info = line, False
        elif tag == "86" and last_line is not None and not last_had_info:
            apply_information(last_line, value)
            last_had_info = True
    for st in statements:
        if st.from_date is None and st.lines:
            st.from_date = min(x.booking_date for x in st.lines)
        if st.to_date is None and st.lines:
            st.to_date = max(x.booking_date for x in st.lines)
    if not statements:
        raise StatementError(path, None, "no MT940 field found")
    return statements
