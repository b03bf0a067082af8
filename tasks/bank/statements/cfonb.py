"""CFONB 120: the French banks' fixed-width statement ("relevé de comptes", 120 columns).

Records: 01 opening balance, 04 movement, 05 complement of the 04 before it, 07 closing balance.
Amounts are 14 digits whose last character carries both the last digit and the sign
(`{` `A`-`I` positive 0-9, `}` `J`-`R` negative 0-9), scaled by the record's decimals-count
column. The account is given as bank, branch and account number (a RIB without its key): the
French IBAN is computed from them, so CFONB rows meet camt and Open Banking rows of the same
account. Complement (05) qualifiers read: LIB/LCC/LC2 remittance text, LCS structured reference,
NPY payer name, NBE beneficiary name, RCN end-to-end reference, IPY/IBE counterparty IBAN;
others (ultimate parties NPO/NBU, REF, RUM, ...) are appended to the text (see `_complement`).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.statements.errors import StatementError

_POSITIVE = {"{": 0, **{c: i for i, c in enumerate("ABCDEFGHI", start=1)}}
_NEGATIVE = {"}": 0, **{c: i for i, c in enumerate("JKLMNOPQR", start=1)}}
# RIB letters -> digits (the key is computed on digits only).
_RIB_LETTERS = {
    **{c: str(i) for i, c in enumerate("ABCDEFGHI", 1)},
    **{c: str(i) for i, c in enumerate("JKLMNOPQR", 1)},
    **{c: str(i) for i, c in enumerate("STUVWXYZ", 2)},
}


def amount(field: str, decimals: int, file: Path, place: str) -> Decimal:
    """A signed amount from its 14 characters (last one = sign and last digit)."""
    field = field.strip()
    if not field:
        raise StatementError(file, place, "missing amount")
    last = field[-1]
    if last in _POSITIVE:
        sign, digit = 1, _POSITIVE[last]
    elif last in _NEGATIVE:
        sign, digit = -1, _NEGATIVE[last]
    elif last.isdigit():
        sign, digit = 1, int(last)
    else:
        raise StatementError(file, place, f"bad amount sign character {last!r} in {field!r}")
    digits = field[:-1].replace(" ", "0")
    if not digits.isdigit():
        raise StatementError(file, place, f"bad amount {field!r}")
    cents = int(digits + str(digit))
    return Decimal(sign * cents).scaleb(-decimals)


def _date(raw: str, file: Path, place: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date(2000 + int(raw[4:6]), int(raw[2:4]), int(raw[0:2]))
    except ValueError as exc:
        raise StatementError(file, place, f"bad date {raw!r}") from exc


def french_iban(bank: str, branch: str, account: str) -> str | None:
    """FR IBAN from a RIB without key (key and IBAN check digits both mod 97)."""
    bank, branch, account = bank.strip(), branch.strip(), account.strip().upper()
    if not (len(bank) == 5 and len(branch) == 5 and len(account) == 11):
        return None
    digits = "".join(_RIB_LETTERS.get(c, c) for c in account)
    if not (bank.isdigit() and branch.isdigit() and digits.isdigit()):
        return None
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(digits)) % 97
    bban = f"{bank}{branch}{account}{key:02d}"
    numeric = "".join(str(int(c, 36)) for c in bban + "FR00")
    check = 98 - int(numeric) % 97
    return f"FR{check:02d}{bban}"


def _decimals(record: str) -> int:
    raw = record[19:20]
    return int(raw) if raw.isdigit() else 2


_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")  # 15 or more: not a creditor id (ICS)
_ZONE = 70  # characters of a complement's text zone (columns 49-118)


def _complement(line: StatementLine, qualifier: str, zone: str, texts: list[str]) -> None:
    """One 05 record's text zone into the line it completes.

    LIB/LCC is the remittance text, LC2 continues the LCC before it, a LIB the LIB before it
    (joined without a space when that one filled its zone: the bank cut a word); LCS is a
    structured creditor reference;
    NPY (a credit's payer) or NBE (a debit's beneficiary) the counterparty's name, IPY/IBE its
    account when an IBAN; RCN the end-to-end reference (its first 35 characters). The ultimate
    parties (NPO, NBU) and any other qualifier (REF, RUM, ...) stay visible in the text."""
    text = zone.strip()
    if not text:
        return
    if qualifier in ("LIB", "LCC"):
        if text in texts:  # banks often send the same text as LIB and as LCC
            pass
        elif qualifier == "LIB" and texts and len(texts[-1]) >= _ZONE:
            # A label longer than one zone goes on in the next LIB, cut wherever 70 columns
            # fell (mid-word too): joined as written, a space only where the zone has one.
            texts[-1] += (" " if zone[:1] == " " else "") + text
        else:
            texts.append(text)
    elif qualifier == "LC2":
        if texts and len(texts[-1]) >= _ZONE:
            texts[-1] += text
        else:
            texts.append(text)
    elif (qualifier == "NPY" and line.amount >= 0) or (qualifier == "NBE" and line.amount < 0):
        line.counterparty_name = line.counterparty_name or text
    elif qualifier in ("NPY", "NBE"):
        pass  # the account holder's own name on the other side
    elif qualifier == "RCN":
        line.end_to_end_id = line.end_to_end_id or text[:35].strip() or None
    elif qualifier == "LCS":
        refs = [r for r in (line.remittance_structured, text) if r]
        line.remittance_structured = " ".join(refs)
    elif qualifier in ("IPY", "IBE"):
        first = text.split()[0].upper()
        if (qualifier == "IPY") == (line.amount >= 0) and _IBAN.fullmatch(first):
            line.counterparty_iban = line.counterparty_iban or first
    else:
        texts.append(text)


def _records(text: str) -> list[str]:
    """Lines, or 120-character slices when a bank sends the records without line breaks."""
    body = text.strip("\r\n")
    if "\n" not in body and "\r" not in body and len(body) > 120 and len(body) % 120 == 0:
        return [body[i : i + 120] for i in range(0, len(body), 120)]
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_cfonb(path: Path, raw: bytes) -> list[Statement]:
    """Statements of a CFONB 120 file (one per 01...07 group)."""
    text = raw.decode("latin-1")
    statements: list[Statement] = []
    current: Statement | None = None
    last: StatementLine | None = None
    last_texts: list[str] = []
    label = ""

    def close_line() -> None:
        if last is not None:
            joined = " ".join(last_texts) or label
            last.remittance_unstructured = " ".join(joined.split()) or None

    for number, record in enumerate(_records(text), 1):
        if not record.strip():
            continue
        place = f"line {number}"
        if len(record.rstrip()) < 90 and record[:2] in ("01", "04", "07"):
            raise StatementError(path, place, f"record too short ({len(record)} characters)")
        code = record[:2]
        decimals = _decimals(record)
        bank, branch, account = record[2:7], record[11:16], record[21:32]
        currency = record[16:19].strip() or "EUR"
        if code == "01":
            close_line()
            last, last_texts = None, []
            iban = french_iban(bank, branch, account) or f"{bank}{branch}{account.strip()}"
            current = Statement(
                format="cfonb120",
                account_iban=iban,
                currency=currency,
                statement_ref=None,
                from_date=_date(record[34:40], path, place),
                to_date=None,
                opening_balance=amount(record[90:104], decimals, path, place),
                closing_balance=None,
                entries_total=Decimal(0),
            )
            statements.append(current)
        elif code == "04":
            if current is None:
                raise StatementError(path, place, "movement (04) before any opening record (01)")
            close_line()
            booking = _date(record[34:40], path, place)
            if booking is None:
                raise StatementError(path, place, "movement without a booking date")
            value = amount(record[90:104], decimals, path, place)
            label = record[48:79].strip()
            current.entry_count += 1
            current.entries_total = (current.entries_total or Decimal(0)) + value
            ref = record[104:120].strip() or None
            last = StatementLine(
                booking_date=booking,
                amount=value,
                currency=currency,
                value_date=_date(record[42:48], path, place),
                bank_reference=ref,
                bank_tx_code=record[32:34].strip() or None,
                entry_ref=f"{current.account_iban}/{booking.isoformat()}/{current.entry_count}",
            )
            last_texts = []
            current.lines.append(last)
        elif code == "05":
            if last is None:
                raise StatementError(path, place, "complement (05) without a movement (04)")
            _complement(last, record[45:48], record[48:118], last_texts)
        elif code == "07":
            if current is None:
                raise StatementError(path, place, "closing record (07) without an opening (01)")
            close_line()
            last, last_texts = None, []
            current.closing_balance = amount(record[90:104], decimals, path, place)
            current.to_date = _date(record[34:40], path, place)
            current.statement_ref = f"{current.account_iban}/{current.from_date}/{current.to_date}"
            current = None
        else:
            raise StatementError(path, place, f"unknown CFONB record code {code!r}")
    close_line()
    if current is not None:
        raise StatementError(path, "end of file", "truncated: statement without closing record 07")
    if not statements:
        raise StatementError(path, None, "no CFONB 120 record")
    return statements
