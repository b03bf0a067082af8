"""The whole remittance of a transfer, as each statement format carries it: texts, creditor
references and the documents a payer lists with the amount paid on each.

Matching can only use what the parsers keep: these tests build the files banks send (camt.053
v02 and v08, camt.054, MT940 German and Dutch dialects, CFONB 120 complements) and check each
field lands where matching looks for it. camt files are read by both readers (columnar and
element), which must agree.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.statements.bounds import check_statements
from o2c.tasks.bank.statements.camt import parse_camt
from o2c.tasks.bank.statements.cfonb import parse_cfonb
from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.statements.errors import StatementError
from tests.tasks.bank.statements.conftest import same_statements
from tests.tasks.bank.statements.test_mt940_columns import assert_same_as_rows

# ---------------------------------------------------------------------------------------------
# camt

_BOOKED = "<Sts><Cd>BOOK</Cd></Sts>"
_BOOKED_V02 = "<Sts>BOOK</Sts>"


def _camt(tmp_path: Path, entries: str, version: str = "08", message: str = "053") -> Path:
    kind, stmt = {
        "053": ("BkToCstmrStmt", "Stmt"),
        "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
    }[message]
    balances = (
        ""
        if message == "054"
        else "".join(
            f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0</Amt>'
            "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-02</Dt></Dt></Bal>"
            for code in ("OPBD", "CLBD")
        )
    )
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{message}.001.{version}">'
        f"<{kind}><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-03T00:00:00</CreDtTm></GrpHdr>"
        f"<{stmt}><Id>S1</Id><Acct><Id><IBAN>BE68539007547034</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{balances}{entries}</{stmt}></{kind}></Document>\n"
    )
    path = tmp_path / f"camt{message}-v{version}.xml"
    path.write_text(text, encoding="utf-8")
    return path


def _entry(amount: str, details: str, info: str = "", status: str = _BOOKED) -> str:
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>{status}'
        "<BookgDt><Dt>2026-11-02</Dt></BookgDt><ValDt><Dt>2026-11-02</Dt></ValDt>"
        f"<AcctSvcrRef>SVC-{amount}</AcctSvcrRef><NtryDtls>{details}</NtryDtls>"
        f"{f'<AddtlNtryInf>{info}</AddtlNtryInf>' if info else ''}</Ntry>"
    )


def _tx(rmt: str, amount: str | None = None, e2e: str = "NOTPROVIDED") -> str:
    own = f'<Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>' if amount else ""
    return (
        f"<TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{own}"
        "<RltdPties><Dbtr><Nm>Brasserie du Parc SPRL</Nm></Dbtr></RltdPties>"
        f"<RmtInf>{rmt}</RmtInf></TxDtls>"
        if rmt
        else f"<TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{own}</TxDtls>"
    )


_NOTHING_TAKEN = {"adjustment_cents": None, "adjustment_reason": None}


def _document(number: str, amount: str, kind: str = "CINV", when: str = "2026-10-01") -> str:
    return (
        "<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>"
        f"{kind}</Cd></CdOrPrtry></Tp><Nb>{number}</Nb><RltdDt>{when}</RltdDt></RfrdDocInf>"
        f'<RfrdDocAmt><RmtdAmt Ccy="EUR">{amount}</RmtdAmt></RfrdDocAmt></Strd>'
    )


def _read(path: Path) -> list[StatementLine]:
    """The lines of a camt file: both readers must give the same statements."""
    fast = parse_file(path)
    slow = parse_camt(path, path.read_bytes()[:65536])
    assert same_statements(fast.statements, slow.statements)
    return [line for st in fast.statements for line in st.line_rows()]


@pytest.mark.parametrize("version", ["02", "08"])
def test_camt_two_invoices_with_amounts(tmp_path: Path, version: str) -> None:
    status = _BOOKED_V02 if version == "02" else _BOOKED
    rmt = _document("F2026-0101", "1200.00") + _document("F2026-0107", "300.50", when="2026-10-09")
    path = _camt(tmp_path, _entry("1500.50", _tx(rmt), status=status), version)
    (line,) = _read(path)
    assert line.remittance_documents == [
        {"doc_number": "F2026-0101", "doc_type": "CINV", "doc_date": date(2026, 10, 1),
         "amount_cents": 120000, **_NOTHING_TAKEN},
        {"doc_number": "F2026-0107", "doc_type": "CINV", "doc_date": date(2026, 10, 9),
         "amount_cents": 30050, **_NOTHING_TAKEN},
    ]  # fmt: skip
    assert line.amount == Decimal("1500.50")
    assert line.remittance_unstructured is None  # no text at all: none made up


def test_camt_credit_note_is_netted(tmp_path: Path) -> None:
    """An invoice minus a credit note: the credit note's amount is negative, whether the payer
    gives it as `CdtNoteAmt` or as the remitted amount of a `CREN` document."""
    note = (
        "<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CREN</Cd></CdOrPrtry></Tp><Nb>AV-0009</Nb>"
        '</RfrdDocInf><RfrdDocAmt><CdtNoteAmt Ccy="EUR">200.00</CdtNoteAmt></RfrdDocAmt></Strd>'
    )
    rmt = _document("F2026-0101", "1200.00") + note + _document("AV-0010", "50.00", kind="CREN")
    (line,) = _read(_camt(tmp_path, _entry("950.00", _tx(rmt))))
    docs = line.remittance_documents
    assert [(d["doc_number"], d["amount_cents"]) for d in docs] == [
        ("F2026-0101", 120000), ("AV-0009", -20000), ("AV-0010", -5000),
    ]  # fmt: skip
    assert sum(d["amount_cents"] for d in docs) == 95000  # what the transfer paid


def test_camt_references_of_every_type_rf_first(tmp_path: Path) -> None:
    """Every `CdtrRefInf/Ref` is kept, whatever its type, the ISO 11649 (RF) ones first, and
    `AddtlRmtInf` joins the text."""
    rmt = (
        "<Ustrd>Paiement factures octobre</Ustrd>"
        "<Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>BBA</Prtry></CdOrPrtry></Tp>"
        "<Ref>+++090/9337/55493+++</Ref></CdtrRefInf>"
        "<AddtlRmtInf>voir relevé joint</AddtlRmtInf></Strd>"
        "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>"
        "<Ref>RF18539007547034</Ref></CdtrRefInf></Strd>"
    )
    (line,) = _read(_camt(tmp_path, _entry("10.00", _tx(rmt), info="VIREMENT SEPA RECU")))
    assert line.remittance_structured == "RF18539007547034 +++090/9337/55493+++"
    assert line.remittance_unstructured == "Paiement factures octobre voir relevé joint"
    assert line.remittance_documents is None


def test_camt_single_reference_not_scor(tmp_path: Path) -> None:
    """A lone creditor reference of a proprietary type, read by the columnar reader."""
    rmt = (
        "<Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>IPI</Prtry></CdOrPrtry></Tp>"
        "<Ref>000000012345</Ref></CdtrRefInf></Strd>"
    )
    (line,) = _read(_camt(tmp_path, _entry("10.00", _tx(rmt), info="VIREMENT SEPA RECU")))
    assert line.remittance_structured == "000000012345"
    # the transaction has its own remittance: the entry's text is not made its text
    assert line.remittance_unstructured is None


def test_camt_batch_details_keep_their_own_remittance(tmp_path: Path) -> None:
    """A batch credit: each transfer has its own remittance, and the batch's text ("REMISE DE
    3 VIREMENTS") is none of theirs."""
    details = (
        _tx(_document("F2026-0101", "100.00"), amount="100.00", e2e="E2E-1")
        + _tx("<Ustrd>Facture F2026-0102</Ustrd>", amount="200.00", e2e="E2E-2")
        + _tx(
            "<Strd><CdtrRefInf><Ref>RF47F20260103</Ref></CdtrRefInf></Strd>",
            amount="300.00",
            e2e="E2E-3",
        )
    )
    entry = _entry("600.00", details, info="REMISE DE 3 VIREMENTS SEPA RECUS")
    lines = _read(_camt(tmp_path, entry))
    assert [x.detail_index for x in lines] == [1, 2, 3]
    assert [x.end_to_end_id for x in lines] == ["E2E-1", "E2E-2", "E2E-3"]
    assert lines[0].remittance_documents == [
        {"doc_number": "F2026-0101", "doc_type": "CINV", "doc_date": date(2026, 10, 1),
         "amount_cents": 10000, **_NOTHING_TAKEN},
    ]  # fmt: skip
    assert lines[1].remittance_unstructured == "Facture F2026-0102"
    assert lines[2].remittance_structured == "RF47F20260103"
    assert all(x.remittance_unstructured != "REMISE DE 3 VIREMENTS SEPA RECUS" for x in lines)


