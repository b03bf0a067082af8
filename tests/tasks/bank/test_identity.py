"""Bank-line identity (issue 15): the bank's reference first, the account-day rank otherwise, and
"already known" only when proven, each known line listed with the stored line it is."""

from __future__ import annotations

import hashlib
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.report import summary_markdown
from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.store import load_statements
from o2c.tasks.demo.camt_writer import write_camt053
from o2c.warehouse import connect, migrate, migrations
from tests import locations

SAMPLES = locations.SAMPLES

IBAN = "DE89370400440532013000"
DAY = date(2024, 5, 2)


def line(amount: str, ref: str | None = None, day: date = DAY, **kw) -> StatementLine:
    return StatementLine(day, Decimal(amount), "EUR", bank_reference=ref, **kw)


def statement(
    lines: list[StatementLine],
    opening: str | None = None,
    closing: str | None = None,
    *,
    fmt: str = "camt.053",
    ref: str = "S",
) -> Statement:
    days = [x.booking_date for x in lines] or [DAY]
    return Statement(
        fmt, IBAN, "EUR", ref, min(days), max(days),
        None if opening is None else Decimal(opening),
        None if closing is None else Decimal(closing),
        lines,
    )  # fmt: skip


def load(con, statements, name: str, *, source: str = "bank_statement"):
    sha = hashlib.sha256(name.encode()).hexdigest()
    return load_statements(
        con, statements, file_name=name, sha256=sha, source=source, accept_unbalanced=True
    )


def stored(con) -> tuple[int, Decimal | None]:
    return tuple(con.execute("SELECT count(*), sum(amount) FROM bank_transactions").fetchall()[0])


def figures(result) -> tuple[int, int, int, int]:
    return (result.loaded, result.duplicates, result.unproven.height, result.conflicts.height)


# --- one file: pages and statements of one account-day ------------------------------------------

MT940_PAGE = """:20:STARTUMS
:25:37040044/0532013000
:28C:00004/{page}
:{opening_tag}:C240502EUR{opening}
{lines}
:{closing_tag}:C240502EUR{closing}
"""


def mt940_two_pages(with_refs: bool) -> str:
    """One account-day over two pages: five debits of 5 002,17 (three, then two) and a credit."""
    refs = iter(f"//BK{n:04d}" if with_refs else "" for n in range(1, 7))
    debit = ":61:2405020502D5002,17NTRFNONREF{ref}\n:86:166?00SEPA-UEBERWEISUNG"
    page1 = "\n".join(debit.format(ref=next(refs)) for _ in range(3))
    page2 = "\n".join(debit.format(ref=next(refs)) for _ in range(2))
    page2 += f"\n:61:2405020502C100,00NTRFNONREF{next(refs)}\n:86:166?00GUTSCHRIFT"
    return MT940_PAGE.format(
        page="00001", opening_tag="60F", opening="30000,00", lines=page1,
        closing_tag="62M", closing="14993,49",
    ) + MT940_PAGE.format(
        page="00002", opening_tag="60M", opening="14993,49", lines=page2,
        closing_tag="62F", closing="5089,15",
    )  # fmt: skip


@pytest.mark.parametrize("with_refs", [True, False], ids=["with-refs", "without-refs"])
def test_a_day_split_over_two_pages_keeps_every_line(tmp_path: Path, with_refs: bool) -> None:
    path = tmp_path / "two-pages.sta"
    path.write_text(mt940_two_pages(with_refs), encoding="latin-1")
    parsed = parse_file(path)
    assert [st.line_count() for st in parsed.statements] == [3, 3]
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, parsed.statements, path.name)
        refs = con.execute(
            "SELECT count(identity_ref), count(DISTINCT transaction_id) FROM bank_transactions"
        ).fetchall()
        assert figures(result) == (6, 0, 0, 0)
        assert stored(con) == (6, Decimal("-24910.85"))  # 5 x -5002.17 + 100.00
    assert refs == [(6 if with_refs else 0, 6)]


