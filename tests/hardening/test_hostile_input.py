"""Hostile input at the door (issue 14): every case of the probe refused or quarantined with a
message naming file, line or field; nothing wrongly loaded; the warehouse usable afterwards."""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from o2c.models import bounds
from o2c.tasks.aging.pipeline import compute_aging, save_snapshot
from o2c.tasks.aging.store import read_dso_history, read_payments
from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.statements.errors import StatementError
from o2c.tasks.bank.store import load_statements
from o2c.tasks.erp.ingest import ingest_customer_file, ingest_invoice_file
from o2c.tasks.erp.tabular_files import InputFileError, read_table
from o2c.tasks.reconciliation.store import reconcile_warehouse
from o2c.warehouse import connect
from tests.erp_exports import GOOD, HEADER, write_export

NOW = datetime(2026, 3, 10, 9, 0)
INTERNALS = ("polars", "pydantic", "duckdb", "Traceback", "ComputeError", "Errno")

CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-03-01T00:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>FR7630003012340123456789057</IBAN></Id><Ccy>{stccy}</Ccy></Acct>
<FrToDt><FrDtTm>2026-03-01T00:00:00</FrDtTm><ToDtTm>2026-03-31T23:59:59</ToDtTm></FrToDt>
<Ntry><Amt Ccy="{ccy}">{amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>{day}</Dt></BookgDt><BkTxCd/>
<NtryDtls><TxDtls><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""
MT940 = """:20:REF
:25:FR7630003012340123456789057
:28C:1
:60F:C260301{ccy}100,00
:61:{day}C{amt}NTRFNONREF
:86:{text}
:62F:C260302{ccy}101,56
"""
OFX = """OFXHEADER:100
DATA:OFXSGML
VERSION:102

<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>{ccy}
<BANKACCTFROM><BANKID>1<ACCTID>FR7630003012340123456789057<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20260301<DTEND>20260331
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>{day}<TRNAMT>{amt}<FITID>F1<NAME>ACME</STMTTRN>
</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""
BANK_CSV = (
    "Settlement date,Value date,Amount,Currency,Account IBAN,Counterparty name,"
    "Counterparty IBAN,Reference,End-to-end ID,Transaction ID,Operation type\n"
    "{day},{day},{amt},{ccy},FR7630003012340123456789057,ACME,,ref,,T1,SEPA\n"
)


# CFONB 120: opening (01), one movement (04), closing (07); amounts at [90:104], decimals at [19].
CFONB_01 = "0130002    00447     0000888899H  160911" + " " * 50 + "{open}" + " " * 16
CFONB_04 = (
    "0430002013400447EUR{dec}E0000888899H21210811  230911LCL20000000142"
    + " " * 19
    + "0000000  {amt}"
    + " " * 16
)
CFONB_07 = "0730002    00447     0000888899H  160911" + " " * 50 + "0000000118711D" + " " * 16


def camt(**kw: str) -> str:
    values = {"stccy": "EUR", "ccy": "EUR", "amt": "1.00", "day": "2026-03-02", "text": "x"}
    return CAMT.format(**{**values, **kw})


def mt940(**kw: str) -> str:
    values = {"ccy": "EUR", "amt": "1,56", "day": "2603020302", "text": "hello"}
    return MT940.format(**{**values, **kw})


def ofx(**kw: str) -> str:
    return OFX.format(**{**{"ccy": "EUR", "amt": "1.00", "day": "20260302"}, **kw})


def bank_csv(**kw: str) -> str:
    return BANK_CSV.format(**{**{"ccy": "EUR", "amt": "1.00", "day": "2026-03-02"}, **kw})


def cfonb(amt: str = "0000000020000}", dec: str = "2", opening: str = "0000000000000H") -> str:
    opening_record = CFONB_01.format(open=opening)
    opening_record = opening_record[:19] + dec + opening_record[20:]
    return "\n".join((opening_record, CFONB_04.format(dec=dec, amt=amt), CFONB_07)) + "\n"


# name -> (file text, what the one-line message must say: the place, then the reason)
HOSTILE_STATEMENTS = {
    "camt_1e15.xml": (camt(amt="1000000000000000"), r"entry 1, /Ntry/Amt: .*beyond the bound"),
    "camt_1E15.xml": (camt(amt="1E15"), r"entry 1, /Ntry/Amt: amount 1E\+15 is beyond"),
    "camt_1e17.xml": (camt(amt="100000000000000000"), r"entry 1, /Ntry/Amt: .*beyond"),
    # read by the columnar reader (13 digits of units), refused by the bounds check
    "camt_just_above.xml": (
        camt(amt="1000000000000.01"),
        r"statement S1, line 1 \(entry S1/1\), amount: amount 1000000000000\.01 is beyond",
    ),
    "camt_3_decimals.xml": (camt(amt="1.234"), r"entry 1, /Ntry/Amt: .*fraction of a cent"),
    "camt_XYZ.xml": (camt(stccy="XYZ", ccy="XYZ"), r"statement S1, currency: .*'XYZ'.*ISO 4217"),
    "camt_EURO.xml": (camt(ccy="EURO"), r"statement S1, line 1 .*currency: .*'EURO'"),
    "camt_9999.xml": (camt(day="9999-12-31"), r"line 1 .*booking date: 9999-12-31 is outside"),
    "camt_0001.xml": (camt(day="0001-01-01"), r"line 1 .*booking date: 0001-01-01 is outside"),
    "camt_control.xml": (
        camt(text="a&#1;b"),
        r"line 8: invalid xmlChar value 1 \(a control character",
    ),
    "mt940_1e15.sta": (
        mt940(amt="1000000000000000,"),
        r"statement REF/1, line 1 \(entry REF/1#1\), amount: .*beyond",
    ),
    "mt940_1e17.sta": (mt940(amt="100000000000000000,"), r"line 5 \(:61:\), amount: .*beyond"),
    "mt940_3_decimals.sta": (mt940(amt="1,234"), r"line 5 \(:61:\), amount: .*fraction of a cent"),
    "mt940_XYZ.sta": (mt940(ccy="XYZ"), r"statement REF/1, currency: .*'XYZ'"),
    "mt940_2099.sta": (mt940(day="9912311231"), r"line 1 .*booking date: 2099-12-31 is outside"),
    "mt940_nul.sta": (mt940(text="a\x00b"), r"line 1 .*remittance unstructured: control char"),
    "ofx_3_decimals.ofx": (ofx(amt="1.234"), r"line 1 \(entry F1\), amount: .*fraction"),
    "ofx_1e17.ofx": (ofx(amt="100000000000000000"), r"line 1 \(entry F1\), amount: .*beyond"),
    "ofx_EURO.ofx": (ofx(ccy="EURO"), r"currency: .*'EURO'"),
    "ofx_0001.ofx": (ofx(day="00010101"), r"booking date: 0001-01-01 is outside"),
    "bank_3_decimals.csv": (bank_csv(amt="1.234"), r"line 1 .*amount: .*fraction of a cent"),
    "bank_1e17.csv": (bank_csv(amt="100000000000000000"), r"line 1 .*amount: .*beyond"),
    "bank_XYZ.csv": (bank_csv(ccy="XYZ"), r"currency: .*'XYZ'"),
    "cfonb_big.cfo": (cfonb(amt="9999999999999H", dec="0"), r"line 1 \(entry .*amount: .*beyond"),
    "cfonb_3_decimals.cfo": (
        cfonb(amt="0000000020001A", dec="3", opening="0000000000000{"),
        r"line 1 \(entry .*amount: amount 200\.011 has a fraction of a cent",
    ),
    # balances are amounts too: below the cent or beyond the bound, in any format
    "cfonb_balance_3_decimals.cfo": (
        cfonb(amt="0000000020001{", dec="3", opening="0000000000001A"),
        r"opening balance: amount 0\.011 has a fraction of a cent",
    ),
    "mt940_balance_3_decimals.sta": (
        mt940().replace("EUR100,00", "EUR100,001"),
        r"statement REF/1, opening balance: amount 100\.001 has a fraction of a cent",
    ),
    "ofx_balance_1e17.ofx": (
        ofx().replace("</BANKTRANLIST>", "</BANKTRANLIST><LEDGERBAL><BALAMT>1E17<DTASOF>20260331"),
        r"closing balance: amount 1E\+17 is beyond",
    ),
}


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def _one_clean_line(message: str, path: Path) -> None:
    assert "\n" not in message, message
    assert str(path) in message, message
    assert not any(word in message for word in INTERNALS), message


@pytest.mark.parametrize("name", sorted(HOSTILE_STATEMENTS))
def test_hostile_statement_is_refused_naming_file_place_and_field(tmp_path: Path, name: str):
    text, expected = HOSTILE_STATEMENTS[name]
    path = _write(tmp_path, name, text)
    with pytest.raises(StatementError, match=expected) as caught:
        parse_file(path)
    _one_clean_line(str(caught.value), path)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("utf16.xml", camt().encode("utf-16"), "UTF-16 text"),
        ("export.zip", None, "this is a ZIP archive"),
        ("noise.bin", bytes(range(32)) * 100, "binary content"),
    ],
)
def test_statement_that_is_not_text_says_what_it_is(tmp_path: Path, name, content, expected):
    path = tmp_path / name
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("statement.xml", camt())
    else:
        path.write_bytes(content)
    with pytest.raises(StatementError, match=expected) as caught:
        parse_file(path)
    _one_clean_line(str(caught.value), path)


def test_statement_directory_and_missing_file_are_one_line(tmp_path: Path):
    for path, expected in ((tmp_path, "is a directory"), (tmp_path / "nope.xml", "cannot read")):
        with pytest.raises(StatementError, match=expected) as caught:
            parse_file(path)
        assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_amount_at_the_bound_is_accepted_in_every_reader(tmp_path: Path):
    top = "1000000000000.00"
    for name, text in (
        ("top.xml", camt(amt=top)),
        ("top.sta", mt940(amt="1000000000000,00")),
        ("top.ofx", ofx(amt=top)),
        ("top.csv", bank_csv(amt=top)),
        ("top.cfo", cfonb(amt="0100000000000{", dec="0")),
    ):
        (st,) = parse_file(_write(tmp_path, name, text)).statements
        assert abs(st.line_rows()[0].amount) == Decimal(top), name


def _counts(con) -> tuple[int, int]:
    return (
        con.execute("SELECT count(*) FROM bank_transactions").fetchall()[0][0],
        con.execute("SELECT count(*) FROM invoices").fetchall()[0][0],
    )


def _ingest_statement(con, path: Path) -> None:
    parsed = parse_file(path)
    load_statements(
        con,
        parsed.statements,
        file_name=path.name,
        sha256=parsed.sha256,
        source="bank_statement",
        accept_unbalanced=True,
    )


def test_refused_statements_leave_nothing_and_the_warehouse_reconciles(tmp_path: Path):
    db = tmp_path / "o2c.duckdb"
    with connect(db) as con:
        ingest_invoice_file(con, write_export(tmp_path / "export.csv", GOOD))
        before = _counts(con)
        for name, (text, _) in HOSTILE_STATEMENTS.items():
            with pytest.raises(StatementError):
                _ingest_statement(con, _write(tmp_path, name, text))
        assert _counts(con) == before == (0, len(GOOD))
        text = camt(amt="1234.56", text="Facture FA-1")
        _ingest_statement(con, _write(tmp_path, "good.xml", text))
        result = reconcile_warehouse(con)
        assert result.stats["settled"] == 1
        stored = con.execute("SELECT amount FROM bank_transactions").fetchall()
    assert stored == [(Decimal("1234.56"),)]


def _invoice(con, invoice_id: str, amount: str) -> None:
    con.execute(
        """INSERT INTO invoices (invoice_id, document_type, customer_id, issue_date, due_date,
               currency, amount_total, row_hash, first_loaded_at, updated_at)
           VALUES (?, 'invoice', 'C1', ?, ?, 'EUR', ?, 'h', ?, ?)""",
        [invoice_id, date(2026, 1, 1), date(2026, 1, 31), Decimal(amount), NOW, NOW],
    )


def _transaction(con, tx_id: str, amount: str, text: str) -> None:
    con.execute(
        """INSERT INTO bank_transactions (transaction_id, account_iban, currency, booking_date,
               amount, remittance_unstructured, bank_reference, source, loaded_at)
           VALUES (?, 'FR7630003012340123456789057', 'EUR', ?, ?, ?, ?, 'csv', ?)""",
        [tx_id, date(2026, 3, 2), Decimal(amount), text, tx_id, NOW],
    )


@pytest.mark.parametrize(
    "amount",
    [
        "1000000000000.00",  # the bound of models/bounds.py
        "1000000000000000.00",  # 10^15: stored before the bounds existed, overflowed every run
    ],
)
def test_amount_at_the_bound_reconciles_and_ages_without_overflow(tmp_path: Path, amount: str):
    cents = int(Decimal(amount) * 100)
    with connect(tmp_path / "o2c.duckdb") as con:
        con.execute(
            "INSERT INTO customers (customer_id, name, row_hash, updated_at) VALUES ('C1', 'X', 'h', ?)",
            [NOW],
        )
        _invoice(con, "FA-1", amount)
        _invoice(con, "FA-2", amount)
        _transaction(con, "T1", amount, "Facture FA-1")
        result = reconcile_warehouse(con)
        assert result.stats["amount_matched_cents"] == cents
        assert reconcile_warehouse(con).stats["transactions"] == 0  # and again, still fine
        views = compute_aging(con, as_of=date(2026, 3, 31))
        assert views.aged.select("invoice_id", "amount_open_cents").rows() == [("FA-2", cents)]
        save_snapshot(con, views, flow_run_id=None)
        assert read_dso_history(con)["receivables_cents"].to_list() == [cents]
        assert read_payments(con, as_of=date(2026, 3, 31))["amount_cents"].to_list() == [cents]
        largest = Decimal("9999999999999999.99")  # any DECIMAL(18,2) has BIGINT cents
        (got,) = con.execute("SELECT amount_to_cents(?)", [largest]).fetchall()
        assert got == (int(largest * 100),)


# ERP exports: rows out of bounds go to quarantine with the reason; the file loads the rest.
HOSTILE_ROWS = {
    "FA-20": ("FA-20;C1;Dupont SARL;2026-03-10;2026-04-10;EUR;1000000000000000;;;", "amount_total beyond"),
    "FA-21": ("FA-21;C1;Dupont SARL;2026-03-10;2026-04-10;EUR;1E15;;;", "amount_total is empty or not an amount"),
    "FA-22": ("FA-22;C1;Dupont SARL;2026-03-10;2026-04-10;XYZ;10,00;;;", "currency is not an ISO 4217 code"),
    "FA-23": ("FA-23;C1;Dupont SARL;2026-03-10;2026-04-10;EURO;10,00;;;", "currency is not an ISO 4217 code"),
    "FA-24": ("FA-24;C1;Dupont SARL;2026-03-10;9999-12-31;EUR;10,00;;;", "due_date outside 2000-01-01..2099-12-31"),
    "FA-25": ("FA-25;C1;Dupont SARL;0001-01-01;2026-04-10;EUR;10,00;;;", "issue_date outside 2000-01-01..2099-12-31"),
    "FA-26": ("FA-26;C9;Du\x00pont SARL;2026-03-10;2026-04-10;EUR;10,00;;;", "control character (NUL or another C0 but tab): customer_name"),
    "FA-27": ("FA-27;C9;Dupont\x07 SARL;2026-03-10;2026-04-10;EUR;10,00;;;", "control character (NUL or another C0 but tab): customer_name"),
    "FA-28": ("FA-28;C1;Dupont SARL;2026-03-10;2026-04-10;EUR;100000000000000000000;;;", "amount_total beyond"),
    "AV-28": ("AV-28;C1;Dupont SARL;2026-03-10;2026-04-10;EUR;-100000000000000000000;avoir;;", "amount_total beyond"),
}  # fmt: skip


def test_hostile_rows_are_quarantined_with_their_reason(tmp_path: Path):
    rows = [row for row, _ in HOSTILE_ROWS.values()]
    export = write_export(tmp_path / "export.csv", [*GOOD, *rows])
    with connect(tmp_path / "o2c.duckdb") as con:
        result = ingest_invoice_file(con, export)
        assert result.quarantined == len(HOSTILE_ROWS)
        quarantined = dict(
            con.execute("SELECT invoice_id, failed_checks FROM quarantine_invoices").fetchall()
        )
        stored = {r[0] for r in con.execute("SELECT invoice_id FROM invoices").fetchall()}
        names = con.execute("SELECT name FROM customers WHERE contains(name, chr(0))").fetchall()
        assert names == []
        assert reconcile_warehouse(con).stats["transactions"] == 0
    assert stored == {row.split(";")[0] for row in GOOD}
    for invoice_id, (_, reason) in HOSTILE_ROWS.items():
        assert reason in quarantined[invoice_id], (invoice_id, quarantined[invoice_id])


def test_customer_master_with_a_nul_quarantines_that_row(tmp_path: Path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id;name;city\nC1;Dupont;Nice\nC2;Mar\x00tin;Paris\nC3;Ok;Lyon\x01\n")
    with connect(tmp_path / "o2c.duckdb") as con:
        result = ingest_customer_file(con, path)
        reasons = con.execute(
            "SELECT line_number, failed_checks FROM quarantine_customers ORDER BY 1"
        ).fetchall()
        stored = con.execute("SELECT customer_id FROM customers").fetchall()
    assert result.quarantined == 2 and stored == [("C1",)]
    assert [(line, reason.rsplit(": ", 1)[1]) for line, reason in reasons] == [
        (3, "name"),
        (4, "city"),
    ]


def test_suite_currencies_are_the_bounds_list():
    suite = json.loads(
        (Path(__file__).parents[2] / "expectations" / "invoices.json").read_text(encoding="utf-8")
    )
    (currency,) = [
        e for e in suite["expectations"] if e["kwargs"].get("column") == "currency" and "value_set" in e["kwargs"]
    ]  # fmt: skip
    assert set(currency["kwargs"]["value_set"]) == bounds.ISO_4217
    assert {"XYZ", "EURO"}.isdisjoint(bounds.STATEMENT_CURRENCIES)


ROWS = "\n".join([HEADER, *GOOD]) + "\n"
MIXED_ENDS = ["\r\n", "\r", "\n", "\r", "\r\n", "\r"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bom.csv", ROWS.encode("utf-16")),
        ("le.csv", ROWS.encode("utf-16-le")),
        ("be.csv", ROWS.encode("utf-16-be")),
        ("mac.csv", ROWS.replace("\n", "\r").encode("cp1252")),
        # CR-only lines among CRLF and LF ones (an export edited on another machine)
        (
            "mixed.csv",
            "".join(
                f"{line}{end}" for line, end in zip([HEADER, *GOOD], MIXED_ENDS, strict=True)
            ).encode("cp1252"),
        ),
    ],
)
def test_utf16_and_cr_only_exports_are_read(tmp_path: Path, name: str, content: bytes):
    frame = read_table(_write(tmp_path, name, content))
    assert frame["invoice_id"].to_list() == [row.split(";")[0] for row in GOOD]
    assert frame["customer_name"][4] == "Müller GmbH"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "twice.csv",
            "invoice_id;Customer_Name;amount_total; customer_name \nFA-1;A;1;B\n",
            r"column 'customer_name' appears 2 times in the header \(columns 2, 4\)",
        ),
        ("book.xlsx", None, r"this is a ZIP archive \(an \.xlsx workbook\?\).*export it as CSV"),
        ("noise.csv", bytes(range(32)) * 100, "binary content"),
        ("old.csv", b"\xd0\xcf\x11\xe0" + bytes(500), "old Excel .xls workbook"),
        (
            "unclosed.csv",
            HEADER
            + "\n"
            + GOOD[0]
            + '\nFA-2;C1;"Dupont;2026-03-01;2026-03-31;EUR;1;;;\n'
            + GOOD[2]
            + "\n",
            r"line 3: a quoted field is never closed",
        ),
        (
            "unclosed_last.csv",
            HEADER + "\n" + GOOD[0] + '\nFA-2;C1;Dupont;2026-03-01;2026-03-31;EUR;1;;;"RF\n',
            r"line 3: a quoted field is never closed",
        ),
        (
            "ragged.csv",
            HEADER + "\n" + GOOD[0] + ";extra\n",
            r"line 2 has 11 fields, the header 10",
        ),
        ("empty.csv", b"", "empty file"),
        ("fake.parquet", "invoice_id\nFA-1\n", "not a Parquet file"),
        ("bad.jsonl", '{"invoice_id": "FA-1"}\n[1, 2]\n', "line 2 is not a JSON object"),
        # one key twice in one object: Polars would keep one copy without a word
        (
            "twice.jsonl",
            '{"invoice_id": "FA-1", "amount_total": "1"}\n'
            '{"invoice_id": "FA-2", "amount_total": "2", "Amount_Total ": "20"}\n',
            r"line 2: key 'amount_total' appears 2 times in one object",
        ),
        (
            "same.jsonl",
            '{"invoice_id": "FA-1", "x": "a \\" \\"invoice_id\\": b", "invoice_id": "FA-2"}\n',
            r"line 1: key 'invoice_id' appears 2 times",
        ),
        ("utf32.csv", ROWS.encode("utf-32"), "UTF-32 text; export it as UTF-8"),
        (
            "nul_header.csv",
            HEADER.replace("customer_name", "customer\x00name") + "\n" + GOOD[0] + "\n",
            r"the name of column 3 holds a control character",
        ),
    ],
)
def test_unreadable_export_is_one_line_naming_file_and_line(
    tmp_path: Path, name, content, expected
):
    path = tmp_path / name
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("xl/workbook.xml", "<workbook/>")
    else:
        _write(tmp_path, name, content)
    with pytest.raises(InputFileError, match=expected) as caught:
        read_table(path)
    _one_clean_line(str(caught.value), path)


def test_duplicate_columns_in_parquet_differing_in_case(tmp_path: Path):
    pl.DataFrame({"Invoice_ID": ["FA-1"], "invoice_id": ["FA-2"]}).write_parquet(
        tmp_path / "x.parquet"
    )
    with pytest.raises(InputFileError, match=r"'invoice_id' appears 2 times .*columns 1, 2"):
        read_table(tmp_path / "x.parquet")


def test_export_directory_and_missing_file_are_one_line(tmp_path: Path):
    folder = tmp_path / "exports.csv"
    folder.mkdir()
    with pytest.raises(InputFileError, match="is a directory") as caught:
        read_table(folder)
    _one_clean_line(str(caught.value), folder)
    with pytest.raises(InputFileError, match="no such file"):
        read_table(tmp_path / "nope.csv")