def test_camt_batch_without_details_keeps_entry_text(tmp_path: Path) -> None:
    entry = (
        '<Ntry><Amt Ccy="EUR">600.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-11-02</Dt></BookgDt>"
        "<AddtlNtryInf>REMISE DE 3 VIREMENTS SEPA RECUS</AddtlNtryInf></Ntry>"
    )
    (line,) = _read(_camt(tmp_path, entry))
    assert line.remittance_unstructured == "REMISE DE 3 VIREMENTS SEPA RECUS"
    assert line.remittance_documents is None


def test_camt_plain_transfer_without_remittance_keeps_entry_text(tmp_path: Path) -> None:
    (line,) = _read(_camt(tmp_path, _entry("10.00", _tx(""), info="VIREMENT RECU")))
    assert line.remittance_unstructured == "VIREMENT RECU"


def test_camt_ultimate_debtor_stays_visible(tmp_path: Path) -> None:
    """A factor pays for its client: the payer is the factor, the client is named as the
    ultimate debtor and must stay visible to matching (read by the columnar reader)."""
    tx = (
        "<TxDtls><Refs><EndToEndId>E-9</EndToEndId></Refs><RltdPties>"
        "<Dbtr><Pty><Nm>EUROFACTOR SA</Nm></Pty></Dbtr>"
        "<DbtrAcct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></DbtrAcct>"
        "<UltmtDbtr><Pty><Nm>Brasserie du Parc</Nm></Pty></UltmtDbtr></RltdPties>"
        "<RmtInf><Ustrd>FACT F2026-0101</Ustrd></RmtInf></TxDtls>"
    )
    (line,) = _read(_camt(tmp_path, _entry("10.00", tx)))
    assert line.counterparty_name == "EUROFACTOR SA"
    assert line.remittance_unstructured == "FACT F2026-0101 Brasserie du Parc"


