"""camt.053 / camt.054 samples: entry counts, credit and debit totals, balance check, safety."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.tasks.bank.statements.balance import check_balance
from o2c.tasks.bank.statements.camt import parse_camt, plain_namespace
from o2c.tasks.bank.statements.camt_columns import parse_camt_columns
from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.statements.errors import StatementError
from tests.tasks.bank.statements.conftest import same_statements

# file: (format, booked entries per statement, stored lines, balance status per statement)
# Counts read from the files by hand; statuses from samples/README.md.
CASES = {
    "camt053/genkgo-camt__camt053.v2.five.decimals.xml": ("camt.053", [1], 1, ["unbalanced"]),
    "camt053/genkgo-camt__camt053.v2.multi.statement.xml": (
        "camt.053", [1, 1], 2, ["balanced", "balanced"],
    ),
    "camt053/genkgo-camt__camt053.v3.xml": ("camt.053", [1], 1, ["unbalanced"]),
    "camt053/genkgo-camt__camt053.v4.xml": ("camt.053", [1], 1, ["unbalanced"]),
    "camt053/genkgo-camt__camt053.v8.xml": ("camt.053", [1], 1, ["unbalanced"]),
    "camt053/oca-bsi__test-camt053-bookgdt-dttm_v02.xml": ("camt.053", [1], 1, ["unbalanced"]),
    "camt053/oca-bsi__test-camt053-no-ntry_v04.xml": ("camt.053", [0], 0, ["balanced"]),
    "camt053/oca-bsi__test-camt053-txdtls_v04_ch.xml": ("camt.053", [1], 2, ["balanced"]),
    "camt053/oca-bsi__test-camt053_v02_abnamro.xml": ("camt.053", [3], 4, ["unbalanced"]),
    "camt054/genkgo-camt__camt054.v4.xml": ("camt.054", [1], 3, ["unchecked"]),
    "camt054/genkgo-camt__camt054.v8.xml": ("camt.054", [1], 3, ["unchecked"]),
    "camt054/oca-bsi__test-camt054_v04.xml": ("camt.054", [1], 1, ["unchecked"]),
}  # fmt: skip

_NTRY = re.compile(r"<Ntry>(.*?)</Ntry>", re.S)
_TX = re.compile(r"<TxDtls>(.*?)</TxDtls>", re.S)
_AMT = re.compile(r'<Amt Ccy="\w+">([\d.]+)</Amt>')
_IND = re.compile(r"<CdtDbtInd>(\w+)</CdtDbtInd>")


def independent_totals(text: str) -> tuple[Decimal, Decimal]:
    """Credits and debits by regex: an entry's amount, or its details' when it has several."""
    credits = debits = Decimal(0)
    for entry in _NTRY.findall(text):
        details = _TX.findall(entry)
        if len(details) > 1:
            parts = [
                (_AMT.search(d)[1], (_IND.search(d) or _IND.search(entry))[1]) for d in details
            ]
        else:
            parts = [(_AMT.search(entry)[1], _IND.search(entry)[1])]
        for amount, indicator in parts:
            if indicator == "CRDT":
                credits += Decimal(amount)
            else:
                debits -= Decimal(amount)
    return credits, debits


@pytest.mark.samples
@pytest.mark.parametrize("name", sorted(CASES))
def test_sample(samples: Path, totals, name: str) -> None:
    fmt, entries, lines, statuses = CASES[name]
    path = samples / name
    parsed = parse_file(path)
    assert parsed.format == fmt
    assert [st.entry_count for st in parsed.statements] == entries
    count, credits, debits = totals(parsed.statements)
    assert count == lines
    assert (credits, debits) == independent_totals(path.read_text(encoding="utf-8"))
    assert [check_balance(st).status for st in parsed.statements] == statuses


@pytest.mark.samples
def test_batch_entry_splits_into_linked_details(samples: Path) -> None:
    parsed = parse_file(samples / "camt053/oca-bsi__test-camt053-txdtls_v04_ch.xml")
    a, b = parsed.statements[0].line_rows()
    assert (a.amount, b.amount) == (Decimal("2187.00"), Decimal("1296.00"))
    assert (a.detail_index, b.detail_index) == (1, 2)
    assert a.entry_ref == b.entry_ref == "012345678"
    assert a.counterparty_name == "Banque Cantonale Vaudoise"
    assert a.counterparty_iban == "CH2222000000123456789"
    assert a.remittance_structured == "302388292000011111111111111"
    assert a.bank_reference == "123456CHCAFEBABE"
    assert a.bank_tx_code == "PMNT/RCDT/AUTT"
    # 75960.15 + 3483.00 = 79443.15
    check = check_balance(parsed.statements[0])
    assert (check.opening, check.movements, check.closing) == (
        Decimal("75960.15"), Decimal("3483.00"), Decimal("79443.15"),
    )  # fmt: skip


@pytest.mark.samples
def test_reversal_and_debit_counterparty(samples: Path) -> None:
    parsed = parse_file(samples / "camt053/oca-bsi__test-camt053_v02_abnamro.xml")
    first, rev1, rev2, last = parsed.statements[0].line_rows()
    assert first.counterparty_name == "INSURANCE COMPANY TESTX"  # creditor of a debit
    assert first.end_to_end_id == "435005714488-ABNO33052620"
    assert rev1.is_reversal and rev2.is_reversal and not first.is_reversal
    assert rev1.entry_ref == rev2.entry_ref and (rev1.detail_index, rev2.detail_index) == (1, 2)
    assert last.amount == Decimal("1405.31")


@pytest.mark.samples
def test_booking_date_as_datetime(samples: Path) -> None:
    line = parse_file(samples / "camt053/oca-bsi__test-camt053-bookgdt-dttm_v02.xml")
    first = line.statements[0].line_rows()[0]
    assert first.booking_date == date(2014, 1, 4)  # <DtTm>2014-01-04T23:00:00.000Z
    assert first.value_date == date(2014, 1, 5)


@pytest.mark.samples
def test_version_8_party_and_five_decimals(samples: Path) -> None:
    v8 = parse_file(samples / "camt053/genkgo-camt__camt053.v8.xml").statements[0].line_rows()[0]
    assert v8.counterparty_name == "NAME NAME"  # Dbtr/Pty/Nm in 001.08
    assert v8.end_to_end_id == "MUELL/FINP/RA12345"
    five = parse_file(samples / "camt053/genkgo-camt__camt053.v2.five.decimals.xml")
    assert five.statements[0].opening_balance == Decimal("18.150")
    # 18.150 + 8.850 = 27.000, the file says 27.050
    assert check_balance(five.statements[0]).difference == Decimal("-0.050")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
{doctype}<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2024-01-01T00:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S</Id><Acct><Id><IBAN>FR7630003012340123456789057</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2024-01-02</Dt></BookgDt><BkTxCd/>
<NtryDtls><TxDtls><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""


def test_xxe_is_rejected_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    doctype = f'<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
    path = _write(tmp_path, "xxe.xml", MINIMAL.format(doctype=doctype, text="&xxe;"))
    with pytest.raises(StatementError, match="DTD") as caught:
        parse_file(path)
    assert "TOP SECRET" not in str(caught.value)


def test_billion_laughs_is_rejected(tmp_path: Path) -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    doctype = f"<!DOCTYPE Document [{entities}]>\n"
    path = _write(tmp_path, "lol.xml", MINIMAL.format(doctype=doctype, text="&lol9;"))
    with pytest.raises(StatementError, match="DTD"):
        parse_file(path)


def test_truncated_file_names_the_place(tmp_path: Path) -> None:
    full = MINIMAL.format(doctype="", text="hello")
    path = _write(tmp_path, "cut.xml", full[: full.index("</Ntry>")])
    with pytest.raises(StatementError) as caught:
        parse_file(path)
    message = str(caught.value)
    assert "cut.xml" in message and "line " in message and "truncated" in message


def test_minimal_file_parses(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok.xml", MINIMAL.format(doctype="", text="Facture F-1"))
    st = parse_file(path).statements[0]
    assert st.account_iban == "FR7630003012340123456789057"
    assert st.line_rows()[0].remittance_unstructured == "Facture F-1"
    assert st.line_rows()[0].amount == Decimal("1.00")


def test_bad_amount_names_the_entry(tmp_path: Path) -> None:
    text = MINIMAL.format(doctype="", text="x").replace(">1.00<", ">1,00<")
    with pytest.raises(StatementError, match=r"statement S, entry 1, /Ntry.*bad amount '1,00'"):
        parse_file(_write(tmp_path, "bad.xml", text))


@pytest.mark.samples
@pytest.mark.parametrize("name", sorted(CASES))
def test_columnar_reader_reads_like_the_element_reader(
    samples: Path, name: str, columnar_only: None
) -> None:
    """Big plain files take the columnar reader; it must give exactly what lxml's reader gives."""
    path = samples / name
    head = path.read_bytes()[:65536]
    ns = plain_namespace(head)
    assert ns is not None
    fast, slow = parse_camt_columns(path, head, ns), parse_camt(path, head)
    assert fast.format == slow.format and fast.notes == slow.notes
    assert same_statements(fast.statements, slow.statements)


