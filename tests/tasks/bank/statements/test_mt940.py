"""MT940 samples: entries, credit and debit totals, balance check, and each :86: dialect."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.tasks.bank.statements.balance import check_balance
from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.statements.errors import StatementError

# file: (entries per statement, balance status per statement). Counts by hand, statuses from
# samples/README.md (test-sns.940's last statement has no closing balance).
CASES = {
    "oca-bsi__test-ing.940": ([8], ["balanced"]),
    "oca-bsi__test-rabo.swi": ([1, 0, 1, 0], ["balanced"] * 4),
    "oca-bsi__test-sns.940": ([4, 2, 2], ["balanced", "balanced", "unchecked"]),
    "php-mt940__penta_sample.sta": ([30], ["balanced"]),
    "php-mt940__spk_sample.sta": ([4, 4, 1, 1], ["balanced"] * 4),
    "wolph-mt940__betterplace_sepa_snippet.sta": ([4, 7], ["balanced", "unbalanced"]),
    "wolph-mt940__cmxl_mt940.sta": ([11, 2, 3], ["balanced"] * 3),
    "wolph-mt940__jejik_abnamro.sta": ([8, 2], ["unbalanced", "unbalanced"]),
    "wolph-mt940__jejik_triodos.sta": ([2], ["unbalanced"]),
    "wolph-mt940__mbank_mt940.sta": ([3], ["balanced"]),
}

_61 = re.compile(r"^:61:\d{6}(?:\d{4})?(RC|RD|C|D)[A-Z]?(\d+,\d*)", re.M)


def independent_totals(raw: bytes) -> tuple[Decimal, Decimal]:
    """Credits and debits straight from the :61: lines (RC is a debit, RD a credit)."""
    credits = debits = Decimal(0)
    for mark, amount in _61.findall(raw.decode("latin-1")):
        value = Decimal(amount.replace(",", "."))
        if mark in ("C", "RD"):
            credits += value
        else:
            debits -= value
    return credits, debits


@pytest.mark.samples
@pytest.mark.parametrize("name", sorted(CASES))
def test_sample(samples: Path, name: str) -> None:
    entries, statuses = CASES[name]
    path = samples / "mt940" / name
    parsed = parse_file(path)
    assert parsed.format == "mt940"
    assert [st.entry_count for st in parsed.statements] == entries
    lines = [x for st in parsed.statements for x in st.line_rows()]
    count = len(lines)
    credits = sum((x.amount for x in lines if x.amount > 0), Decimal(0))
    debits = sum((x.amount for x in lines if x.amount < 0), Decimal(0))
    assert count == sum(entries)
    assert (credits, debits) == independent_totals(path.read_bytes())
    assert [check_balance(st).status for st in parsed.statements] == statuses


@pytest.mark.samples
def test_ing_tags(samples: Path) -> None:
    st = parse_file(samples / "mt940/oca-bsi__test-ing.940").statements[0]
    assert st.account_iban == "NL77INGB0574908765"
    # 662.23 + (1.56 - 1.57 + 1.57 - 1.14 + 1.45 - 12.75 + 32.00 - 119.00) = 564.35
    check = check_balance(st)
    assert (check.opening, check.movements, check.closing) == (
        Decimal("662.23"), Decimal("-97.88"), Decimal("564.35"),
    )  # fmt: skip
    lines = st.line_rows()
    first = lines[0]
    assert first.end_to_end_id == "EV12341REP1231456T1234"
    assert first.counterparty_iban == "NL32INGB0000012345"
    assert first.counterparty_name == "ING BANK NV INZAKE WEB"
    assert first.remittance_unstructured == "EV10001REP1000000T1000"
    # text wrapped mid-word over lines ("CO" / "NTRIBUTIE") is joined back
    assert lines[5].remittance_unstructured == "CONTRIBUTIE FEB 2014"
    assert lines[6].remittance_structured == "9001123412341234"
    assert first.bank_tx_code == "NTRF"


@pytest.mark.samples
def test_german_subfields(samples: Path) -> None:
    st = parse_file(samples / "mt940/wolph-mt940__betterplace_sepa_snippet.sta").statements[0]
    line = st.line_rows()[0]
    assert line.amount == Decimal("50990.05")
    assert line.booking_date == date(2007, 9, 4) and line.value_date == date(2007, 9, 7)
    assert line.bank_reference == "0724710333343453"
    assert line.counterparty_iban == "DE14508800500194785000"  # ?31
    assert line.counterparty_name == "KARL KAUFMANN"  # ?32 + ?33
    assert line.end_to_end_id == "EndToEndId TFNR 22 004 00001"  # EREF+ over ?20/?21
    assert line.remittance_unstructured == "Verw CTSc-01 BC-PPP TFNr 22 004"  # SVWZ+


@pytest.mark.samples
def test_triodos_and_mbank(samples: Path) -> None:
    tri = parse_file(samples / "mt940/wolph-mt940__jejik_triodos.sta").statements[0].line_rows()
    assert tri[1].remittance_unstructured == "HUUR KANTOOR - FEB 2010"  # >20 + >21
    mbank = parse_file(samples / "mt940/wolph-mt940__mbank_mt940.sta").statements[0]
    assert mbank.account_iban == "PL29114010810000267002001002"  # SOH/ETX bytes ignored
    assert mbank.line_rows()[0].bank_reference == "MB170119012058"


@pytest.mark.samples
def test_legacy_code_page(samples: Path, tmp_path: Path) -> None:
    raw = (samples / "mt940/php-mt940__spk_sample.sta").read_bytes()
    latin = tmp_path / "spk-cp1252.sta"
    latin.write_bytes(raw.replace("M\u0161LLER".encode(), "MÜLLER".encode("cp1252")))
    line = parse_file(latin).statements[0].line_rows()[0]
    assert line.counterparty_name.startswith("MÜLLER, GRETEL")


def test_bad_amount_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.sta"
    path.write_text(":20:X\n:25:DE1\n:60F:C240101EUR1,00\n:61:240102C1;00NTRFNONREF\n")
    with pytest.raises(StatementError, match=r"bad.sta, line 4 \(:61:\)"):
        parse_file(path)