def test_camt054_documents(tmp_path: Path) -> None:
    rmt = _document("INV-77", "80.00") + _document("INV-78", "20.00")
    path = _camt(tmp_path, _entry("100.00", _tx(rmt)), version="04", message="054")
    (line,) = _read(path)
    assert [d["doc_number"] for d in line.remittance_documents] == ["INV-77", "INV-78"]
    assert [d["amount_cents"] for d in line.remittance_documents] == [8000, 2000]


def test_camt_document_without_amount_or_in_another_currency(tmp_path: Path) -> None:
    rmt = (
        "<Strd><RfrdDocInf><Nb>F-1</Nb></RfrdDocInf></Strd>"
        "<Strd><RfrdDocInf><Nb>F-2</Nb></RfrdDocInf>"
        '<RfrdDocAmt><RmtdAmt Ccy="USD">12.00</RmtdAmt></RfrdDocAmt></Strd>'
    )
    (line,) = _read(_camt(tmp_path, _entry("10.00", _tx(rmt))))
    assert line.remittance_documents == [
        {"doc_number": "F-1", "doc_type": None, "doc_date": None, "amount_cents": None,
         **_NOTHING_TAKEN},
        {"doc_number": "F-2", "doc_type": None, "doc_date": None, "amount_cents": None,
         **_NOTHING_TAKEN},
    ]  # fmt: skip


