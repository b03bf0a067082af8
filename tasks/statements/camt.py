"""ISO 20022 bank-to-customer cash management messages: camt.053 (statement), camt.052 (report),
camt.054 (debit/credit notification), versions 001.02 to 001.08.

The versions differ in places this parser does not read (party identification, proprietary
codes), so one reader serves them all: it matches elements by local name whatever the namespace.

Two readers give the same result. `parse_camt` streams any file through lxml's iterparse,
reading each finished `Ntry` then dropping it. `parse_camt_fast` (what `parse_file` uses for plain
UTF-8 files with the default namespace, i.e. what banks send) first has libxml2 check the whole
file for well-formedness without building anything, then cuts entries out of the text and reads
them in batches of 20,000 with Polars' (Rust) regex engine, handing any unusual entry (batch,
CDATA, comment, unexpected attribute or shape) to the element reader: building ~35 lxml nodes
per entry was the largest cost of the element reader. Both stream (memory holds the parsed
lines, not the document). Safety: a DTD is refused before parsing (no
entity can be declared, so none is expanded: XXE and billion-laughs files are rejected), and
libxml2 runs with entity resolution, DTD loading and network access off.

Only booked entries (`Sts` BOOK, or no status) become lines: pending and information-only entries
of intraday reports do not move the booked balance; they are counted in the parse notes.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl
from lxml import etree

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.statements.errors import StatementError

# The message element below Document gives the kind; the statement-level element repeats.
_MESSAGES = {
    "BkToCstmrStmt": ("camt.053", "Stmt"),
    "BkToCstmrAcctRpt": ("camt.052", "Rpt"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn"),
}
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD",)


@dataclass
class CamtResult:
    format: str
    statements: list[Statement]
    notes: list[str] = field(default_factory=list)


def reject_dtd(head: bytes, file: str | Path) -> None:
    """Refuse any DOCTYPE in the prolog: no DTD means no entity, so nothing to expand or fetch."""
    text = head.decode("latin-1")
    root_at = _root_start(text)
    prolog = text if root_at < 0 else text[:root_at]
    if "<!DOCTYPE" in prolog.upper() or "<!ENTITY" in prolog.upper():
        raise StatementError(file, "prolog", "XML with a DTD / entity declarations is refused")


def _root_start(text: str) -> int:
    """Offset of the first element start tag (skipping declarations, comments, PIs)."""
    i = 0
    while True:
        i = text.find("<", i)
        if i < 0 or i + 1 >= len(text):
            return -1
        nxt = text[i + 1]
        if nxt == "?":
            i = text.find("?>", i)
        elif text.startswith("<!--", i):
            i = text.find("-->", i)
        elif nxt == "!":
            return -1 if text.upper().find("<!DOCTYPE", i) == i else i
        else:
            return i
        if i < 0:
            return -1


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag[tag.rfind("}") + 1 :]


def _path(elem: etree._Element) -> str:
    """An XPath-ish location for error messages: local names with 1-based positions."""
    parts = []
    node = elem
    while node is not None:
        parent = node.getparent()
        name = _local(node.tag)
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    where = "/" + "/".join(reversed(parts))
    line = getattr(elem, "sourceline", None)
    return f"{where} (line {line})" if line else where


def _child(elem: etree._Element, name: str) -> etree._Element | None:
    for c in elem:
        if _local(c.tag) == name:
            return c
    return None


def _text(elem: etree._Element | None, *names: str) -> str | None:
    node = elem
    for name in names:
        if node is None:
            return None
        node = _child(node, name)
    if node is None or node.text is None:
        return None
    value = node.text.strip()
    return value or None


def _date(elem: etree._Element | None, file: Path, where: etree._Element) -> date | None:
    """A `Dt` or `DtTm` choice: the calendar date as the bank wrote it (no time-zone shift)."""
    if elem is None:
        return None
    raw = _text(elem, "Dt") or _text(elem, "DtTm")
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise StatementError(file, _path(elem), f"bad date {raw!r}") from exc


def _amount(elem: etree._Element | None, file: Path) -> tuple[Decimal, str | None]:
    if elem is None or not (elem.text or "").strip():
        raise StatementError(file, _path(elem) if elem is not None else None, "missing amount")
    try:
        value = Decimal(elem.text.strip())
    except InvalidOperation as exc:
        raise StatementError(file, _path(elem), f"bad amount {elem.text!r}") from exc
    if not value.is_finite() or value < 0:
        raise StatementError(file, _path(elem), f"bad amount {elem.text!r}")
    return value, elem.get("Ccy")


def _sign(indicator: str | None, value: Decimal, file: Path, where: etree._Element) -> Decimal:
    if indicator == "CRDT":
        return value
    if indicator == "DBIT":
        return -value
    raise StatementError(file, _path(where), f"CdtDbtInd must be CRDT or DBIT, got {indicator!r}")


def _tx_code(elem: etree._Element | None) -> str | None:
    if elem is None:
        return None
    domain = _child(elem, "Domn")
    if domain is not None:
        family = _child(domain, "Fmly")
        parts = [_text(domain, "Cd"), _text(family, "Cd"), _text(family, "SubFmlyCd")]
        code = "/".join(p for p in parts if p)
        if code:
            return code
    return _text(elem, "Prtry", "Cd")


def _party(parties: etree._Element | None, role: str) -> tuple[str | None, str | None]:
    """Name and IBAN of Dbtr/Cdtr (001.08 nests the party under Pty)."""
    if parties is None:
        return None, None
    party = _child(parties, role)
    name = None
    if party is not None:
        name = _text(party, "Nm") or _text(party, "Pty", "Nm")
    account = _child(parties, role + "Acct")
    iban = _text(account, "Id", "IBAN") or _text(account, "Id", "Othr", "Id")
    return name, iban


def _remittance(rmt: etree._Element | None) -> tuple[str | None, str | None]:
    if rmt is None:
        return None, None
    unstructured = [c.text.strip() for c in rmt if _local(c.tag) == "Ustrd" and c.text]
    refs = []
    for strd in rmt:
        if _local(strd.tag) != "Strd":
            continue
        for cri in strd:
            if _local(cri.tag) == "CdtrRefInf":
                ref = _text(cri, "Ref")
                if ref:
                    refs.append(ref)
            elif _local(cri.tag) == "AddtlRmtInf" and cri.text and cri.text.strip():
                unstructured.append(cri.text.strip())
    return (" ".join(unstructured) or None), (" ".join(refs) or None)


class _Entry:
    """The entry-level facts a detail line inherits."""

    __slots__ = ("booking", "code", "info", "ref", "reversal", "svcr_ref", "value", "value_date")


def _read_entry(
    ntry: etree._Element, file: Path, statement_ccy: str | None
) -> tuple[Decimal, str | None, str, list[StatementLine]]:
    """One `Ntry`: its signed booked amount, its currency, its status, and its lines."""
    amt_el = None
    indicator = None
    status = "BOOK"
    entry = _Entry()
    entry.booking = entry.value_date = None
    entry.reversal = False
    entry.ref = entry.svcr_ref = entry.code = entry.info = None
    details: list[etree._Element] = []
    for c in ntry:
        name = _local(c.tag)
        if name == "Amt":
            amt_el = c
        elif name == "CdtDbtInd":
            indicator = (c.text or "").strip()
        elif name == "RvslInd":
            entry.reversal = (c.text or "").strip().lower() in ("true", "1")
        elif name == "Sts":
            status = (c.text or "").strip() or (_text(c, "Cd") or _text(c, "Prtry") or "BOOK")
        elif name == "BookgDt":
            entry.booking = _date(c, file, c)
        elif name == "ValDt":
            entry.value_date = _date(c, file, c)
        elif name == "NtryRef":
            entry.ref = (c.text or "").strip() or None
        elif name == "AcctSvcrRef":
            entry.svcr_ref = (c.text or "").strip() or None
        elif name == "BkTxCd":
            entry.code = _tx_code(c)
        elif name == "NtryDtls":
            details.extend(d for d in c if _local(d.tag) == "TxDtls")
        elif name == "AddtlNtryInf":
            entry.info = (c.text or "").strip() or None
    value, ccy = _amount(amt_el, file)
    signed = _sign(indicator, value, file, ntry)
    ccy = ccy or statement_ccy
    if status != "BOOK":
        return signed, ccy, status, []
    if entry.booking is None:
        entry.booking = entry.value_date
    if entry.booking is None:
        raise StatementError(file, _path(ntry), "booked entry without a booking date")
    entry_ref = entry.ref or entry.svcr_ref
    if len(details) <= 1:
        line = _line(details[0] if details else None, entry, signed, ccy, file, 0, entry_ref)
        return signed, ccy, status, [line]
    lines = []
    for i, tx in enumerate(details, start=1):
        tx_amt = _child(tx, "Amt")
        if tx_amt is None:
            tx_amt = _deep(tx, ("AmtDtls", "TxAmt", "Amt"))
        if tx_amt is None:
            raise StatementError(file, _path(tx), "batch detail without an amount")
        d_value, d_ccy = _amount(tx_amt, file)
        d_ind = _text(tx, "CdtDbtInd") or indicator
        d_signed = _sign(d_ind, d_value, file, tx)
        lines.append(_line(tx, entry, d_signed, d_ccy or ccy, file, i, entry_ref))
    return signed, ccy, status, lines


def _deep(elem: etree._Element, names: tuple[str, ...]) -> etree._Element | None:
    node: etree._Element | None = elem
    for name in names:
        if node is None:
            return None
        node = _child(node, name)
    return node


def _line(
    tx: etree._Element | None,
    entry: _Entry,
    signed: Decimal,
    ccy: str | None,
    file: Path,
    index: int,
    entry_ref: str | None,
) -> StatementLine:
    if ccy is None:
        raise StatementError(file, _path(tx) if tx is not None else None, "no currency")
    name = iban = unstructured = structured = e2e = None
    svcr_ref = entry.svcr_ref
    code = entry.code
    if tx is not None:
        refs = _child(tx, "Refs")
        e2e = _text(refs, "EndToEndId")
        if e2e and e2e.upper() == "NOTPROVIDED":
            e2e = None
        if index:  # a batch detail carries its own references
            svcr_ref = _text(refs, "AcctSvcrRef") or svcr_ref
        code = _tx_code(_child(tx, "BkTxCd")) or code
        parties = _child(tx, "RltdPties")
        name, iban = _party(parties, "Dbtr" if signed >= 0 else "Cdtr")
        unstructured, structured = _remittance(_child(tx, "RmtInf"))
        if unstructured is None:
            unstructured = _text(tx, "AddtlTxInf")
    if unstructured is None:
        unstructured = entry.info
    return StatementLine(
        booking_date=entry.booking,
        amount=signed,
        currency=ccy,
        value_date=entry.value_date,
        counterparty_name=name,
        counterparty_iban=iban,
        remittance_unstructured=unstructured,
        remittance_structured=structured,
        end_to_end_id=e2e,
        bank_reference=svcr_ref,
        bank_tx_code=code,
        is_reversal=entry.reversal,
        entry_ref=entry_ref,
        detail_index=index,
    )


def _header(stmt: etree._Element, kind: str, file: Path) -> tuple[Statement, str | None]:
    """Account, reference, period and balances of one Stmt/Rpt/Ntfctn (entries excluded)."""
    acct = _child(stmt, "Acct")
    iban = _text(acct, "Id", "IBAN") or _text(acct, "Id", "Othr", "Id")
    ccy = _text(acct, "Ccy")
    period = _child(stmt, "FrToDt")
    from_raw = _text(period, "FrDtTm") or _text(period, "FrDt")
    to_raw = _text(period, "ToDtTm") or _text(period, "ToDt")
    opening = closing = None
    opening_ccy = closing_ccy = None
    bal_dates: list[date] = []
    for bal in stmt:
        if _local(bal.tag) != "Bal":
            continue
        code = _text(bal, "Tp", "CdOrPrtry", "Cd") or _text(bal, "Tp", "CdOrPrtry", "Prtry")
        value, bal_ccy = _amount(_child(bal, "Amt"), file)
        signed = _sign(_text(bal, "CdtDbtInd"), value, file, bal)
        when = _date(_child(bal, "Dt"), file, bal)
        if when:
            bal_dates.append(when)
        if code in _OPENING and opening is None:
            opening, opening_ccy = signed, bal_ccy
        elif code in _CLOSING and closing is None:
            closing, closing_ccy = signed, bal_ccy
    st = Statement(
        format=kind,
        account_iban=iban,
        currency=ccy or opening_ccy or closing_ccy,
        statement_ref=_text(stmt, "Id"),
        from_date=_iso_date(from_raw) or (min(bal_dates) if bal_dates else None),
        to_date=_iso_date(to_raw) or (max(bal_dates) if bal_dates else None),
        opening_balance=opening,
        closing_balance=closing,
    )
    note = None
    if opening_ccy and closing_ccy and opening_ccy != closing_ccy:
        note = (
            f"statement {st.statement_ref}: opening balance in {opening_ccy}, "
            f"closing balance in {closing_ccy}"
        )
    return st, note


def _iso_date(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


_NAMESPACE = re.compile(
    rb'xmlns(?::\w+)?="(urn:iso:std:iso:20022:tech:xsd:camt\.05[234]\.001\.\d\d)"'
)


class _FastReader:
    """The hot path: a plain entry (one or no TxDtls) read by comparing full tag names.

    Anything less usual (a batch, a missing field, a bad value) goes to the generic reader,
    which also produces the precise error.
    """

    def __init__(self, ns: str) -> None:
        p = f"{{{ns}}}" if ns else ""
        self.amt, self.ind, self.rvsl, self.sts = (
            p + "Amt",
            p + "CdtDbtInd",
            p + "RvslInd",
            p + "Sts",
        )
        self.book, self.val, self.ref, self.svcr = (
            p + "BookgDt",
            p + "ValDt",
            p + "NtryRef",
            p + "AcctSvcrRef",
        )
        self.code, self.dtls, self.info, self.tx = (
            p + "BkTxCd",
            p + "NtryDtls",
            p + "AddtlNtryInf",
            p + "TxDtls",
        )
        self.refs, self.e2e, self.pties, self.rmt = (
            p + "Refs",
            p + "EndToEndId",
            p + "RltdPties",
            p + "RmtInf",
        )
        self.ustrd, self.strd, self.cri, self.cref = (
            p + "Ustrd",
            p + "Strd",
            p + "CdtrRefInf",
            p + "Ref",
        )
        self.dbtr, self.cdtr, self.dacct, self.cacct = (
            p + "Dbtr",
            p + "Cdtr",
            p + "DbtrAcct",
            p + "CdtrAcct",
        )
        self.nm, self.pty, self.id, self.iban = p + "Nm", p + "Pty", p + "Id", p + "IBAN"
        self.cd, self.domn, self.fmly, self.sub = p + "Cd", p + "Domn", p + "Fmly", p + "SubFmlyCd"
        self.prtry, self.addtl_rmt = p + "Prtry", p + "AddtlRmtInf"
        self.addtl_tx = p + "AddtlTxInf"

    def tx_code(self, el: etree._Element) -> str | None:
        for d in el:
            if d.tag == self.domn:
                parts = []
                for f in d:
                    if f.tag == self.cd:
                        parts.append(f.text)
                    elif f.tag == self.fmly:
                        parts.extend(x.text for x in f if x.tag in (self.cd, self.sub))
                code = "/".join(x.strip() for x in parts if x and x.strip())
                if code:
                    return code
        return _text(el, "Prtry", "Cd")

    def remittance(self, el: etree._Element) -> tuple[str | None, str | None]:
        unstructured: list[str] = []
        refs: list[str] = []
        for c in el:
            if c.tag == self.ustrd:
                if c.text and c.text.strip():
                    unstructured.append(c.text.strip())
            elif c.tag == self.strd:
                for x in c:
                    if x.tag == self.cri:
                        for r in x:
                            if r.tag == self.cref and r.text and r.text.strip():
                                refs.append(r.text.strip())
                    elif x.tag == self.addtl_rmt and x.text and x.text.strip():
                        unstructured.append(x.text.strip())
        return (" ".join(unstructured) or None), (" ".join(refs) or None)

    def read(self, ntry: etree._Element, ccy_default: str | None, position: str):
        """(signed amount, currency, line) or None when the generic reader must take it."""
        amt = ind = book = val = ref = svcr = code_el = info = None
        reversal = False
        tx = None
        for c in ntry:
            t = c.tag
            if t == self.amt:
                amt = c
            elif t == self.ind:
                ind = c.text
            elif t == self.book:
                book = c[0].text if len(c) else None
            elif t == self.val:
                val = c[0].text if len(c) else None
            elif t == self.sts:
                status = c.text if len(c) == 0 else c[0].text
                if (status or "").strip() != "BOOK":
                    return None
            elif t == self.rvsl:
                reversal = (c.text or "").strip() == "true"
            elif t == self.svcr:
                svcr = c.text
            elif t == self.ref:
                ref = c.text
            elif t == self.code:
                code_el = c
            elif t == self.dtls:
                for d in c:
                    if d.tag == self.tx:
                        if tx is not None:
                            return None  # a batch: generic reader
                        tx = d
            elif t == self.info:
                info = c.text
        if amt is None or book is None or ind not in ("CRDT", "DBIT"):
            return None
        try:
            value = Decimal(amt.text)
            booking = date.fromisoformat(book[:10])
            value_date = date.fromisoformat(val[:10]) if val else None
        except (InvalidOperation, ValueError, TypeError):
            return None
        if value < 0 or not value.is_finite():
            return None
        signed = value if ind == "CRDT" else -value
        ccy = amt.get("Ccy") or ccy_default
        if ccy is None:
            return None
        code = self.tx_code(code_el) if code_el is not None else None
        name = iban = e2e = structured = None
        unstructured = None
        if tx is not None:
            credit = signed >= 0
            party_tag = self.dbtr if credit else self.cdtr
            acct_tag = self.dacct if credit else self.cacct
            for c in tx:
                t = c.tag
                if t == self.refs:
                    for r in c:
                        if r.tag == self.e2e:
                            e2e = r.text
                elif t == self.pties:
                    for r in c:
                        if r.tag == party_tag:
                            for q in r:
                                if q.tag == self.nm:
                                    name = q.text
                                elif q.tag == self.pty:
                                    for w in q:
                                        if w.tag == self.nm:
                                            name = w.text
                        elif r.tag == acct_tag:
                            for q in r:
                                if q.tag == self.id:
                                    iban = q[0].text if len(q) and q[0].tag == self.iban else None
                                    if iban is None:
                                        iban = _text(q, "Othr", "Id")
                elif t == self.rmt:
                    unstructured, structured = self.remittance(c)
                elif t == self.code:
                    code = self.tx_code(c) or code
                elif t == self.addtl_tx and unstructured is None:
                    unstructured = c.text
            if e2e and e2e.strip().upper() == "NOTPROVIDED":
                e2e = None
        line = StatementLine(
            booking_date=booking,
            amount=signed,
            currency=ccy,
            value_date=value_date,
            counterparty_name=name.strip() if name else None,
            counterparty_iban=iban.strip() if iban else None,
            remittance_unstructured=unstructured or (info.strip() if info else None),
            remittance_structured=structured,
            end_to_end_id=e2e.strip() if e2e else None,
            bank_reference=svcr.strip() if svcr else None,
            bank_tx_code=code,
            is_reversal=reversal,
            entry_ref=(ref or svcr or position).strip(),
            detail_index=0,
        )
        return signed, ccy, line


def parse_camt(path: Path, head: bytes) -> CamtResult:
    """Stream a camt.052/053/054 file into statements (one per Stmt/Rpt/Ntfctn)."""
    reject_dtd(head, path)
    found = _NAMESPACE.search(head)
    if not found:
        raise StatementError(path, "/Document", "no camt.052/053/054 namespace")
    ns = found[1].decode()
    text_head = head.decode("latin-1")
    kind = stmt_tag = None
    for message, (k, tag) in _MESSAGES.items():
        if re.search(rf"<(?:\w+:)?{message}[\s>]", text_head):
            kind, stmt_tag = k, tag
    if kind is None or stmt_tag is None:
        raise StatementError(path, "/Document", "not a camt.052/053/054 message")
    reader = _FastReader(ns)
    full_stmt = f"{{{ns}}}{stmt_tag}"
    full_ntry = f"{{{ns}}}Ntry"
    full_ccy = f"{{{ns}}}Ccy"
    full_acct = f"{{{ns}}}Acct"
    full_id = f"{{{ns}}}Id"
    statements: list[Statement] = []
    notes: list[str] = []
    pending = 0
    lines: list[StatementLine] = []
    total = Decimal(0)
    entry_count = 0
    ccys: set[str] = set()
    stmt_ccy: str | None = None
    stmt_id: str | None = None
    context = etree.iterparse(
        str(path),
        events=("end",),
        tag=(full_ntry, full_stmt),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _event, elem in context:
            if elem.tag == full_ntry:
                parent = elem.getparent()
                if entry_count == 0 and not lines and parent is not None:
                    stmt_ccy = stmt_id = None
                    for c in parent:
                        if c.tag == full_acct:
                            for a in c:
                                if a.tag == full_ccy:
                                    stmt_ccy = (a.text or "").strip() or None
                        elif c.tag == full_id:
                            stmt_id = (c.text or "").strip() or None
                position = f"{stmt_id or len(statements) + 1}/{entry_count + pending + 1}"
                fast = reader.read(elem, stmt_ccy, position)
                if fast is not None:
                    signed, e_ccy, line = fast
                    total += signed
                    entry_count += 1
                    lines.append(line)
                    ccys.add(e_ccy)
                else:
                    signed, e_ccy, status, new = _read_entry(elem, path, stmt_ccy)
                    if status != "BOOK":
                        pending += 1
                    else:
                        for x in new:
                            x.entry_ref = x.entry_ref or position
                        total += signed
                        entry_count += 1
                        lines.extend(new)
                        if e_ccy:
                            ccys.add(e_ccy)
                elem.clear()
                if parent is not None:
                    parent.remove(elem)
            else:
                st, note = _header(elem, kind, path)
                if note:
                    notes.append(note)
                st.lines = lines
                st.entries_total = total
                st.entry_count = entry_count
                if st.currency is None and len(ccys) == 1:
                    st.currency = next(iter(ccys))
                statements.append(st)
                lines, total, entry_count, ccys = [], Decimal(0), 0, set()
                stmt_ccy = stmt_id = None
                elem.clear()
    except etree.XMLSyntaxError as exc:
        line_no = exc.position[0] if exc.position else None
        place = f"line {line_no}" if line_no else None
        reason = exc.msg or str(exc)
        low = reason.lower()
        if "entity" in low or "doctype" in low:
            reason = f"unsafe or malformed XML: {reason}"
        elif "end of data" in low or "premature end" in low or "not closed" in low:
            reason = f"truncated XML: {reason}"
        raise StatementError(path, place, reason) from exc
    if pending:
        notes.append(f"{pending} entries not booked (pending/information) were not loaded")
    return CamtResult(kind, statements, notes)


# ---------------------------------------------------------------------------------------------
# Fast path for big files (see the module docstring). Well-formedness first, by libxml2 in SAX
# mode with no tree and no callbacks, which also rejects any entity it does not know (there is no
# DTD); then entries are cut out of the text and read in batches.

_CHUNK = 1 << 23
_PLAIN_ROOT = re.compile(
    rb'<Document(?:\s+xmlns:\w+="[^"]*")*\s+xmlns="(urn:iso:std:iso:20022:tech:xsd:camt\.05[234]\.001\.\d\d)"'
)
_ENCODING = re.compile(rb'^<\?xml[^>]*encoding="([^"]+)"')


class _NullTarget:
    """A parser target with no callbacks: libxml2 checks the document and builds nothing."""

    def close(self) -> None:
        return None


def check_well_formed(path: Path) -> None:
    """Raise StatementError (line, reason) unless the whole file is well-formed XML."""
    parser = etree.XMLParser(
        target=_NullTarget(), resolve_entities=False, no_network=True, huge_tree=True,
        load_dtd=False,
    )  # fmt: skip
    try:
        with open(path, "rb") as fh:
            while block := fh.read(_CHUNK):
                parser.feed(block)
        parser.close()
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(path, exc) from exc


def _syntax_error(path: Path, exc: etree.XMLSyntaxError) -> StatementError:
    line_no = exc.position[0] if exc.position else None
    place = f"line {line_no}" if line_no else None
    reason = exc.msg or str(exc)
    low = reason.lower()
    if "entity" in low or "doctype" in low:
        reason = f"unsafe or malformed XML: {reason}"
    elif "end of data" in low or "premature end" in low or "not closed" in low:
        reason = f"truncated XML: {reason}"
    return StatementError(path, place, reason)


def plain_namespace(head: bytes) -> str | None:
    """The camt namespace when the file can take the fast path, else None."""
    enc = _ENCODING.match(head.lstrip(b"\xef\xbb\xbf"))
    if enc and enc[1].decode("ascii", "replace").lower().replace("_", "-") not in (
        "utf-8", "utf8", "us-ascii", "ascii",
    ):  # fmt: skip
        return None
    root = _PLAIN_ROOT.search(head)
    return root[1].decode() if root else None


def _pieces(path: Path, stmt_tag: str):
    """Yield ('header', text) for each statement's start, ('entry', text), ('end', None)."""
    open_stmt, close_stmt = f"<{stmt_tag}>", f"</{stmt_tag}>"
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    buf = ""
    in_stmt = False
    with open(path, "rb") as fh:
        while True:
            block = fh.read(_CHUNK)
            buf += decoder.decode(block, final=not block)
            pos = 0
            while True:
                if not in_stmt:
                    i = buf.find(open_stmt, pos)
                    if i < 0:
                        pos = max(pos, len(buf) - len(open_stmt))
                        break
                    n = buf.find("<Ntry>", i)
                    e = buf.find(close_stmt, i, n if n >= 0 else len(buf))
                    stops = [x for x in (n, e) if x >= 0]
                    if not stops:
                        pos = i
                        break
                    k = min(stops)
                    yield "header", buf[i + len(open_stmt) : k]
                    in_stmt, pos = True, k
                else:
                    n = buf.find("<Ntry>", pos)
                    e = buf.find(close_stmt, pos, n if n >= 0 else len(buf))
                    if e >= 0:
                        yield "end", None
                        in_stmt, pos = False, e + len(close_stmt)
                        continue
                    if n < 0:
                        break
                    end = buf.find("</Ntry>", n)
                    if end < 0:
                        pos = n
                        break
                    yield "entry", buf[n + 6 : end]
                    pos = end + 7
            buf = buf[pos:]
            if not block:
                return


