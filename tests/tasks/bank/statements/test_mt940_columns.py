"""The columnar MT940 reader against the row reader: same entries, field by field.

The row reader (`_statement_line` + `apply_information` on a field's text) is the reference:
each test reads a file with `parse_mt940` and checks every line against the row reader's
reading of the same :61: and :86: texts, then the shapes the columns must hand to the rows.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.models.bank import StatementLine
from o2c.tasks.bank.statements.errors import StatementError
from o2c.tasks.bank.statements.mt940 import _statement_line, apply_information, parse_mt940
from o2c.tasks.bank.statements.mt940_columns import cut_fields

_61, _86, _20 = 61 << 8, 86 << 8, 20 << 8
_90 = ((90 << 8) + ord("D"), (90 << 8) + ord("C"))


def row_reader_lines(raw: bytes) -> list[StatementLine]:
    """Each entry read by the row reader from the field texts (currency taken from the parse)."""
    fields = cut_fields(raw)
    out, last = [], None
    for i in range(len(fields)):
        code = fields.code[i]
        if code == _20:
            last = None
        elif code == _61:
            last = _statement_line(fields.value(i), "EUR", Path("x"), "here")
            out.append(last)
        elif code == _86 and last is not None:
            apply_information(last, fields.value(i))
            last = None
        elif code in _90:  # an MT942's counts end its entries
            last = None
    return out


def assert_same_as_rows(raw: bytes) -> list[StatementLine]:
    statements = parse_mt940(Path("t.sta"), raw)
    got = [x for st in statements for x in st.line_rows()]
    want = row_reader_lines(raw)
    assert len(got) == len(want)
    skip = {"currency", "entry_ref"}
    for g, w in zip(got, want, strict=True):
        for f in dataclasses.fields(StatementLine):
            if f.name not in skip:
                assert getattr(g, f.name) == getattr(w, f.name), (f.name, g, w)
    return got


@pytest.mark.samples
def test_samples_read_as_the_row_reader_reads_them(samples: Path) -> None:
    for path in sorted((samples / "mt940").iterdir()):
        raw = path.read_bytes()
        assert_same_as_rows(raw)
        assert_same_as_rows(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


HEAD = ":20:REF\n:25:NL77INGB0574908765\n:28C:1/1\n:60F:C240101EUR100,00\n"
TAIL = ":62F:C240102EUR100,00\n-\n"


def statement(*entries: str) -> bytes:
    return (HEAD + "".join(entries) + TAIL).encode()


DIALECTS = [
    # Dutch tags, wrapped mid-word, first occurrence wins, CNTP then NAME/IBAN
    ":61:2401020102C1,00NTRFEREF//B1\n:86:/EREF/E1/CNTP/NL32INGB0000012345/INGBNL2A/JAN/X/"
    "/REMI/USTD//INV\n1/NAME/NAME1/EREF/E2\n",
    ":61:2401020102D1,00NTRF\n:86:/EREF/NOTPROVIDED/REMI/STRD/CUR/RF18539007547034/\n",
    ":61:2401020102D1,00NTRF\n:86:/NAME/EREF/x/IBAN/  NL32INGB0000012345 /\n",  # overlapping
    ":61:2401020102D1,00NTRF\n:86:/EREF/ / A/ /REMI/ /x\n",  # '/ /' goes to the row reader
    # German subfields, SEPA keys (the last wins), a name over ?32/?33, IBAN ?38 over ?31
    ":61:2401020102CR5,N051NONREF//R1\n:86:166?00GUTSCHRIFT?20EREF+A?21 EREF+B SVWZ+Re\n"
    "chnung 1?31DE1?38DE2?32KARL?33  KAUFMANN\n",
    ":61:2401020102D5,N051NONREF\n:86:  ?20only remittance?60 and more\n",
    ":61:2401020102D5,N051NONREF\n:86:005?20a?2٢b?21c\n",  # a subfield in Arabic digits
    ":61:2401020102D5,N051NONREF\n:86:000>20HUUR >21KANTOOR>310390123456\n",  # Triodos
    # SEPA keys kept in the text (KREF+, ABWA+), IBAN+ when no ?31/?38; NONREF dropped
    ":61:2401020102C5,N051NONREF\n:86:166?00GUTSCHRIFT?20EREF+E-9?21KREF+K-77?22MREF+M-1?23SVWZ\n"
    "+RE 2026-0?2405?25ABWA+Filiale Nord?26IBAN+DE02 1203 0000 0000 2020 51?32ACME\n",
    ":61:2401020102C5,N051NONREF\n:86:166?20KREF+NONREF?21SVWZ+RE 7?22ABWA+ \n",
    # Dutch ordering party (alone, or under NAME), creditor reference of Rabobank
    ":61:2401020102C1,00NTRF\n:86:/EREF/E9/ORDP/Jansen BV/REMI/STRD/CUR/RF18539007547034/\n",
    ":61:2401020102C1,00NTRF\n:86:/ORDP//NAME/ORDERER BV/ADDR/x/REMI/USTD//INV 5\n",
    ":61:2401020102C1,00NTRF\n:86:/CNTP/NL32INGB0000012345/INGBNL2A/CNTP NAME//ORDP/O/REMI/x\n",
    ":61:2401020102C1,00NTRF\n:86:/REMI//CDTRREFTP//CD/SCOR/ISSR/CUR/CDTRREF/RF185390075\n47034/\n",
    # free text, supplementary details (an IBAN, a name)
    ":61:2401020102D5,N051NONREF\nNL49 RABO 0166 4169 32\n:86:  free \n  text\t here \n",
    ":61:240102D5,5NCHKNONREF\n  gerrits  glas \n\n en zo\n:86:999PN5477SCHECK\n",
    ":61:2401020102RC7,N051NONREF\n:86:\n",
    ":61:2412310101C7,N051NONREF\n",  # entry date in the next year, no :86:
]


@pytest.mark.parametrize("entry", DIALECTS)
def test_each_dialect_reads_as_the_row_reader(entry: str) -> None:
    assert_same_as_rows(statement(entry))
    assert_same_as_rows(statement(entry).replace(b"\n", b"\r\n"))


def test_all_dialects_in_one_statement_keep_file_order() -> None:
    lines = assert_same_as_rows(statement(*DIALECTS))
    (st,) = parse_mt940(Path("t.sta"), statement(*DIALECTS))
    assert st.table is not None and st.entry_count == len(DIALECTS)
    assert [x.entry_ref for x in lines] == [f"REF/1/1#{n}" for n in range(1, len(DIALECTS) + 1)]


def test_line_ends_lf_crlf_and_cr_read_the_same() -> None:
    raw = statement(*DIALECTS)
    lf = parse_mt940(Path("t"), raw)[0].line_rows()
    assert parse_mt940(Path("t"), raw.replace(b"\n", b"\r\n"))[0].line_rows() == lf
    assert parse_mt940(Path("t"), raw.replace(b"\n", b"\r"))[0].line_rows() == lf


def test_unusual_entries_go_to_the_row_reader_in_place() -> None:
    entries = [
        ":61:2401020102C1,00NTRF\n:86:/REMI/USTD//one\n",
        ":61: 2401020102C2,00NTRF\n:86:/REMI/USTD//leading space\n",  # the row reader strips
        ":61:٢٤01020102C3,00NTRF\n",  # a date in Arabic digits
        ":61:2401020102C4,00NTRF\n:86:/REMI/USTD//four\n",
    ]
    lines = assert_same_as_rows(statement(*entries))
    assert [x.amount for x in lines] == [Decimal(n) for n in (1, 2, 3, 4)]
    assert lines[2].value_date == date(2024, 1, 2)
    assert [x.entry_ref for x in lines] == ["REF/1/1#1", "REF/1/1#2", "REF/1/1#3", "REF/1/1#4"]


def test_swift_blocks() -> None:
    raw = (
        b"{1:F01INGBNL2AXXX}{2:I940INGBNL2AXXXN}{4::20:A\n:25:NL1\n:28C:1\n"
        b":60F:C240101EUR1,00\n:61:2401020102C1,00NTRF\n:86:/REMI/USTD//x\n"
        b":62F:C240102EUR2,00\n-}{5:}\nstray text\n{1:F01}{4:\n:20:B\n:25:NL2\n"
        b":60F:C240101EUR1,00\n:61:2401020102D1,00NTRF\n:86:first line\n{4:continued\n"
        b":62F:C240102EUR0,00\n-}"
    )
    first, second = parse_mt940(Path("t"), raw)
    assert (first.statement_ref, second.statement_ref) == ("A/1", "B")
    assert first.line_rows()[0].remittance_unstructured == "x"
    # text after "{4:" continues the field before it, as it always has
    assert second.line_rows()[0].remittance_unstructured == "first line continued"
    assert_same_as_rows(raw)


def test_sub_cent_amount_is_refused_naming_its_line() -> None:
    """Below the cent the warehouse cannot store it: the parser says where (issue 14)."""
    raw = statement(":61:2401020102C1,00NTRF\n", ":61:2401020102C1,005NTRF\n")
    with pytest.raises(StatementError, match=r"line 6 \(:61:\), amount: .*1\.005.*fraction"):
        parse_mt940(Path("t"), raw)
    # trailing zeros below the cent are whole cents
    (st,) = parse_mt940(Path("t"), statement(":61:2401020102C1,0000NTRF\n"))
    assert st.table is not None and st.line_rows()[0].amount == Decimal("1")


def test_first_error_in_the_file_wins() -> None:
    raw = (
        b":20:X\n:25:DE1\n:60F:C240101EUR1,00\n:61:2401020102C1,00NTRF\n"
        b":60F:C2401EUR1,00\n:61:240102C1;00NTRFNONREF\n"
    )
    with pytest.raises(StatementError, match=r"line 5 \(:60F:\): bad balance"):
        parse_mt940(Path("t"), raw)
    with pytest.raises(StatementError, match=r"line 3 \(:61:\): entry before any balance"):
        parse_mt940(Path("t"), b":20:X\n:25:DE1\n:61:2401020102C1,00NTRF\n:60F:C240101EUR1\n")
    with pytest.raises(StatementError, match=r"line 5 \(:61:\): bad date"):
        parse_mt940(Path("t"), statement(":61:2402300230C1,00NTRF\n"))
    with pytest.raises(StatementError, match="no MT940 field found"):
        parse_mt940(Path("t"), b"nothing here\n")


def test_fields_keep_line_numbers_and_texts() -> None:
    fields = cut_fields(b"junk\n:20:A\r\n:86:one\r\ntwo\r\n\r\n:61:x")
    assert fields.line.tolist() == [2, 3, 6]
    assert [fields.tag(i) for i in range(3)] == ["20", "86", "61"]
    assert [fields.value(i) for i in range(3)] == ["A", "one\ntwo\n", "x"]
    assert fields.regular.tolist() == [True, True, False]  # the last line is read in Python