def test_camt_claim_taken_off_a_document_is_kept_with_its_reason(tmp_path: Path) -> None:
    """A head office takes a penalty off one invoice (`AdjstmntAmtAndRsn`, a debit) and adds
    interest to another (a credit): each document keeps what was taken off and why, so matching
    can put the claim to a person."""
    due = '<DuePyblAmt Ccy="EUR">{}</DuePyblAmt>'
    penalty = (
        '<AdjstmntAmtAndRsn><Amt Ccy="EUR">87.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
        "<Rsn>PENA</Rsn><AddtlInf>PENALITE RETARD DE LIVRAISON</AddtlInf></AdjstmntAmtAndRsn>"
    )
    interest = (
        '<AdjstmntAmtAndRsn><Amt Ccy="EUR">2.50</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "</AdjstmntAmtAndRsn>"
    )
    rmt = "".join(
        "<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>"
        f"<Nb>{number}</Nb></RfrdDocInf><RfrdDocAmt>{due.format(owed)}{adjustment}"
        f'<RmtdAmt Ccy="EUR">{paid}</RmtdAmt></RfrdDocAmt></Strd>'
        for number, owed, adjustment, paid in (
            ("FT2025/00057", "4972.66", penalty, "4885.66"),
            ("FT2025/00058", "100.00", interest, "102.50"),
            ("FT2025/00059", "50.00", "", "50.00"),
        )
    )
    (line,) = _read(_camt(tmp_path, _entry("5038.16", _tx(rmt))))
    assert [
        (d["doc_number"], d["amount_cents"], d["adjustment_cents"], d["adjustment_reason"])
        for d in line.remittance_documents
    ] == [
        ("FT2025/00057", 488566, 8700, "PENA PENALITE RETARD DE LIVRAISON"),
        ("FT2025/00058", 10250, -250, None),
        ("FT2025/00059", 5000, None, None),
    ]


def test_camt_bad_document_date_names_its_place(tmp_path: Path) -> None:
    rmt = "<Strd><RfrdDocInf><Nb>F-1</Nb><RltdDt>2026-13-45</RltdDt></RfrdDocInf></Strd>"
    with pytest.raises(StatementError, match=r"RltdDt.*bad date"):
        parse_file(_camt(tmp_path, _entry("10.00", _tx(rmt))))


# ---------------------------------------------------------------------------------------------
# MT940 (columnar reader held to the row reader on each file)

_MT940_HEAD = ":20:STMT\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C261102EUR0,00\n"


def _mt940(*entries: str) -> list[StatementLine]:
    text = _MT940_HEAD + "".join(entries) + ":62F:C261103EUR0,00\n-\n"
    return assert_same_as_rows(text.encode())


def test_mt940_german_sepa_keys() -> None:
    (line,) = _mt940(
        ":61:2611031103C1500,50NTRFNONREF//B1\n"
        ":86:166?00SEPA-GUTSCHRIFT?109310?20EREF+E2E-2026-55?21KREF+KD-4711?22MREF+MD-9\n"
        "?23SVWZ+RE F2026-0101 F2026-01?2407?25ABWA+Brasserie du Parc?30COBADEFFXXX\n"
        "?31DE02120300000000202051?32BRASSERIE HOLDING?33 SA\n"
    )
    assert line.end_to_end_id == "E2E-2026-55"
    # the text, then the payer's reference, then the ultimate debtor: all visible to matching
    assert line.remittance_unstructured == "RE F2026-0101 F2026-0107 KD-4711 Brasserie du Parc"
    assert (line.counterparty_name, line.counterparty_iban) == (
        "BRASSERIE HOLDING SA", "DE02120300000000202051",
    )  # fmt: skip