def test_prefixed_namespace_takes_the_element_reader(tmp_path: Path) -> None:
    text = MINIMAL.format(doctype="", text="Facture F-9")
    prefixed = re.sub(r"<(/?)(\w+)", r"<\1c:\2", text.split("\n", 1)[1]).replace(
        'xmlns="', 'xmlns:c="'
    )
    path = _write(tmp_path, "prefixed.xml", prefixed)
    assert plain_namespace(path.read_bytes()) is None
    st = parse_file(path).statements[0]
    assert st.line_rows()[0].remittance_unstructured == "Facture F-9"
    assert st.line_rows()[0].amount == Decimal("1.00")


ODD_ENTRIES = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2024-01-01T00:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S</Id><Acct><Id><IBAN>FR7630003012340123456789057</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-01-01</Dt></Dt></Bal>
<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2024-01-02</Dt></BookgDt><BkTxCd><Prtry><Cd>X1</Cd></Prtry></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><RltdPties><Dbtr><Pty>
<Nm>Dupont &amp; Fils &#233;</Nm></Pty></Dbtr><DbtrAcct><Id><Othr><Id>ACC-1</Id></Othr></Id>
</DbtrAcct></RltdPties><RmtInf><Ustrd> a </Ustrd><Ustrd>b</Ustrd><Strd><CdtrRefInf><Tp>
<CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>RF18539007547034</Ref></CdtrRefInf></Strd>
</RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="EUR">2.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
<BookgDt><Dt>2024-01-02</Dt></BookgDt><BkTxCd/></Ntry>
<Ntry><Amt Ccy="EUR">3.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd>
<Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>2024-01-03T10:00:00</DtTm></BookgDt>
<BkTxCd/><NtryDtls><TxDtls><RltdPties><Cdtr><Nm lang="fr">Attr</Nm></Cdtr></RltdPties>
</TxDtls></NtryDtls><AddtlNtryInf>&lt;info&gt; &amp; more</AddtlNtryInf></Ntry>
<Ntry><Amt Ccy="EUR">4.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2024-01-04</Dt></BookgDt><BkTxCd/><AddtlNtryInf>info only</AddtlNtryInf></Ntry>
<Ntry><NtryRef>N5</NtryRef><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2024-01-05</Dt></BookgDt><ValDt><Dt>2024-01-06</Dt></ValDt>
<AcctSvcrRef>SV5</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>
<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs>
<EndToEndId>E5</EndToEndId></Refs><BkTxCd><Prtry><Cd>DETAIL</Cd></Prtry></BkTxCd><RltdPties>
<Dbtr><Nm>Payer</Nm></Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>
<Cdtr><Nm>Us</Nm></Cdtr></RltdPties></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""