def test_the_same_reference_in_two_statements_of_one_file_is_one_line(tmp_path: Path) -> None:
    first = statement([line("10.00", "A"), line("10.00", "B")], "0.00", "20.00", ref="S1")
    second = statement([line("10.00", "A"), line("7.00", "C")], "20.00", "27.00", ref="S2")
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, [first, second], "f.xml")
        assert figures(result) == (3, 1, 0, 0)
        known = result.known.row(0, named=True)
        assert (known["reference"], known["stored_batch_id"]) == ("A", result.batch_id)
        assert "earlier statement of this load" in known["stored_file"]


def test_a_reference_repeated_within_a_statement_is_no_identity(tmp_path: Path) -> None:
    # a bank that writes one reference on several lines: the rank keeps them apart
    st = statement([line("10.00", "SAME"), line("10.00", "SAME"), line("5.00", "SAME")])
    with connect(tmp_path / "w.duckdb") as con:
        assert figures(load(con, [st], "f.xml")) == (3, 0, 0, 0)
        assert con.execute("SELECT count(identity_ref) FROM bank_transactions").fetchall() == [(0,)]


def test_details_of_a_batch_entry_sharing_its_reference(tmp_path: Path) -> None:
    details = [line("10.00", "E1", entry_ref="E1", detail_index=i) for i in (1, 2, 3)]
    with connect(tmp_path / "w.duckdb") as con:
        assert figures(load(con, [statement(details)], "batch.xml")) == (3, 0, 0, 0)
        refs = con.execute("SELECT identity_ref FROM bank_transactions ORDER BY 1").fetchall()
        again = load(con, [statement(details, ref="S-copy")], "batch-copy.xml")
    assert refs == [("bank:E1#1",), ("bank:E1#2",), ("bank:E1#3",)]
    assert figures(again) == (0, 3, 0, 0)


# --- two files of one account-day ----------------------------------------------------------------


@pytest.mark.parametrize("with_refs", [True, False], ids=["with-refs", "without-refs"])
def test_morning_then_evening_statement(tmp_path: Path, with_refs: bool) -> None:
    ref = (lambda r: r) if with_refs else (lambda r: None)
    morning = statement([line("10.00", ref("M1")), line("20.00", ref("M2"))], "0.00", "30.00")
    # opens where the morning closed: its 10.00 is another payment of the same amount
    evening = statement([line("10.00", ref("E1"))], "30.00", "40.00", ref="S-evening")
    with connect(tmp_path / "w.duckdb") as con:
        assert load(con, [morning], "morning.xml").loaded == 2
        result = load(con, [evening], "evening.xml")
        assert figures(result) == (1, 0, 0, 0)
        assert stored(con) == (3, Decimal("40.00"))
        # the evening statement again, in other bytes: nothing doubled
        again = load(con, [evening], "evening-copy.xml")
        assert figures(again) == (0, 1, 0, 0)
        assert stored(con) == (3, Decimal("40.00"))


def test_a_file_resending_the_morning_with_the_evening(tmp_path: Path) -> None:
    """A bank that sends the day's statements again, the stored morning one with the evening."""
    morning = statement([line("10.00"), line("20.00")], "0.00", "30.00", ref="S-morning")
    evening = statement([line("10.00"), line("20.00")], "30.00", "60.00", ref="S-evening")
    with connect(tmp_path / "w.duckdb") as con:
        load(con, [morning], "morning.sta")
        result = load(con, [morning, evening], "day.sta")
        assert figures(result) == (2, 2, 0, 0)
        assert set(result.known.get_column("how")) == {
            "statement already stored (same dates and balances)"
        }
        assert stored(con) == (4, Decimal("60.00"))


