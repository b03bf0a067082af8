"""OFX bank statements, 1.x (SGML: end tags optional) and 2.x (XML).

Both are read by one tolerant tag scanner rather than an XML parser: 1.x is not XML, and for 2.x
the scanner never resolves an entity or a DTD. OFX gives no opening balance (only LEDGERBAL, the
closing one), so its statements cannot be balance-checked; the check says so. FITID, the bank's
transaction id, is the bank reference. A French BANKID/BRANCHID/ACCTID gives the account's IBAN.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.statements.cfonb import french_iban
from o2c.tasks.bank.statements.errors import StatementError

_TOKEN = re.compile(r"<(/?)([A-Za-z0-9_.]+)>((?:<!\[CDATA\[.*?\]\]>|[^<])*)", re.S)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)


def decode(raw: bytes) -> str:
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any byte")


def _tokens(text: str) -> list[tuple[bool, str, str, int]]:
    """(closing?, TAG, text value, offset) for each tag of the body."""
    start = text.upper().find("<OFX>")
    if start < 0:
        raise StatementError(None, None, "no <OFX> element")
    out = []
    for m in _TOKEN.finditer(text, start):
        value = _CDATA.sub(lambda c: c[1], m[3]).strip()
        for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
            value = value.replace(entity, char)
        out.append((m[1] == "/", m[2].upper(), value, m.start()))
    return out


def _date(raw: str, file: Path, place: str) -> date:
    try:
        return date(int(raw[0:4]), int(raw[4:6]), int(raw[6:8]))
    except (ValueError, IndexError) as exc:
        raise StatementError(file, place, f"bad OFX date {raw!r}") from exc


def _amount(raw: str, file: Path, place: str) -> Decimal:
    try:
        value = Decimal(raw.replace(",", ".").replace(" ", ""))
    except InvalidOperation as exc:
        raise StatementError(file, place, f"bad amount {raw!r}") from exc
    if not value.is_finite():
        raise StatementError(file, place, f"bad amount {raw!r}")
    return value


def _line_of(text: str, offset: int) -> str:
    return f"line {text.count(chr(10), 0, offset) + 1}"


def parse_ofx(path: Path, raw: bytes) -> list[Statement]:
    """One statement per STMTRS / CCSTMTRS block."""
    text = decode(raw)
    try:
        tokens = _tokens(text)
    except StatementError as exc:
        raise StatementError(path, None, exc.reason) from exc
    statements: list[Statement] = []
    current: Statement | None = None
    account: dict[str, str] = {}
    txn: dict[str, str] | None = None
    txn_at = 0
    in_ledger = False
    ofx_closed = False
    for closing, tag, value, offset in tokens:
        if tag in ("STMTRS", "CCSTMTRS"):
            if not closing:
                current = Statement("ofx", None, None, None, None, None, None, None)
                current.entries_total = Decimal(0)
                account = {}
                statements.append(current)
            else:
                current = None
            continue
        if tag == "OFX" and closing:
            ofx_closed = True
        if current is None:
            continue
        if tag == "STMTTRN":
            if not closing:
                txn, txn_at = {}, offset
            elif txn is not None:
                current.lines.append(_transaction(txn, current, path, _line_of(text, txn_at)))
                txn = None
            continue
        if tag == "BANKTRANLIST" and closing and txn is not None:
            # SGML lets a STMTTRN go unclosed before </BANKTRANLIST>.
            current.lines.append(_transaction(txn, current, path, _line_of(text, txn_at)))
            txn = None
            continue
        if tag == "LEDGERBAL":
            in_ledger = not closing
            continue
        if closing:
            continue
        if txn is not None:
            txn[tag] = value
            continue
        if tag == "CURDEF":
            current.currency = value
        elif tag in ("BANKID", "BRANCHID", "ACCTID"):
            account[tag] = value
            bank, branch, acct = (account.get(k, "") for k in ("BANKID", "BRANCHID", "ACCTID"))
            current.account_iban = french_iban(bank, branch, acct) or acct or None
        elif tag == "DTSTART":
            current.from_date = _date(value, path, _line_of(text, offset))
        elif tag == "DTEND":
            current.to_date = _date(value, path, _line_of(text, offset))
        elif tag == "BALAMT" and in_ledger:
            current.closing_balance = _amount(value, path, _line_of(text, offset))
    # SGML lets the last STMTTRN go unclosed before </BANKTRANLIST>.
    if txn is not None and current is not None:
        current.lines.append(_transaction(txn, current, path, _line_of(text, txn_at)))
    if not statements:
        raise StatementError(path, None, "OFX without a bank statement (STMTRS)")
    if not ofx_closed:
        raise StatementError(path, "end of file", "truncated OFX: no </OFX>")
    for st in statements:
        st.entry_count = len(st.lines)
        st.entries_total = sum((x.amount for x in st.lines), Decimal(0))
        if st.statement_ref is None:
            st.statement_ref = f"{st.account_iban}/{st.from_date}/{st.to_date}"
    return statements


def _transaction(txn: dict[str, str], st: Statement, path: Path, place: str) -> StatementLine:
    if "TRNAMT" not in txn or "DTPOSTED" not in txn:
        raise StatementError(path, place, "STMTTRN without TRNAMT or DTPOSTED")
    if not st.currency:
        raise StatementError(path, place, "no CURDEF before the transactions")
    name = txn.get("NAME") or txn.get("PAYEE") or None
    memo = txn.get("MEMO") or None
    return StatementLine(
        booking_date=_date(txn["DTPOSTED"], path, place),
        amount=_amount(txn["TRNAMT"], path, place),
        currency=st.currency,
        value_date=_date(txn["DTAVAIL"], path, place) if txn.get("DTAVAIL") else None,
        counterparty_name=name,
        remittance_unstructured=memo or name,
        bank_reference=txn.get("FITID") or None,
        bank_tx_code=txn.get("TRNTYPE") or None,
        end_to_end_id=txn.get("REFNUM") or None,
        entry_ref=txn.get("FITID") or None,
    )
