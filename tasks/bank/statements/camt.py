"""ISO 20022 bank-to-customer cash management messages: camt.053 (statement), camt.052 (report),
camt.054 (debit/credit notification), versions 001.02 to 001.08.

The versions differ in places this parser does not read (party identification, proprietary
codes), so one reader serves them all: it matches elements by local name whatever the namespace.

This module is the element reader: `parse_camt` streams any file through lxml's iterparse,
reading each finished `Ntry` then dropping it. Big plain files go to the columnar reader
(camt_columns.py), which hands it the entries of unusual shape. Safety: a DTD is refused before
parsing (no entity can be declared, so none is expanded: XXE and billion-laughs files are
rejected), and libxml2 runs with entity resolution, DTD loading and network access off.

Only booked entries (`Sts` BOOK, or no status) become lines: pending and information-only entries
of intraday reports do not move the booked balance; they are counted in the parse notes.

A transaction's remittance is read whole (`read_remittance`): every `Ustrd` and `AddtlRmtInf` as
text, every creditor reference, every referred document with its amount. The entry's
`AddtlNtryInf` ("REMISE DE 3 VIREMENTS") becomes the text only of a transaction that has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

from o2c.models.bank import RemittanceDocument, Statement, StatementLine
from o2c.models.bounds import amount_problem
from o2c.tasks.bank.statements.errors import StatementError

# The message element below Document gives the kind; the statement-level element repeats.
MESSAGES = {
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
    problem = amount_problem(value)  # before cents: beyond the bound they overflow Int64
    if problem:
        raise StatementError(file, _path(elem), problem)
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


_RF = re.compile(r"RF\d\d", re.IGNORECASE)


@dataclass(slots=True)
class Remittance:
    """What a transaction's `RmtInf` says: its text, its creditor references, its documents."""

    text: str | None = None
    references: str | None = None  # every CdtrRefInf/Ref, RF ones first, space-separated
    documents: list[RemittanceDocument] | None = None

    def __bool__(self) -> bool:
        return bool(self.text or self.references or self.documents)


def read_remittance(rmt: etree._Element | None, ccy: str | None, file: Path) -> Remittance:
    """Every `Ustrd` and `Strd` of one `RmtInf`: texts (`Ustrd`, then each `AddtlRmtInf`) joined
    by a space, creditor references of any type, and each referred document with its amount."""
    if rmt is None:
        return Remittance()
    texts: list[str] = []
    extra: list[str] = []
    refs: list[str] = []
    documents: list[RemittanceDocument] = []
    for c in rmt:
        name = _local(c.tag)
        if name == "Ustrd":
            if text := (c.text or "").strip():
                texts.append(text)
        elif name == "Strd":
            infos = []
            amounts = None
            own_refs = len(refs)
            for part in c:
                part_name = _local(part.tag)
                if part_name == "CdtrRefInf":
                    if ref := _text(part, "Ref"):
                        refs.append(ref)
                elif part_name == "AddtlRmtInf":
                    if text := (part.text or "").strip():
                        extra.append(text)
                elif part_name == "RfrdDocInf":
                    infos.append(part)
                elif part_name == "RfrdDocAmt":
                    amounts = part
            named = refs[own_refs] if len(refs) > own_refs else None
            documents.extend(_documents(infos, amounts, named, ccy, file))
    ordered = sorted(dict.fromkeys(refs), key=lambda r: not _RF.match(r))
    return Remittance(
        text=" ".join(texts + extra) or None,
        references=" ".join(ordered) or None,
        documents=documents or None,
    )