def test_what_cannot_be_proven_is_stored_and_listed(tmp_path: Path) -> None:
    """No references, no balances: the second file's 10.00 may be the first file's or another.
    Stored (never lost), and listed with the stored line it may repeat."""
    first = statement([line("10.00"), line("20.00")], fmt="csv")
    second = statement([line("10.00"), line("5.00")], fmt="csv", ref="S2")
    with connect(tmp_path / "w.duckdb") as con:
        load(con, [first], "first.csv")
        result = load(con, [second], "second.csv")
        assert figures(result) == (2, 0, 1, 0)
        assert stored(con) == (4, Decimal("45.00"))
        maybe = result.unproven.row(0, named=True)
        assert (maybe["amount_cents"], maybe["stored_amount_cents"]) == (1000, 1000)
        assert maybe["stored_file"] == "first.csv"
        message = con.execute(
            "SELECT message FROM load_batches WHERE batch_id = ?", [result.batch_id]
        ).fetchall()[0][0]
    assert "1 stored but possibly already known" in message
    report = summary_markdown(result, "fr")
    assert "Gardées, peut-être déjà connues : à vérifier (1)" in report
    listed = [x for x in report.splitlines() if x.startswith("| 02/05/2024")]  # French dates
    assert len(listed) == 1 and "10,00" in listed[0] and "first.csv" in listed[0]
    english = summary_markdown(result, "en")
    assert english.startswith("# Bank statement load: `second.csv`")
    assert "Stored, possibly already known: to check (1)" in english
    assert len([x for x in english.splitlines() if x.startswith("| 2024-05-02")]) == 1


@pytest.mark.parametrize("fmt", ["camt.052", "mt942"])
@pytest.mark.parametrize("with_refs", [True, False], ids=["with-refs", "without-refs"])
def test_intraday_report_then_the_final_statement(
    tmp_path: Path, fmt: str, with_refs: bool
) -> None:
    ref = (lambda r: r) if with_refs else (lambda r: None)
    intraday = statement([line("10.00", ref("R1")), line("20.00", ref("R2"))], fmt=fmt)
    final = statement(
        [line("10.00", ref("R1")), line("20.00", ref("R2")), line("10.00", ref("R3")),
         line("-4.00", ref("R4"))],
        "100.00", "136.00", fmt="mt940" if fmt == "mt942" else "camt.053", ref="S-final",
    )  # fmt: skip
    with connect(tmp_path / "w.duckdb") as con:
        assert load(con, [intraday], "intraday").loaded == 2
        result = load(con, [final], "final")
        assert figures(result) == (2, 2, 0, 0)
        assert stored(con) == (4, Decimal("36.00"))
        assert sorted(result.known.get_column("stored_file").to_list()) == ["intraday"] * 2
        # and an intraday report arriving after the final one brings nothing new
        late = load(con, [statement([line("10.00", ref("R1"))], fmt=fmt, ref="S-late")], "late")
        assert figures(late) == (0, 1, 0, 0)


def camt_days(
    tmp_path: Path, name: str, version: str, days: list[int], opening: str
) -> list[Statement]:
    """A camt.053 file (written, then parsed) of one statement over the given days of May."""
    lines = [
        line(f"{d}.00", f"ACR{d:02d}{n}", day=date(2024, 5, d), counterparty_name="ACME")
        for d in days
        for n in range(2)
    ]
    total = sum((x.amount for x in lines), Decimal(0))
    st = statement(lines, opening, str(Decimal(opening) + total), ref=f"STMT-{days[0]}")
    path = tmp_path / name
    write_camt053(path, [st])
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("camt.053.001.08", f"camt.053.001.{version}"), encoding="utf-8")
    return parse_file(path).statements


def test_camt_v02_then_v08_overlapping(tmp_path: Path) -> None:
    v02 = camt_days(tmp_path, "v02.xml", "02", [1, 2, 3], "0.00")
    v08 = camt_days(tmp_path, "v08.xml", "08", [2, 3, 4], "2.00")
    assert v02[0].line_rows()[0].bank_reference == "ACR010"
    with connect(tmp_path / "w.duckdb") as con:
        assert load(con, v02, "v02.xml").loaded == 6
        result = load(con, v08, "v08.xml")
        assert figures(result) == (2, 4, 0, 0)
        assert set(result.known.get_column("how")) == {"same bank reference"}
        assert stored(con) == (8, Decimal("20.00"))  # 2 x (1 + 2 + 3 + 4)


def test_camt_overlapping_without_references_by_the_day_proof(tmp_path: Path) -> None:
    days = {d: [line(f"{d}.00", day=date(2024, 5, d)) for _ in range(2)] for d in (1, 2, 3, 4)}
    first = statement(days[1] + days[2] + days[3], "0.00", "12.00", ref="A")
    second = statement(days[2] + days[3] + days[4], "2.00", "20.00", ref="B")
    with connect(tmp_path / "w.duckdb") as con:
        load(con, [first], "a.xml")
        result = load(con, [second], "b.xml")
        assert figures(result) == (2, 4, 0, 0)
        assert set(result.known.get_column("how")) == {
            "same day, same count and sum as a stored statement"
        }
        assert stored(con) == (8, Decimal("20.00"))


