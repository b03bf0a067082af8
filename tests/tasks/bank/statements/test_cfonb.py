"""CFONB 120 samples: movements, credit and debit totals, balance check, complement records."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from o2c.tasks.bank.statements.balance import check_balance
from o2c.tasks.bank.statements.cfonb import french_iban
from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.statements.errors import StatementError

# file: (04 records per statement, balance status per statement); counts by hand, statuses from
# samples/README.md.
CASES = {
    "akretion-python-cfonb__bank_statement.cfo": ([4], ["unbalanced"]),
    "oca-l10n-france__cfonb_classic.cfo": ([13], ["balanced"]),
    "pennylane-cfonb__example.txt": ([3, 3], ["balanced", "balanced"]),
    "silarhi-cfonb-parser__complex-test.txt": ([1, 2, 0, 1, 0, 1, 0, 0], ["balanced"] * 8),
}

_LAST = {"{": (1, 0), "}": (-1, 0)}
_LAST.update({c: (1, i) for i, c in enumerate("ABCDEFGHI", 1)})
_LAST.update({c: (-1, i) for i, c in enumerate("JKLMNOPQR", 1)})


def independent_totals(raw: bytes) -> tuple[Decimal, Decimal]:
    """Sum the 04 records' amount columns (91-104) with their decimals column (20)."""
    credits = debits = Decimal(0)
    for record in raw.decode("latin-1").splitlines():
        if not record.startswith("04"):
            continue
        field = record[90:104]
        sign, digit = _LAST[field[-1]]
        value = Decimal(sign * int(field[:-1] + str(digit))) / 10 ** int(record[19])
        if sign > 0:
            credits += value
        else:
            debits += value
    return credits, debits


@pytest.mark.samples
@pytest.mark.parametrize("name", sorted(CASES))
def test_sample(samples: Path, totals, name: str) -> None:
    entries, statuses = CASES[name]
    path = samples / "cfonb120" / name
    parsed = parse_file(path)
    assert parsed.format == "cfonb120"
    assert [st.entry_count for st in parsed.statements] == entries
    count, credits, debits = totals(parsed.statements)
    assert count == sum(entries)
    assert (credits, debits) == independent_totals(path.read_bytes())
    assert [check_balance(st).status for st in parsed.statements] == statuses


@pytest.mark.samples
def test_classic_balances_and_complements(samples: Path) -> None:
    st = parse_file(samples / "cfonb120/oca-l10n-france__cfonb_classic.cfo").statements[0]
    # figures from SOURCES.md: opening 1017311.89, closing 1031585.79, 13 operations
    assert (st.opening_balance, st.closing_balance) == (
        Decimal("1017311.89"), Decimal("1031585.79"),
    )  # fmt: skip
    assert st.account_iban == "FR7630003012340123456789057"
    first = st.lines[0]
    assert first.amount == Decimal("1040.17")  # ...0010401G: G = +7
    assert first.counterparty_name == "MA JOLIE BOUTIQUE"  # 05 NPY
    assert first.remittance_unstructured == "facture F230875"  # 05 LIB
    three = st.lines[1]  # one transfer paying three invoices
    assert "F230866 F230765 F238765" in three.remittance_unstructured
    assert three.end_to_end_id == "0018937"  # 05 RCN


@pytest.mark.samples
def test_reference_zone_is_bank_reference(samples: Path) -> None:
    st = parse_file(samples / "cfonb120/pennylane-cfonb__example.txt").statements[0]
    assert st.lines[1].bank_reference == "REFERENCE"
    assert st.lines[0].amount == Decimal("-32.21")  # ...0000322J: J = -1


def test_french_iban_from_rib() -> None:
    # RIB 30003 01234 01234567890, key 97 - (89*30003 + 15*1234 + 3*1234567890) % 97 = 57
    assert french_iban("30003", "01234", "01234567890") == "FR7630003012340123456789057"


def test_truncated_file_is_rejected(samples: Path, tmp_path: Path) -> None:
    raw = (samples / "cfonb120/oca-l10n-france__cfonb_classic.cfo").read_bytes()
    cut = tmp_path / "cut.cfo"
    cut.write_bytes(raw[: raw.rindex(b"\n07")])
    with pytest.raises(StatementError, match=r"cut\.cfo, end of file: truncated"):
        parse_file(cut)


def test_bad_sign_character_names_the_line(samples: Path, tmp_path: Path) -> None:
    lines = (samples / "cfonb120/oca-l10n-france__cfonb_classic.cfo").read_text().splitlines()
    lines[1] = lines[1][:103] + "#" + lines[1][104:]
    bad = tmp_path / "bad.cfo"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(StatementError, match=r"bad\.cfo, line 2: bad amount sign"):
        parse_file(bad)


@pytest.mark.samples
def test_records_without_line_breaks(samples: Path, tmp_path: Path) -> None:
    lines = (samples / "cfonb120/oca-l10n-france__cfonb_classic.cfo").read_text().splitlines()
    flat = tmp_path / "flat.cfo"
    flat.write_text("".join(x.ljust(120) for x in lines))
    (st,) = parse_file(flat).statements
    assert st.entry_count == 13
    assert check_balance(st).status == "balanced"


@pytest.mark.samples
@pytest.mark.parametrize(
    ("decimals", "digits", "expected"),
    [
        ("3", None, r"line 1 \(entry .*\), amount: amount -3\.221 has a fraction of a cent"),
        ("0", "9999999999999I", r"line 1 \(entry .*\), amount: amount 99999999999999 is beyond"),
    ],
)
def test_amount_outside_the_bounds_refuses_the_file(
    samples: Path, tmp_path: Path, decimals: str, digits: str | None, expected: str
) -> None:
    """Issue 14: below the cent or beyond 10^12 units (models/bounds.py), named by entry."""
    lines = (samples / "cfonb120/pennylane-cfonb__example.txt").read_text().splitlines()
    first = next(i for i, x in enumerate(lines) if x.startswith("04"))
    record = lines[first][:19] + decimals + lines[first][20:]
    if digits:
        record = record[:90] + digits + record[104:]
    lines[first] = record
    bad = tmp_path / "bad.cfo"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(StatementError, match=rf"bad\.cfo, statement .*, {expected}"):
        parse_file(bad)