def test_mt940_dutch_structured_and_ordering_party() -> None:
    first, second = _mt940(
        ":61:2611031103C10,00NTRFEREF//B1\n"
        ":86:/EREF/E2E-1/ORDP//NAME/Jansen BV/ADDR/Kade 1/REMI/STRD/CUR/RF18539007547034/\n",
        ":61:2611031103C20,00NTRFEREF//B2\n"
        ":86:/ORDP/Pietersen VOF/REMI/USTD//Factuur 2026-0042/IBAN/NL32INGB0000012345/\n",
    )
    assert (first.end_to_end_id, first.counterparty_name) == ("E2E-1", "Jansen BV")
    assert first.remittance_structured == "RF18539007547034"
    assert second.counterparty_name == "Pietersen VOF"
    assert second.counterparty_iban == "NL32INGB0000012345"
    assert second.remittance_unstructured == "Factuur 2026-0042"


def test_mt940_french_ordering_party_with_its_account() -> None:
    # French and Spanish banks' free style: the payer's account after /ACCT/, the name before it,
    # both wrapped over the 65-character lines.
    (line,) = _mt940(
        ":61:2511101110C1221,20NTRF0043581387//CA831251110000235\n"
        ":86:/EREF/0043581387/REMI/F2025-00648/ORDP//NAME/CAMERAS SECURITE\n"
        " OCCITANIE SAS/ACCT/FR4810278907302377211951623\n",
    )
    assert line.counterparty_name == "CAMERAS SECURITE OCCITANIE SAS"
    assert line.counterparty_iban == "FR4810278907302377211951623"
    assert line.remittance_unstructured == "F2025-00648"


# ---------------------------------------------------------------------------------------------
# CFONB 120 complements (05)

_ACCOUNT = "30003" + "0000" + "01234" + "EUR2" + " " + "01234567890"  # columns 3-32


def _record(code: str, tail: str) -> str:
    return (code + _ACCOUNT + tail).ljust(120)[:120]


def _movement(amount: str, label: str, op: str = "05") -> str:
    # op code, booking date, 2 blanks, value date, label (31), 11 blanks, amount (14), reference
    return _record("04", f"{op}031126  031126{label:<31}{'':11}{amount:>14}{'REF-BANK-1':<16}")


def _complement(qualifier: str, zone: str) -> str:
    return _record("05", f"{'':13}{qualifier}{zone:<70}")


def _cfonb(tmp_path: Path, *records: str) -> list[StatementLine]:
    text = "\n".join(
        [
            _record("01", f"  021126{'':50}{'0000000000000{':>14}"),
            *records,
            _record("07", f"  031126{'':50}{'0000000000000{':>14}"),
        ]
    )
    path = tmp_path / "releve.cfo"
    path.write_text(text + "\n", encoding="latin-1")
    return [line for st in parse_cfonb(path, path.read_bytes()) for line in st.lines]