_BATCH = 20_000
_V_HEAD = (
    r"^\s*(?:<NtryRef>(?P<ref>[^<]*)</NtryRef>\s*)?"
    r'<Amt Ccy="(?P<ccy>[A-Z]{3})">(?P<amt>[^<]*)</Amt>\s*'
    r"<CdtDbtInd>(?P<ind>[A-Z]{4})</CdtDbtInd>\s*"
    r"(?:<RvslInd>(?P<rvsl>[^<]*)</RvslInd>\s*)?"
    r"<Sts>\s*(?:<Cd>)?(?P<sts>[^<]*)(?:</Cd>\s*)?</Sts>\s*"
    r"(?:<BookgDt>\s*<Dt(?:Tm)?>(?P<book>[^<]*)</Dt(?:Tm)?>\s*</BookgDt>\s*)?"
    r"(?:<ValDt>\s*<Dt(?:Tm)?>(?P<val>[^<]*)</Dt(?:Tm)?>\s*</ValDt>\s*)?"
    r"(?:<AcctSvcrRef>(?P<svcr>[^<]*)</AcctSvcrRef>)?"
)
_V_DOMAIN = (
    r"<BkTxCd>\s*<Domn>\s*<Cd>(?P<d>[^<]*)</Cd>\s*<Fmly>\s*<Cd>(?P<f>[^<]*)</Cd>\s*"
    r"<SubFmlyCd>(?P<s>[^<]*)</SubFmlyCd>"
)
_V_PRTRY = r"<BkTxCd>\s*(?:<Domn>(?s:.)*?</Domn>\s*)?<Prtry>\s*<Cd>([^<]*)</Cd>"
_V_ACCOUNT = (
    r"<{role}Acct>\s*<Id>\s*(?:<IBAN>(?P<iban>[^<]*)</IBAN>|<Othr>\s*<Id>(?P<othr>[^<]*)</Id>)"
)


