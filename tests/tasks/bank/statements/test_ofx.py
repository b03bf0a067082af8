"""OFX samples (1.x SGML and 2.x XML): transactions, totals, and the unchecked balance."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.tasks.bank.statements.balance import check_balance
from o2c.tasks.bank.statements.detect import parse_file

# file: (transactions per statement, closing balance per statement), read by hand
CASES = {
    "oca-bsi__test_ofx.ofx": ([4, 0], [Decimal("2156.56"), Decimal("-562.00")]),
    "oca-bsi__test_ofx_iban.ofx": ([4, 0], [Decimal("2156.56"), Decimal("-562.00")]),
    "ofxparse__bank_medium.ofx": ([3], [Decimal("382.34")]),
    "ofxparse__checking.ofx": ([3], [Decimal("100.99")]),
    "ofxparse__suncorp.ofx": ([1], [Decimal("1234.12")]),
}


def independent_totals(text: str) -> tuple[Decimal, Decimal]:
    amounts = [Decimal(x) for x in re.findall(r"<TRNAMT>\s*([-+\d.]+)", text)]
    return sum((a for a in amounts if a > 0), Decimal(0)), sum((a for a in amounts if a < 0), 0)


@pytest.mark.samples
@pytest.mark.parametrize("name", sorted(CASES))
def test_sample(samples: Path, totals, name: str) -> None:
    entries, closings = CASES[name]
    path = samples / "ofx" / name
    parsed = parse_file(path)
    assert parsed.format == "ofx"
    assert [st.entry_count for st in parsed.statements] == entries
    count, credits, debits = totals(parsed.statements)
    assert count == sum(entries)
    assert (credits, debits) == independent_totals(path.read_text(encoding="latin-1"))
    assert [st.closing_balance for st in parsed.statements] == closings
    # OFX has no opening balance: the check says it could not check, never "balanced"
    assert {check_balance(st).status for st in parsed.statements} == {"unchecked"}


@pytest.mark.samples
def test_sgml_fields(samples: Path) -> None:
    st = parse_file(samples / "ofx/ofxparse__checking.ofx").statements[0]
    first = st.lines[0]
    assert first.booking_date == date(2011, 3, 31)
    assert first.amount == Decimal("0.01")
    assert first.bank_reference == "0000486"  # FITID
    assert first.currency == "USD"


@pytest.mark.samples
def test_french_account_gives_iban(samples: Path) -> None:
    st = parse_file(samples / "ofx/oca-bsi__test_ofx_iban.ofx").statements[0]
    assert st.account_iban == "FR7630001007941234567890185"