def _documents(
    infos: list[etree._Element],
    amounts: etree._Element | None,
    reference: str | None,
    ccy: str | None,
    file: Path,
) -> list[RemittanceDocument]:
    """One element per `RfrdDocInf` of a `Strd`. Its `RfrdDocAmt` belongs to the document when
    the `Strd` names one (else each document's own `LineDtls/Amt`, when it has one): `RmtdAmt`,
    else `DuePyblAmt`, else `CdtNoteAmt`, and what the payer took off it (`_adjustment`). A
    credit note (`CREN`, or an amount given as `CdtNoteAmt`) is netted by the payer: its amount
    is negative. An amount in another currency
    than the line's is not one of its amounts: null. Amounts with no document named pay the
    `Strd`'s creditor reference."""
    if amounts is not None and not infos:
        infos = [None]  # type: ignore[list-item]  # amounts with no document named
    docs: list[RemittanceDocument] = []
    for info in infos:
        own = amounts if len(infos) == 1 else None
        if own is None and info is not None:
            lines = [d for d in info if _local(d.tag) == "LineDtls"]
            own = _child(lines[0], "Amt") if len(lines) == 1 else None
        doc_type = None
        if info is not None:
            kind = _child(info, "Tp")
            doc_type = _text(kind, "CdOrPrtry", "Cd") or _text(kind, "CdOrPrtry", "Prtry")
        adjustment, why = _adjustment(own, ccy, file)
        docs.append(
            {
                "doc_number": _text(info, "Nb") if info is not None else reference,
                "doc_type": doc_type,
                "doc_date": _related_date(info, file),
                "amount_cents": _document_cents(own, doc_type, ccy, file),
                "adjustment_cents": adjustment,
                "adjustment_reason": why,
            }
        )
    return docs


def _adjustment(
    amounts: etree._Element | None, ccy: str | None, file: Path
) -> tuple[int | None, str | None]:
    """What the payer took off the document (`AdjstmntAmtAndRsn`, each a debit taken off or a
    credit added), in cents, and its reasons (`Rsn` and `AddtlInf`) as one text; (None, None)
    when it took nothing off. A discount has its own element (`DscntApldAmt`) and is not one."""
    if amounts is None:
        return None, None
    cents, reasons = 0, []
    for adj in (a for a in amounts if _local(a.tag) == "AdjstmntAmtAndRsn"):
        elem = _child(adj, "Amt")
        if elem is None:
            continue
        value, adj_ccy = _amount(elem, file)
        if adj_ccy and ccy and adj_ccy != ccy:
            return None, None
        scaled = value.scaleb(2)
        if scaled != int(scaled):
            raise StatementError(file, _path(elem), f"amount {value} has a fraction of a cent")
        credit = (_text(adj, "CdtDbtInd") or "DBIT").upper() == "CRDT"
        cents += -int(scaled) if credit else int(scaled)
        reasons.append(" ".join(filter(None, (_text(adj, "Rsn"), _text(adj, "AddtlInf")))))
    if not reasons:
        return None, None
    return cents, "; ".join(r for r in reasons if r) or None


def _related_date(info: etree._Element | None, file: Path) -> date | None:
    node = _child(info, "RltdDt") if info is not None else None
    if node is None:
        return None
    raw = (node.text or "").strip() or _text(node, "Dt")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise StatementError(file, _path(node), f"bad date {raw!r}") from exc


def _document_cents(
    amounts: etree._Element | None, doc_type: str | None, ccy: str | None, file: Path
) -> int | None:
    if amounts is None:
        return None
    for name, sign in (("RmtdAmt", 1), ("DuePyblAmt", 1), ("CdtNoteAmt", -1)):
        elem = _child(amounts, name)
        if elem is None:
            continue
        value, doc_ccy = _amount(elem, file)
        if doc_ccy and ccy and doc_ccy != ccy:
            return None
        scaled = value.scaleb(2)
        if scaled != int(scaled):
            raise StatementError(file, _path(elem), f"amount {value} has a fraction of a cent")
        if doc_type == "CREN":
            sign = -1
        return sign * int(scaled)
    return None


class _Entry:
    """The entry-level facts a detail line inherits."""

    __slots__ = ("booking", "code", "info", "ref", "reversal", "svcr_ref", "value", "value_date")


def read_entry(
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
    name = iban = unstructured = structured = e2e = ultimate = None
    documents: list[RemittanceDocument] | None = None
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
        ultimate, _ = _party(parties, "UltmtDbtr" if signed >= 0 else "UltmtCdtr")
        remittance = read_remittance(_child(tx, "RmtInf"), ccy, file)
        unstructured, structured = remittance.text, remittance.references
        documents = remittance.documents
        if unstructured is None:
            unstructured = _text(tx, "AddtlTxInf")
    if unstructured is None and structured is None and documents is None:
        # The entry's text only for a transaction that says nothing itself: a batch's
        # "REMISE DE 3 VIREMENTS" is not the remittance of each of its transfers.
        unstructured = entry.info
    if ultimate:  # on whose behalf a third party (factor, parent company) pays: kept visible
        unstructured = f"{unstructured} {ultimate}" if unstructured else ultimate
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
        remittance_documents=documents,
    )