def test_columnar_reader_on_odd_entries(tmp_path: Path, columnar_only: None) -> None:
    """Entities, lists, proprietary codes, pending, reversals, attributes, character references:
    read in columns or handed entry by entry to the element reader, the same lines come out."""
    path = _write(tmp_path, "odd.xml", ODD_ENTRIES)
    head = path.read_bytes()
    fast, slow = parse_camt_columns(path, head, plain_namespace(head)), parse_camt(path, head)
    assert same_statements(fast.statements, slow.statements) and fast.notes == slow.notes
    lines = fast.statements[0].line_rows()
    assert [x.amount for x in lines] == [Decimal(x) for x in ("1.00", "-3.00", "-4.00", "5.00")]
    assert lines[0].counterparty_name == "Dupont & Fils é"
    assert lines[0].counterparty_iban == "ACC-1"
    assert lines[0].end_to_end_id is None  # NOTPROVIDED
    assert lines[0].remittance_unstructured == "a b"
    assert lines[0].remittance_structured == "RF18539007547034"
    assert lines[0].bank_tx_code == "X1"
    assert lines[1].is_reversal and lines[1].counterparty_name == "Attr"
    assert lines[1].remittance_unstructured == "<info> & more"
    assert lines[2].remittance_unstructured == "info only"
    assert (lines[3].bank_tx_code, lines[3].counterparty_name) == ("DETAIL", "Payer")
    assert (lines[3].entry_ref, lines[3].bank_reference) == ("N5", "SV5")
    assert fast.notes == ["1 entries not booked (pending/information) were not loaded"]


def test_columnar_reader_on_pretty_printed_windows_file(
    tmp_path: Path, columnar_only: None
) -> None:
    pretty = re.sub(r"><", ">\r\n    <", ODD_ENTRIES.replace("\n", "")).replace("\n", "\r\n")
    pretty = pretty.replace("info only", "info\r\nonly\rthen")  # line ends inside a value
    path = _write(tmp_path, "pretty.xml", pretty)
    head = path.read_bytes()
    fast, slow = parse_camt_columns(path, head, plain_namespace(head)), parse_camt(path, head)
    assert same_statements(fast.statements, slow.statements) and fast.notes == slow.notes
    assert fast.statements[0].line_count() == 4
    assert fast.statements[0].line_rows()[2].remittance_unstructured == "info\nonly\nthen"


def test_comments_and_cdata_send_the_file_to_the_element_reader(tmp_path: Path) -> None:
    text = ODD_ENTRIES.replace("&lt;info&gt; &amp; more", "<![CDATA[<info> & more]]>").replace(
        "<Ntry>", "<!-- <Ntry> --><Ntry>", 1
    )
    path = _write(tmp_path, "cdata.xml", text)
    head = path.read_bytes()
    fast, slow = parse_camt_columns(path, head, plain_namespace(head)), parse_camt(path, head)
    assert same_statements(fast.statements, slow.statements)
    assert fast.statements[0].line_rows()[1].remittance_unstructured == "<info> & more"