MT940_OVERLAP = """:20:STMT
:25:37040044/0532013000
:28C:00012/00001
:60F:C240501EUR0,00
:61:2405020502C2,00NTRFNONREF//MT-A
:61:2405020502C2,00NTRFNONREF//MT-B
:61:2405030503C3,00NTRFNONREF//MT-C
:61:2405030503C3,00NTRFNONREF//MT-D
:62F:C240503EUR10,00
"""


def test_mt940_and_camt_of_one_account_overlapping(tmp_path: Path) -> None:
    """References differ between the two formats: the day proof recognises the shared days."""
    camt = camt_days(tmp_path, "c.xml", "08", [1, 2], "0.00")
    for st in camt:
        st.account_iban = "37040044/0532013000"
    path = tmp_path / "m.sta"
    path.write_text(MT940_OVERLAP, encoding="latin-1")
    mt940 = parse_file(path).statements
    with connect(tmp_path / "w.duckdb") as con:
        assert load(con, camt, "c.xml").loaded == 4
        result = load(con, mt940, "m.sta")
        assert figures(result) == (2, 2, 0, 0)
        assert stored(con) == (6, Decimal("12.00"))
        known = result.known.sort("reference").to_dicts()
        assert [k["reference"] for k in known] == ["MT-A", "MT-B"]
        assert [k["stored_file"] for k in known] == ["c.xml", "c.xml"]
        assert {k["stored_reference"] for k in known} == {"ACR020", "ACR021"}


def feed(lines: list[StatementLine]) -> Statement:
    return statement(lines, fmt="open_banking", ref="bridge:1:start..x")


def ob(amount: str, tx_id: str, day: int = 2) -> StatementLine:
    return StatementLine(date(2024, 5, day), Decimal(amount), "EUR", external_id=tx_id)


def test_open_banking_feed_after_the_file(tmp_path: Path) -> None:
    file = statement([line("10.00", "B1"), line("10.00", "B2")], "0.00", "20.00")
    with connect(tmp_path / "w.duckdb") as con:
        load(con, [file], "f.xml")
        result = load(
            con, [feed([ob("10.00", "x1"), ob("10.00", "x2"), ob("3.00", "x3", day=3)])],
            "bridge:u", source="open_banking",
        )  # fmt: skip
        assert figures(result) == (1, 2, 0, 0)
        # the next sync lists the day again (whole days): known by the provider's ids
        again = load(con, [feed([ob("3.00", "x3", day=3)])], "bridge:u2", source="open_banking")
        assert figures(again) == (0, 1, 0, 0)
        assert again.known.row(0, named=True)["how"] == "same bank reference"
        assert stored(con) == (3, Decimal("23.00"))


