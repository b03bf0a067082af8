"""Write statements as camt.053.001.08 XML (valid against the ISO 20022 schema).

For the demo company's bank files and the ingestion benchmark. The file is written as a stream of
text, entry by entry, so a million entries never make a tree in memory. Consecutive lines that
share an `entry_ref` with detail_index >= 1 become one batch entry with one TxDtls per line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.demo.statement_writer import writable_lines

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}$")
_BUFFER = 1 << 20


def _text(value: str, limit: int) -> str:
    return escape(" ".join(value.split())[:limit])


def _amount(value: Decimal) -> str:
    return f"{abs(value):.2f}"


def _account(ident: str) -> str:
    if _IBAN.match(ident):
        return f"<Id><IBAN>{ident}</IBAN></Id>"
    return f"<Id><Othr><Id>{_text(ident, 34)}</Id></Othr></Id>"


def _tx_code(code: str | None, credit: bool) -> str:
    parts = (code or "").split("/")
    if len(parts) == 3 and all(parts):
        d, f, s = (escape(p[:4]) for p in parts)
        return (
            f"<BkTxCd><Domn><Cd>{d}</Cd><Fmly><Cd>{f}</Cd>"
            f"<SubFmlyCd>{s}</SubFmlyCd></Fmly></Domn></BkTxCd>"
        )
    if code:
        return f"<BkTxCd><Prtry><Cd>{_text(code, 35)}</Cd></Prtry></BkTxCd>"
    family = "RCDT" if credit else "ICDT"
    return (
        f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd>"
        "<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
    )


def _details(line: StatementLine, with_amount: bool) -> str:
    credit = line.amount >= 0
    out = ["<TxDtls>"]
    refs = []
    if with_amount and line.bank_reference:
        refs.append(f"<AcctSvcrRef>{_text(line.bank_reference, 35)}</AcctSvcrRef>")
    if line.end_to_end_id:
        refs.append(f"<EndToEndId>{_text(line.end_to_end_id, 35)}</EndToEndId>")
    if refs:
        out.append("<Refs>" + "".join(refs) + "</Refs>")
    if with_amount:
        out.append(
            f'<Amt Ccy="{line.currency}">{_amount(line.amount)}</Amt>'
            f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>"
        )
    if line.counterparty_name or line.counterparty_iban:
        role = "Dbtr" if credit else "Cdtr"
        parties = ""
        if line.counterparty_name:
            parties += f"<{role}><Pty><Nm>{_text(line.counterparty_name, 140)}</Nm></Pty></{role}>"
        if line.counterparty_iban:
            parties += f"<{role}Acct>{_account(line.counterparty_iban)}</{role}Acct>"
        out.append(f"<RltdPties>{parties}</RltdPties>")
    if line.remittance_unstructured or line.remittance_structured:
        rmt = ""
        if line.remittance_unstructured:
            rmt += f"<Ustrd>{_text(line.remittance_unstructured, 140)}</Ustrd>"
        if line.remittance_structured:
            rmt += (
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                f"<Ref>{_text(line.remittance_structured, 35)}</Ref></CdtrRefInf></Strd>"
            )
        out.append(f"<RmtInf>{rmt}</RmtInf>")
    out.append("</TxDtls>")
    return "".join(out)


def _entries(lines: list[StatementLine]) -> Iterator[list[StatementLine]]:
    """Group consecutive batch details (same entry_ref, detail_index >= 1) into one entry."""
    group: list[StatementLine] = []
    for line in lines:
        if group and line.detail_index >= 1 and line.entry_ref == group[0].entry_ref:
            group.append(line)
            continue
        if group:
            yield group
        group = [line]
    if group:
        yield group


def _entry(group: list[StatementLine]) -> str:
    first = group[0]
    total = sum((x.amount for x in group), Decimal(0)) if len(group) > 1 else first.amount
    credit = total >= 0
    parts = ["<Ntry>"]
    if first.entry_ref:
        parts.append(f"<NtryRef>{_text(first.entry_ref, 35)}</NtryRef>")
    parts.append(
        f'<Amt Ccy="{first.currency}">{_amount(total)}</Amt>'
        f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>"
    )
    if first.is_reversal:
        parts.append("<RvslInd>true</RvslInd>")
    parts.append(
        f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{first.booking_date.isoformat()}</Dt></BookgDt>"
    )
    if first.value_date:
        parts.append(f"<ValDt><Dt>{first.value_date.isoformat()}</Dt></ValDt>")
    if first.bank_reference and len(group) == 1:
        parts.append(f"<AcctSvcrRef>{_text(first.bank_reference, 35)}</AcctSvcrRef>")
    parts.append(_tx_code(first.bank_tx_code, credit))
    if len(group) > 1:
        parts.append(f"<NtryDtls><Btch><NbOfTxs>{len(group)}</NbOfTxs></Btch>")
        parts.extend(_details(x, True) for x in group)
        parts.append("</NtryDtls>")
    else:
        detail = _details(first, False)
        if detail != "<TxDtls></TxDtls>":
            parts.append(f"<NtryDtls>{detail}</NtryDtls>")
    parts.append("</Ntry>")
    return "".join(parts)


def _balance(code: str, amount: Decimal, currency: str, when: date) -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="{currency}">{_amount(amount)}</Amt>'
        f"<CdtDbtInd>{'CRDT' if amount >= 0 else 'DBIT'}</CdtDbtInd>"
        f"<Dt><Dt>{when.isoformat()}</Dt></Dt></Bal>"
    )


def write_camt053(
    path: Path, statements: Iterable[Statement], *, message_id: str | None = None
) -> int:
    """Write the statements as one camt.053.001.08 message; returns the number of entries."""
    now = datetime.now().replace(microsecond=0)
    msg_id = message_id or f"O2C-{now:%Y%m%d%H%M%S}"
    written = 0
    with open(path, "w", encoding="utf-8", buffering=_BUFFER) as out:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NAMESPACE}">')
        out.write(
            f"<BkToCstmrStmt><GrpHdr><MsgId>{_text(msg_id, 35)}</MsgId>"
            f"<CreDtTm>{now.isoformat()}</CreDtTm></GrpHdr>\n"
        )
        for n, st in enumerate(statements, start=1):
            lines = writable_lines(st, n, "camt.053")
            start = st.from_date or (min(x.booking_date for x in lines) if lines else now.date())
            end = st.to_date or (max(x.booking_date for x in lines) if lines else start)
            out.write(
                f"<Stmt><Id>{_text(st.statement_ref or f'{msg_id}-{n}', 35)}</Id>"
                f"<CreDtTm>{now.isoformat()}</CreDtTm>"
                f"<FrToDt><FrDtTm>{start.isoformat()}T00:00:00</FrDtTm>"
                f"<ToDtTm>{end.isoformat()}T23:59:59</ToDtTm></FrToDt>"
                f"<Acct>{_account(st.account_iban)}<Ccy>{st.currency}</Ccy></Acct>"
                + _balance("OPBD", st.opening_balance, st.currency, start)
                + _balance("CLBD", st.closing_balance, st.currency, end)
                + "\n"
            )
            for group in _entries(lines):
                out.write(_entry(group))
                out.write("\n")
                written += 1
            out.write("</Stmt>\n")
        out.write("</BkToCstmrStmt></Document>\n")
    return written