def test_cfonb_complements(tmp_path: Path) -> None:
    wrapped = "Paiement factures F2026-0101 F2026-0107 et avoir AV-0009 du client 123"  # 70
    assert len(wrapped) == 70
    credit, debit = _cfonb(
        tmp_path,
        _movement("0000000150050{", "VIR SEPA RECU /DE BRASSERIE"),
        _complement("NPY", "BRASSERIE DU PARC SPRL"),
        _complement("IPY", "BE71096123456769"),
        _complement("LIB", wrapped),
        _complement("LCC", wrapped),  # the same text again: kept once
        _complement("LC2", "45 merci"),  # continues a word cut at the end of the zone
        _complement("RCN", f"{'E2E-2026-55':<35}SUPP"),
        _complement("LCS", "RF18539007547034"),
        _complement("NPO", "CAFE DU PARC"),  # the ultimate debtor stays visible
        _movement("0000000002000}", "PRLV SEPA STROM", op="01"),
        _complement("NPY", "MY OWN COMPANY"),  # the account holder: not the counterparty
        _complement("NBE", "STROM AG"),
        _complement("IBE", "FR07ZZZ591778"),  # a creditor identifier, not an account
        _complement("RUM", "MANDATE-9"),
    )
    assert credit.amount == Decimal("15005.00") and debit.amount == Decimal("-200.00")
    assert credit.counterparty_name == "BRASSERIE DU PARC SPRL"
    assert credit.counterparty_iban == "BE71096123456769"
    assert credit.remittance_unstructured == f"{wrapped}45 merci CAFE DU PARC"
    assert credit.end_to_end_id == "E2E-2026-55"
    assert credit.remittance_structured == "RF18539007547034"
    assert credit.bank_reference == "REF-BANK-1"
    assert (debit.counterparty_name, debit.counterparty_iban) == ("STROM AG", None)
    assert debit.remittance_unstructured == "MANDATE-9"


def test_cfonb_movement_without_complement_keeps_its_label(tmp_path: Path) -> None:
    (line,) = _cfonb(tmp_path, _movement("0000000001000{", "VIR SEPA RECU F2026-0042"))
    assert line.remittance_unstructured == "VIR SEPA RECU F2026-0042"
    assert line.remittance_structured is None and line.counterparty_name is None


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            _document("F-1", "10.00", when="1901-01-01"),
            r"statement S1, line 1 .*, remittance document date: 1901-01-01 is outside",
        ),
        (
            _document("F-1", "10000000000000.00"),
            r"statement S1, entry 1, .*/RfrdDocAmt/RmtdAmt: amount .* is beyond the bound",
        ),
    ],
)
def test_camt_documents_held_to_the_bounds(tmp_path: Path, document: str, expected: str) -> None:
    """A listed document's date, amount and number are stored too: the same bounds apply."""
    with pytest.raises(StatementError, match=expected):
        parse_file(_camt(tmp_path, _entry("10.00", _tx(document))))


def test_document_number_with_a_control_character_is_refused() -> None:
    """XML cannot carry one, but any parser's lines go through the same check."""
    line = StatementLine(booking_date=date(2026, 11, 2), amount=Decimal("10.00"), currency="EUR")
    line.remittance_documents = [
        {"doc_number": "F\x01-1", "doc_type": None, "doc_date": None, "amount_cents": 1000}
    ]
    st = Statement("csv", None, "EUR", "S9", None, None, None, None, lines=[line])
    with pytest.raises(StatementError, match=r"S9, line 1, remittance document number: control"):
        check_statements("x.csv", [st])


def test_cfonb_a_label_longer_than_one_zone_goes_on_in_the_next_lib(tmp_path: Path) -> None:
    """Banks cut a long label at 70 columns, mid-word too, and go on in the next LIB record."""
    first = "VIR SEPA REGLEMENT FACTURES FR-26-10025 FR-26-10031 MOINS AVOIR AV2600"
    assert len(first) == 70
    cut, spaced, short = _cfonb(
        tmp_path,
        _movement("0000000150050{", "VIR SEPA RECU"),
        _complement("LIB", first),
        _complement("LIB", "04 MERCI"),  # "AV260004" cut in two
        _movement("0000000001000{", "VIR SEPA RECU"),
        _complement("LIB", first[:-6] + "AVOIR "),  # fills the zone, ends on a space
        _complement("LIB", " AV260004"),
        _movement("0000000001000{", "VIR SEPA RECU"),
        _complement("LIB", "FACTURE F2026-0042"),  # a short LIB, then another: two texts
        _complement("LIB", "CLIENT 123"),
    )
    assert "AV260004 MERCI" in cut.remittance_unstructured
    assert "AVOIR AV260004" in spaced.remittance_unstructured
    assert short.remittance_unstructured == "FACTURE F2026-0042 CLIENT 123"