def _vector_fields(texts: list[str]) -> dict[str, list]:
    """Every field of a batch of plain entries at once (Polars' regex engine, in Rust).

    `route` marks the entries the element reader must take instead: batches, CDATA, comments,
    attributes other than Ccy, prefixed tags, a creditor reference without its Ref, or a head
    that does not have the usual shape.
    """
    t = pl.col("t")
    head = pl.col("head")
    dtl = pl.col("dtl")

    def leaf(col: pl.Expr, tag: str) -> pl.Expr:
        return col.str.extract(rf"<{tag}>([^<]*)</{tag}>", 1).str.strip_chars()

    def code(col: pl.Expr, which: str) -> pl.Expr:
        groups = pl.col(which)
        domain = pl.concat_str(
            [groups.struct.field(x).str.strip_chars() for x in ("d", "f", "s")], separator="/"
        )
        return pl.coalesce(domain, col.str.extract(_V_PRTRY, 1).str.strip_chars())

    def party(role: str) -> list[pl.Expr]:
        account = pl.col(f"{role}_acct")
        return [
            dtl.str.extract(rf"<{role}>\s*(?:<Pty>\s*)?<Nm>([^<]*)</Nm>", 1)
            .str.strip_chars()
            .alias(f"{role}_nm"),
            pl.coalesce(account.struct.field("iban"), account.struct.field("othr"))
            .str.strip_chars()
            .alias(f"{role}_iban"),
        ]

    def texts_of(pattern: str, strip: str) -> pl.Expr:
        return (
            dtl.str.extract_all(pattern)
            .list.eval(pl.element().str.replace(strip, "").str.strip_chars())
            .list.eval(pl.element().filter(pl.element() != ""))
            .list.join(" ")
        )

    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    split = t.str.splitn("<NtryDtls>", 2)
    frame = frame.with_columns(
        head=split.struct.field("field_0"), dtl=split.struct.field("field_1")
    )
    # Materialise each multi-group match once: a struct field read re-runs its regex otherwise.
    frame = frame.with_columns(
        hg=head.str.extract_groups(_V_HEAD),
        dtl_domain=dtl.str.extract_groups(_V_DOMAIN),
        head_domain=head.str.extract_groups(_V_DOMAIN),
        Dbtr_acct=dtl.str.extract_groups(_V_ACCOUNT.format(role="Dbtr")),
        Cdtr_acct=dtl.str.extract_groups(_V_ACCOUNT.format(role="Cdtr")),
    )
    groups = pl.col("hg")
    unusual = (
        t.str.contains("<![CDATA[", literal=True)
        | t.str.contains("<!--", literal=True)
        | t.str.contains("<?", literal=True)
        | t.str.contains(r"<[A-Za-z0-9_]+:")
        | (t.str.count_matches("<TxDtls>", literal=True) > 1)
        | (t.str.count_matches('="', literal=True) != t.str.count_matches(' Ccy="', literal=True))
        | (
            t.str.count_matches("<CdtrRefInf>", literal=True)
            != t.str.count_matches(r"</Ref>\s*</CdtrRefInf>")
        )
    )
    out = frame.select(
        *(groups.struct.field(x).str.strip_chars().alias(x) for x in ("ref", "ccy", "amt", "ind")),
        groups.struct.field("rvsl").str.strip_chars().alias("rvsl"),
        groups.struct.field("sts").str.strip_chars().alias("sts"),
        groups.struct.field("book")
        .str.strip_chars()
        .str.slice(0, 10)
        .str.to_date(strict=False)
        .alias("book"),
        groups.struct.field("val")
        .str.strip_chars()
        .str.slice(0, 10)
        .str.to_date(strict=False)
        .alias("val"),
        groups.struct.field("val").alias("val_raw"),
        groups.struct.field("svcr").str.strip_chars().alias("svcr"),
        pl.coalesce(code(dtl, "dtl_domain"), code(head, "head_domain")).alias("code"),
        leaf(dtl, "EndToEndId").alias("e2e"),
        *party("Dbtr"),
        *party("Cdtr"),
        texts_of(r"<(?:Ustrd|AddtlRmtInf)>[^<]*", r"^<[^>]*>").alias("rmt"),
        texts_of(r"<CdtrRefInf>(?s:.)*?<Ref>[^<]*", r"^(?s:.)*<Ref>").alias("refs"),
        leaf(dtl, "AddtlTxInf").alias("addtl"),
        leaf(t, "AddtlNtryInf").alias("info"),
        (
            unusual | groups.struct.field("amt").is_null() | groups.struct.field("book").is_null()
        ).alias("route"),
    )
    columns = {}
    for name in out.columns:
        series = out[name]
        values = series.to_list()
        if series.dtype == pl.String:
            for i in series.str.contains("&", literal=True).arg_true().to_list():
                values[i] = html.unescape(values[i])
        columns[name] = values
    return columns