def test_open_banking_mid_day_then_the_day_s_file(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        load(con, [feed([ob("10.00", "x1")])], "bridge:u", source="open_banking")
        file = statement([line("10.00", "B1"), line("10.00", "B2")], "0.00", "20.00")
        result = load(con, [file], "f.xml")
        assert figures(result) == (1, 1, 0, 0)
        assert stored(con) == (2, Decimal("20.00"))


# --- references that disagree, files loaded twice -------------------------------------------------


def test_a_stored_reference_with_another_amount_is_a_conflict(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        load(con, [statement([line("10.00", "R1")])], "a.xml")
        result = load(con, [statement([line("12.00", "R1")], ref="S2")], "b.xml")
        assert figures(result) == (1, 0, 0, 1)
        clash = result.conflicts.row(0, named=True)
        assert (clash["amount_cents"], clash["stored_amount_cents"]) == (1200, 1000)
        assert stored(con) == (2, Decimal("22.00"))
    assert "Gardées, conflit de référence bancaire : à vérifier (1)" in summary_markdown(
        result, "fr"
    )


def test_a_new_reference_where_the_same_kind_of_file_numbered_the_day(tmp_path: Path) -> None:
    """R9 is no stored reference of a day the same kind of file numbered (R1): a new line, even
    of R1's amount; the unnumbered 35.10 is then the day's stored one."""
    first = statement([line("1200.00", "R1"), line("35.10")], fmt="csv")
    second = statement(
        [line("1200.00", "R1"), line("1200.00", "R9"), line("35.10")], fmt="csv", ref="S2"
    )
    with connect(tmp_path / "w.duckdb") as con:
        load(con, [first], "monday.csv")
        result = load(con, [second], "tuesday.csv")
        assert figures(result) == (1, 2, 0, 0)
        assert stored(con) == (3, Decimal("2435.10"))


def test_the_same_file_twice(tmp_path: Path) -> None:
    st = statement([line("10.00", "R1"), line("10.00")], "0.00", "20.00")
    with connect(tmp_path / "w.duckdb") as con:
        load(con, [st], "f.xml")
        again = load(con, [st], "f.xml")
        assert (again.status, again.loaded, again.duplicates) == ("duplicate_file", 0, 2)
        assert stored(con) == (2, Decimal("20.00"))


def test_known_lines_are_listed_for_finance(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        first = load(con, [statement([line("1234.50", "R1")])], "monday.xml")
        result = load(con, [statement([line("1234.50", "R1")], ref="S2")], "copy.xml")
        stored_id = con.execute("SELECT transaction_id FROM bank_transactions").fetchall()[0][0]
    row = result.known.row(0, named=True)
    assert (row["stored_transaction_id"], row["stored_batch_id"]) == (stored_id, first.batch_id)
    report = summary_markdown(result, "fr")
    listed = next(x for x in report.splitlines() if x.startswith("| 02/05/2024"))
    for part in ("1\u202f234,50", "R1", stored_id, f"lot {first.batch_id}", "monday.xml"):
        assert part in listed
    assert "même référence bancaire" in listed  # how it was told, in French


# --- the migration -------------------------------------------------------------------------------


@pytest.mark.skipif(
    bool(os.environ.get("O2C_TEST_LAKE")),
    reason="re-keys a DuckDB file from before sql/010; a DuckLake catalog starts at today's schema",
)
def test_migration_gives_stored_rows_their_identity(tmp_path: Path) -> None:
    """A warehouse at schema 9 with rows keyed the old way: migrated, nothing lost, and the same
    statements loaded again add nothing."""
    rows = [("20.00", "A"), ("5.00", "B"), ("5.00", "NONREF"), ("5.00", "NONREF"), ("7.00", "R")]
    rows += [("8.00", "R")]  # one reference on two rows: no identity
    st = statement([line(a, r) for a, r in rows], "0.00", "50.00")
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR,"
                    " applied_at TIMESTAMP)")  # fmt: skip
        for m in migrations():
            if m.version < 10:
                con.execute(m.sql)
                con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [m.version, m.name])
        ranks: dict[str, int] = {}
        for amount, ref in rows:
            cents = int(Decimal(amount) * 100)
            ranks[amount] = ranks.get(amount, 0) + 1
            raw = f"{IBAN}|2024-05-02|EUR|{cents}|{ranks[amount]}"
            con.execute(
                "INSERT INTO bank_transactions (transaction_id, account_iban, currency,"
                " booking_date, amount, bank_reference, source, statement_id, batch_id,"
                " loaded_at) VALUES (?, ?, 'EUR', ?, ?, ?, 'camt.053', 'old', 1, now())",
                [hashlib.sha256(raw.encode()).hexdigest()[:32], IBAN, DAY, Decimal(amount), ref],
            )
        before = con.execute(
            "SELECT transaction_id, amount FROM bank_transactions ORDER BY 1"
        ).fetchall()
        assert migrate(con) == [m.version for m in migrations() if m.version >= 10]
        after = con.execute(
            "SELECT transaction_id, amount FROM bank_transactions ORDER BY 1"
        ).fetchall()
        refs = con.execute(
            "SELECT bank_reference, identity_ref FROM bank_transactions ORDER BY amount, 1"
        ).fetchall()
    assert after == before  # ids kept: allocations and decisions still name them
    assert refs == [
        ("B", "bank:B"), ("NONREF", None), ("NONREF", None), ("R", None), ("R", None),
        ("A", "bank:A"),
    ]  # fmt: skip
    with connect(path) as con:
        again = load(con, [st], "same-statement-again.xml")
        assert figures(again) == (0, 6, 0, 0)
        assert stored(con) == (6, Decimal("50.00"))


def mt9xx_entries(refs: list[str]) -> str:
    """The first len(refs) of four :61: lines of 2026-11-03 (the last two both 9,50)."""
    amounts = ["C250,00", "D40,50", "C9,50", "C9,50"][: len(refs)]
    return "".join(
        f":61:2611031103{a}NTRFNONREF{'//' + r if r else ''}\n"
        for a, r in zip(amounts, refs, strict=True)
    )


@pytest.mark.parametrize("with_refs", [True, False], ids=["with-refs", "without-refs"])
def test_mt942_file_then_the_day_s_mt940(tmp_path: Path, with_refs: bool) -> None:
    refs = ["B1", "B2", "B3", "B4"] if with_refs else ["", "", "", ""]
    intraday = tmp_path / "intraday.txt"
    intraday.write_text(
        ":20:INTRADAY1\n:25:DE89370400440532013000\n:28C:7/1\n:34F:EUR0,\n"
        f":13D:2611031015+0100\n{mt9xx_entries(refs[:3])}:90D:1EUR40,50\n:90C:2EUR259,50\n-\n"
    )
    final = tmp_path / "final.sta"
    final.write_text(
        ":20:STMT\n:25:DE89370400440532013000\n:28C:7/1\n:60F:C261102EUR1000,00\n"
        f"{mt9xx_entries(refs)}:62F:C261103EUR1228,50\n-\n"
    )
    first, second = parse_file(intraday), parse_file(final)
    assert (first.format, second.format) == ("mt942", "mt940")
    with connect(tmp_path / "w.duckdb") as con:
        assert load(con, first.statements, "intraday.txt").loaded == 3
        result = load(con, second.statements, "final.sta")
        assert figures(result) == (1, 3, 0, 0)
        assert stored(con) == (4, Decimal("228.50"))


# --- the real samples ------------------------------------------------------------------------------


def sample_files() -> list[Path]:
    folders = ("camt053", "camt054", "cfonb120", "mt940", "ofx")
    if not SAMPLES.is_dir():
        return []
    return sorted(p for f in folders if (SAMPLES / f).is_dir() for p in (SAMPLES / f).iterdir())


@pytest.mark.samples
@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.name)
def test_every_line_of_a_real_sample_is_stored_once(tmp_path: Path, path: Path) -> None:
    parsed = parse_file(path)
    total = sum((x.amount for st in parsed.statements for x in st.line_rows()), Decimal(0))
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, parsed.statements, path.name)
        assert (result.loaded, result.duplicates) == (result.transactions_in, 0)
        count, amount = stored(con)
        again = load(con, parsed.statements, f"{path.name} (rewritten)")
    assert (count, amount or Decimal(0)) == (result.transactions_in, total)
    assert (again.loaded, again.duplicates, again.unproven.height) == (0, count, 0)


@pytest.mark.samples
def test_the_german_two_page_sample_keeps_both_same_amount_credits(tmp_path: Path) -> None:
    """spk_sample.sta: 2010-02-17 over two pages (:28C:09198/001 and /002), a 250,00 credit on
    each page. The key ranked within a page and dropped the second as "already known" (9 lines
    stored, 665.32); every line is kept now, and the sum is what the balances say moved."""
    path = SAMPLES / "mt940" / "php-mt940__spk_sample.sta"
    if not path.is_file():
        pytest.skip(f"no sample at {path}")
    parsed = parse_file(path)
    moved = parsed.statements[-1].closing_balance - parsed.statements[0].opening_balance
    with connect(tmp_path / "w.duckdb") as con:
        result = load(con, parsed.statements, path.name)
        assert stored(con) == (10, moved) == (10, Decimal("915.32"))
    assert (result.loaded, result.duplicates) == (10, 0)