def read_header(stmt: etree._Element, kind: str, file: Path) -> tuple[Statement, str | None]:
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


def account_currency(stmt: etree._Element) -> str | None:
    """`Acct/Ccy` of a statement: the currency of its entries that name none."""
    return _text(_child(stmt, "Acct"), "Ccy")


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


def parse_camt(path: Path, head: bytes) -> CamtResult:
    """Stream a camt.052/053/054 file into statements (one per Stmt/Rpt/Ntfctn)."""
    reject_dtd(head, path)
    found = _NAMESPACE.search(head)
    if not found:
        raise StatementError(path, "/Document", "no camt.052/053/054 namespace")
    ns = found[1].decode()
    text_head = head.decode("latin-1")
    kind = stmt_tag = None
    for message, (k, tag) in MESSAGES.items():
        if re.search(rf"<(?:\w+:)?{message}[\s>]", text_head):
            kind, stmt_tag = k, tag
    if kind is None or stmt_tag is None:
        raise StatementError(path, "/Document", "not a camt.052/053/054 message")
    full_stmt = f"{{{ns}}}{stmt_tag}"
    full_ntry = f"{{{ns}}}Ntry"
    full_ccy = f"{{{ns}}}Ccy"
    full_acct = f"{{{ns}}}Acct"
    full_id = f"{{{ns}}}Id"
    statements: list[Statement] = []
    notes: list[str] = []
    pending = 0  # in the whole file, for the note
    lines: list[StatementLine] = []
    total = Decimal(0)
    entry_count = 0
    seen = 0  # entries of this statement, booked or not: the ordinal in a made-up entry_ref
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
                if seen == 0 and parent is not None:
                    stmt_ccy = stmt_id = None
                    for c in parent:
                        if c.tag == full_acct:
                            for a in c:
                                if a.tag == full_ccy:
                                    stmt_ccy = (a.text or "").strip() or None
                        elif c.tag == full_id:
                            stmt_id = (c.text or "").strip() or None
                seen += 1
                position = f"{stmt_id or len(statements) + 1}/{seen}"
                signed, e_ccy, status, new = read_entry(elem, path, stmt_ccy)
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
                st, note = read_header(elem, kind, path)
                if note:
                    notes.append(note)
                st.lines = lines
                st.entries_total = total
                st.entry_count = entry_count
                if st.currency is None and len(ccys) == 1:
                    st.currency = next(iter(ccys))
                statements.append(st)
                lines, total, entry_count, seen, ccys = [], Decimal(0), 0, 0, set()
                stmt_ccy = stmt_id = None
                elem.clear()
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(path, exc) from exc
    if pending:
        notes.append(f"{pending} entries not booked (pending/information) were not loaded")
    return CamtResult(kind, statements, notes)


# ---------------------------------------------------------------------------------------------
# For the columnar reader (camt_columns.py): which files it takes, and the well-formedness check
# by libxml2 in SAX mode with no tree and no callbacks, which also rejects any entity it does not
# know (there is no DTD).

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
    reason = re.sub(r"^xml\w+: ", "", exc.msg or str(exc))  # libxml2's function name
    reason = re.sub(r", line \d+, column \d+$", "", reason)  # already in the place
    if "xmlchar value" in reason.lower() or "char value" in reason.lower():
        reason = f"{reason} (a control character, which XML forbids)"
    low = reason.lower()
    if "entity" in low or "doctype" in low:
        reason = f"unsafe or malformed XML: {reason}"
    elif "end of data" in low or "premature end" in low or "not closed" in low:
        reason = f"truncated XML: {reason}"
    return StatementError(path, place, reason)


def plain_namespace(head: bytes) -> str | None:
    """The camt namespace when the columnar reader can take the file, else None."""
    enc = _ENCODING.match(head.lstrip(b"\xef\xbb\xbf"))
    if enc and enc[1].decode("ascii", "replace").lower().replace("_", "-") not in (
        "utf-8", "utf8", "us-ascii", "ascii",
    ):  # fmt: skip
        return None
    root = _PLAIN_ROOT.search(head)
    return root[1].decode() if root else None