def parse_camt_fast(path: Path, head: bytes, ns: str) -> CamtResult:
    """The fast path (see above): same statements and lines as `parse_camt`."""
    reject_dtd(head, path)
    check_well_formed(path)
    text_head = head.decode("utf-8", "replace")
    kind = stmt_tag = None
    for message, (k, tag) in _MESSAGES.items():
        if f"<{message}>" in text_head:
            kind, stmt_tag = k, tag
    if kind is None or stmt_tag is None:
        raise StatementError(path, "/Document", "not a camt.052/053/054 message")
    statements: list[Statement] = []
    notes: list[str] = []
    state = {"pending": 0, "count": 0, "total": Decimal(0)}
    header_el = None
    lines: list[StatementLine] = []
    stmt_ccy = stmt_id = None
    ccys: set[str] = set()
    batch: list[str] = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

    def element_entry(piece: str, position: str) -> None:
        elem = etree.fromstring(f'<Ntry xmlns="{ns}">{piece}</Ntry>'.encode(), parser)
        signed, e_ccy, status, new = _read_entry(elem, path, stmt_ccy)
        if status != "BOOK":
            state["pending"] += 1
            return
        for x in new:
            x.entry_ref = x.entry_ref or position
        book(signed, e_ccy, new)

    def book(signed: Decimal, e_ccy: str | None, new: list[StatementLine]) -> None:
        state["total"] += signed
        state["count"] += 1
        lines.extend(new)
        if e_ccy:
            ccys.add(e_ccy)

    def flush() -> None:
        if not batch:
            return
        cols = _vector_fields(batch)
        rows = zip(
            batch, cols["route"], cols["ref"], cols["ccy"], cols["amt"], cols["ind"],
            cols["rvsl"], cols["sts"], cols["book"], cols["val"], cols["val_raw"], cols["svcr"],
            cols["code"], cols["e2e"], cols["Dbtr_nm"], cols["Dbtr_iban"], cols["Cdtr_nm"],
            cols["Cdtr_iban"], cols["rmt"], cols["refs"], cols["addtl"], cols["info"],
            strict=True,
        )  # fmt: skip
        for (
            piece, route, ref, ccy, amt, ind, rvsl, sts, booking, value_date, val_raw, svcr,
            code, e2e, d_nm, d_iban, c_nm, c_iban, rmt, refs, addtl, info,
        ) in rows:  # fmt: skip
            ordinal = state["count"] + state["pending"] + 1
            bad_dates = booking is None or (val_raw and value_date is None)
            if route or ind not in ("CRDT", "DBIT") or bad_dates:
                position = f"{stmt_id or len(statements) + 1}/{ordinal}"
                element_entry(piece, position)
                continue
            if sts != "BOOK":
                state["pending"] += 1
                continue
            try:
                number = Decimal(amt)
            except InvalidOperation:
                element_entry(piece, f"{stmt_id or len(statements) + 1}/{ordinal}")
                continue
            if number < 0 or not number.is_finite():
                element_entry(piece, f"{stmt_id or len(statements) + 1}/{ordinal}")
                continue
            signed = number if ind == "CRDT" else -number
            debtor = signed >= 0
            if e2e and e2e.upper() == "NOTPROVIDED":
                e2e = None
            line = StatementLine(
                booking_date=booking,
                amount=signed,
                currency=ccy,
                value_date=value_date,
                counterparty_name=(d_nm if debtor else c_nm) or None,
                counterparty_iban=(d_iban if debtor else c_iban) or None,
                remittance_unstructured=rmt or addtl or info or None,
                remittance_structured=refs or None,
                end_to_end_id=e2e or None,
                bank_reference=svcr or None,
                bank_tx_code=code or None,
                is_reversal=(rvsl or "").lower() in ("true", "1"),
                entry_ref=ref or svcr or f"{stmt_id or len(statements) + 1}/{ordinal}",
                detail_index=0,
            )
            book(signed, ccy, [line])
        batch.clear()

    for kind_of, piece in _pieces(path, stmt_tag):
        if kind_of == "header":
            header_el = etree.fromstring(
                f'<{stmt_tag} xmlns="{ns}">{piece}</{stmt_tag}>'.encode(), parser
            )
            acct = _child(header_el, "Acct")
            stmt_ccy, stmt_id = _text(acct, "Ccy"), _text(header_el, "Id")
            lines, ccys = [], set()
            state["count"], state["total"] = 0, Decimal(0)
        elif kind_of == "entry":
            batch.append(piece)
            if len(batch) >= _BATCH:
                flush()
        elif header_el is not None:
            flush()
            st, note = _header(header_el, kind, path)
            if note:
                notes.append(note)
            st.lines, st.entries_total, st.entry_count = lines, state["total"], state["count"]
            if st.currency is None and len(ccys) == 1:
                st.currency = next(iter(ccys))
            statements.append(st)
            header_el = None
    if state["pending"]:
        notes.append(f"{state['pending']} entries not booked (pending/information) were not loaded")
    return CamtResult(kind, statements, notes)
