"""MT942, the intraday interim report: told from an MT940, read by the same reader, checked by
its own entry counts and sums since it has no balances."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.tasks.bank.statements.balance import check_balance
from o2c.tasks.bank.statements.detect import detect_format, parse_file
from o2c.tasks.bank.statements.errors import StatementError
from tests.tasks.bank.statements.test_mt940_columns import assert_same_as_rows

ENTRIES = (
    ":61:2611031103C250,00NTRFNONREF//B1\n"
    ":86:166?00SEPA-UEBERWEISUNG?20EREF+E2E-77?21SVWZ+RE 2026-001 RE 2026?22-002?23ABWA+ACME\n"
    " NORD?32ACME GMBH?31DE02120300000000202051\n"
    ":61:2611031103D40,50NDDTNONREF//B2\n"
    ":61:2611031103C9,50NTRFNONREF//B3\n"
    ":86:166?20SVWZ+RE 2026-003?32BETA KG\n"
)


def report(entries: str = ENTRIES, debits: str = "1EUR40,50", credits: str = "2EUR259,50") -> str:
    return (
        ":20:INTRADAY1\n:25:DE89370400440532013000\n:28C:7/1\n:34F:EUR0,\n"
        f":13D:2611031015+0100\n{entries}:90D:{debits}\n:90C:{credits}\n"
        ":86:Intraday report of the account\n-\n"
    )


def test_detected_and_read_as_mt942(tmp_path: Path) -> None:
    path = tmp_path / "intraday.txt"
    path.write_text(report())
    assert detect_format(path.read_bytes()) == "mt942"
    parsed = parse_file(path)
    assert parsed.format == "mt942"
    (st,) = parsed.statements
    assert (st.format, st.currency, st.account_iban) == ("mt942", "EUR", "DE89370400440532013000")
    assert (st.from_date, st.to_date) == (date(2026, 11, 3), date(2026, 11, 3))
    assert (st.opening_balance, st.closing_balance) == (None, None)
    assert (st.entry_count, st.entries_total) == (3, Decimal("219.00"))
    first, second, third = st.line_rows()
    assert first.end_to_end_id == "E2E-77"
    assert first.remittance_unstructured == "RE 2026-001 RE 2026-002 ACME NORD"  # ABWA kept
    assert (first.counterparty_name, first.counterparty_iban) == (
        "ACME GMBH", "DE02120300000000202051",
    )  # fmt: skip
    # the report's own :86: after :90C: is no entry's text
    assert second.remittance_unstructured is None
    assert third.remittance_unstructured == "RE 2026-003"
    check = check_balance(st)
    assert check.ok and check.status == "unchecked" and "MT942" in check.reason


def test_columns_and_rows_agree() -> None:
    lines = assert_same_as_rows(report().encode())
    assert [x.amount for x in lines] == [Decimal("250.00"), Decimal("-40.50"), Decimal("9.50")]


def test_counts_and_sums_that_do_not_add_up_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "intraday.txt"
    path.write_text(report(credits="2EUR259,00"))
    with pytest.raises(StatementError, match=r"line 13 \(:90C:\).*2 credit entries for 259.00"):
        parse_file(path)
    path.write_text(report(debits="2EUR40,50"))
    with pytest.raises(StatementError, match=r":90D:.*holds 1 for 40.50"):
        parse_file(path)


def test_without_counts_and_in_swift_blocks(tmp_path: Path) -> None:
    """A bank that leaves out :90D:/:90C: and wraps the report in SWIFT blocks."""
    body = (
        ":20:INTRA\n:25:NL77INGB0574908765\n:28C:1\n:34F:EURD0,\n:34F:EURC0,\n"
        ":13D:2611031200+0100\n:61:2611031103C12,00NTRFNONREF\n:86:/EREF/E1/REMI/USTD//INV 9\n"
    )
    path = tmp_path / "intraday.sta"
    path.write_text(
        "{1:F01INGBNL2AXXXX0000000000}{2:O9421200261103INGBNL2AXXXX}{4:\n" + body + "-}"
    )
    parsed = parse_file(path)
    assert parsed.format == "mt942"
    (line,) = parsed.statements[0].line_rows()
    assert (line.amount, line.currency, line.remittance_unstructured) == (
        Decimal("12.00"), "EUR", "INV 9",
    )  # fmt: skip


def test_bad_date_time_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "intraday.txt"
    path.write_text(report().replace(":13D:2611031015+0100", ":13D:26113"))
    with pytest.raises(StatementError, match=r"line 5 \(:13D:\).*bad date and time"):
        parse_file(path)


def test_an_mt940_stays_an_mt940(samples: Path) -> None:
    parsed = parse_file(samples / "mt940/oca-bsi__test-ing.940")
    assert parsed.format == "mt940"
    assert all(st.format == "mt940" for st in parsed.statements)
