"""Write statements as MT940 (one message per statement), for the ingestion benchmark and demos.

:86: carries the Dutch tag style (/EREF/ /NAME/ /IBAN/ /REMI/), wrapped at 65 columns, which the
parser reads back into the same fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.demo.statement_writer import writable_lines

_BUFFER = 1 << 20


def _amount(value: Decimal) -> str:
    return f"{abs(value):.2f}".replace(".", ",")


def _yymmdd(d: date) -> str:
    return d.strftime("%y%m%d")


def _balance(tag: str, amount: Decimal, currency: str, when: date) -> str:
    mark = "C" if amount >= 0 else "D"
    return f":{tag}:{mark}{_yymmdd(when)}{currency}{_amount(amount)}\r\n"


def _clean(value: str) -> str:
    return " ".join(value.replace("/", " ").split())


def _line(line: StatementLine) -> str:
    if line.is_reversal:
        mark = "RD" if line.amount >= 0 else "RC"
    else:
        mark = "C" if line.amount >= 0 else "D"
    code = line.bank_tx_code if line.bank_tx_code and len(line.bank_tx_code) == 4 else "NTRF"
    ref = f"//{line.bank_reference[:16]}" if line.bank_reference else ""
    out = (
        f":61:{_yymmdd(line.value_date or line.booking_date)}{line.booking_date:%m%d}"
        f"{mark}{_amount(line.amount)}{code}NONREF{ref}\r\n"
    )
    info = ""
    if line.end_to_end_id:
        info += f"/EREF/{_clean(line.end_to_end_id)}"
    if line.counterparty_name:
        info += f"/NAME/{_clean(line.counterparty_name)}"
    if line.counterparty_iban:
        info += f"/IBAN/{line.counterparty_iban}"
    if line.remittance_unstructured:
        info += f"/REMI/{_clean(line.remittance_unstructured)}"
    if info:
        info = info[: 6 * 65]
        chunks = [info[i : i + 65] for i in range(0, len(info), 65)]
        out += ":86:" + "\r\n".join(chunks) + "\r\n"
    return out


def write_mt940(path: Path, statements: Iterable[Statement]) -> int:
    """Write each statement as an MT940 message; returns the number of :61: lines."""
    written = 0
    with open(path, "w", encoding="utf-8", newline="", buffering=_BUFFER) as out:
        for n, st in enumerate(statements, start=1):
            lines = writable_lines(st, n, "MT940")
            start = st.from_date or min(x.booking_date for x in lines)
            end = st.to_date or max(x.booking_date for x in lines)
            out.write(f":20:{(st.statement_ref or f'O2C{n}')[:16]}\r\n")
            out.write(f":25:{st.account_iban}\r\n:28C:{n}/1\r\n")
            out.write(_balance("60F", st.opening_balance, st.currency, start))
            for line in lines:
                out.write(_line(line))
                written += 1
            out.write(_balance("62F", st.closing_balance, st.currency, end))
            out.write("-\r\n")
    return written
