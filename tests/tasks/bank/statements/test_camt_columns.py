"""The columnar camt reader against the element reader, on generated files of many shapes.

Each file is built from a seeded random mix of what banks write (optional elements, both status
spellings, codes by domain or proprietary, batches, lists of remittance lines, references with
and without their type, parties with and without `Pty`, ultimate parties, entities, non-ASCII
text, attributes, documents with amounts, pretty-printing and Windows line ends); the columnar
reader must give exactly what the element reader gives, statement by statement and line by line.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from o2c.tasks.bank.statements import camt_columns
from o2c.tasks.bank.statements.camt import parse_camt, plain_namespace
from o2c.tasks.bank.statements.camt_columns import parse_camt_columns
from tests.tasks.bank.statements.conftest import same_statements

NAMES = ["ACME SARL", "Dupont &amp; Fils", "Café de l'Été", "日本商事", "A &lt;B&gt;", "Ünal GmbH"]
TEXTS = ["Facture F-1001", "FA2026-000123 acompte", "réf. 42 &amp; 43", "", "  spaced  ", "x&#233;"]


def _maybe(rng: random.Random, p: float, text: str) -> str:
    return text if rng.random() < p else ""


def _amount(rng: random.Random) -> str:
    cents = rng.randint(1, 5_000_000)
    shape = rng.random()
    if shape < 0.7:
        return f"{cents // 100}.{cents % 100:02d}"
    if shape < 0.8:
        return f"{cents // 100}"
    if shape < 0.9:
        return f"{cents // 100}.{cents % 100:02d}0"  # a third decimal, zero
    return f"{cents // 100}.{cents % 100 // 10}"


def _code(rng: random.Random) -> str:
    domain = "<Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>"
    proprietary = f"<Prtry><Cd>{rng.choice(['166', 'NTRF', 'X/1'])}</Cd></Prtry>"
    return rng.choice(
        [f"<BkTxCd>{domain}</BkTxCd>", f"<BkTxCd>{proprietary}</BkTxCd>",
         f"<BkTxCd>{domain}{proprietary}</BkTxCd>", "<BkTxCd/>"]
    )  # fmt: skip


def _party(rng: random.Random, role: str) -> str:
    name = rng.choice(NAMES)
    nm = f"<Nm>{name}</Nm>" if rng.random() < 0.9 else f'<Nm xml:lang="fr">{name}</Nm>'
    party = f"<{role}><Pty>{nm}</Pty></{role}>" if rng.random() < 0.5 else f"<{role}>{nm}</{role}>"
    account = rng.choice(
        ["<IBAN>FR7630006000011234567890189</IBAN>", "<Othr><Id>ACC-9</Id></Othr>"]
    )
    return party + _maybe(rng, 0.8, f"<{role}Acct><Id>{account}</Id></{role}Acct>")


def _detail(rng: random.Random, batch: bool) -> str:
    refs = _maybe(rng, 0.3, "<AcctSvcrRef>D-REF</AcctSvcrRef>") + (
        f"<EndToEndId>{rng.choice(['E2E-1', 'NOTPROVIDED', 'e-' + str(rng.randint(1, 99))])}"
        "</EndToEndId>"
    )
    amount = ""
    if batch:
        amount = f'<Amt Ccy="EUR">{_amount(rng)}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
    parties = (
        _party(rng, "Dbtr")
        + _maybe(rng, 0.2, f"<UltmtDbtr><Nm>{rng.choice(NAMES)}</Nm></UltmtDbtr>")
        + _party(rng, "Cdtr")
        + _maybe(rng, 0.2, "<UltmtCdtr><Pty><Nm> Filiale Nord </Nm></Pty></UltmtCdtr>")
    )
    ustrd = "".join(f"<Ustrd>{rng.choice(TEXTS)}</Ustrd>" for _ in range(rng.choice([0, 1, 1, 2])))
    tp = "<Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>" if rng.random() < 0.5 else ""
    strd = _maybe(rng, 0.3, f"<Strd><CdtrRefInf>{tp}<Ref>RF18539007547034</Ref></CdtrRefInf>")
    if strd:
        strd += _maybe(rng, 0.3, "<AddtlRmtInf>see invoice</AddtlRmtInf>") + "</Strd>"
        # a second reference of another type, or documents with amounts (element reader)
        strd += _maybe(
            rng, 0.2, "<Strd><CdtrRefInf><Ref>+++090/9337/55493+++</Ref></CdtrRefInf></Strd>"
        )
    strd += _maybe(
        rng,
        0.15,
        "<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>F-7</Nb>"
        f'<RltdDt>2026-10-01</RltdDt></RfrdDocInf><RfrdDocAmt><RmtdAmt Ccy="EUR">{_amount(rng)}'
        "</RmtdAmt></RfrdDocAmt></Strd>",
    )
    rmt = f"<RmtInf>{ustrd}{strd}</RmtInf>" if ustrd or strd else ""
    return (
        f"<TxDtls><Refs>{refs}</Refs>{amount}{_maybe(rng, 0.2, _code(rng))}"
        f"<RltdPties>{parties}</RltdPties>{rmt}"
        f"{_maybe(rng, 0.2, '<AddtlTxInf>tx info</AddtlTxInf>')}</TxDtls>"
    )


def _entry(rng: random.Random, n: int) -> str:
    status = rng.choice(["<Sts><Cd>BOOK</Cd></Sts>"] * 5 + ["<Sts>BOOK</Sts>", "<Sts>PDNG</Sts>"])
    booking = rng.choice(
        ["<BookgDt><Dt>2026-11-02</Dt></BookgDt>",
         "<BookgDt><DtTm>2026-11-02T10:11:12+01:00</DtTm></BookgDt>"]
    )  # fmt: skip
    details = rng.choice([0, 1, 1, 1, 1, 2, 3])
    body = "".join(_detail(rng, details > 1) for _ in range(details))
    return (
        f"<Ntry>{_maybe(rng, 0.3, f'<NtryRef>N{n}</NtryRef>')}"
        f'<Amt Ccy="{rng.choice(["EUR", "EUR", "CHF"])}">{_amount(rng)}</Amt>'
        f"<CdtDbtInd>{rng.choice(['CRDT', 'DBIT'])}</CdtDbtInd>"
        f"{_maybe(rng, 0.1, '<RvslInd>true</RvslInd>')}{status}{booking}"
        f"{_maybe(rng, 0.7, '<ValDt><Dt>2026-11-03</Dt></ValDt>')}"
        f"{_maybe(rng, 0.8, f'<AcctSvcrRef>SVC{n}</AcctSvcrRef>')}{_code(rng)}"
        f"{f'<NtryDtls>{body}</NtryDtls>' if body else ''}"
        f"{_maybe(rng, 0.2, '<AddtlNtryInf>entry info</AddtlNtryInf>')}</Ntry>"
    )


def _statement(rng: random.Random, number: int, entries: int) -> str:
    balances = "".join(
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-02</Dt></Dt></Bal>"
        for code in ("OPBD", "CLBD")
    )
    return (
        f"<Stmt><Id>S{number}</Id><Acct><Id><IBAN>FR7630003012340123456789057</IBAN></Id>"
        f"<Ccy>EUR</Ccy></Acct>{balances}"
        + "".join(_entry(rng, n) for n in range(entries))
        + "</Stmt>"
    )


def camt_file(seed: int) -> str:
    """One camt.053 of a few statements, laid out compact, pretty-printed or Windows-style."""
    rng = random.Random(seed)
    statements = "".join(_statement(rng, k, rng.randint(0, 12)) for k in range(rng.randint(1, 3)))
    text = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><BkToCstmrStmt><GrpHdr>'
        f"<MsgId>M{seed}</MsgId><CreDtTm>2026-11-03T00:00:00</CreDtTm></GrpHdr>{statements}"
        "</BkToCstmrStmt></Document>"
    )
    layout = rng.choice(["compact", "lines", "pretty", "windows"])
    if layout == "lines":
        text = text.replace("<Ntry>", "\n<Ntry>").replace("</Stmt>", "\n</Stmt>")
    elif layout in ("pretty", "windows"):
        text = text.replace("><", ">\n  <")
        if layout == "windows":
            text = text.replace("\n", "\r\n")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n"


@pytest.mark.parametrize("seed", range(60))
def test_generated_files_read_alike(tmp_path: Path, seed: int, columnar_only: None) -> None:
    path = tmp_path / f"gen-{seed}.xml"
    path.write_bytes(camt_file(seed).encode("utf-8"))
    head = path.read_bytes()[:65536]
    fast, slow = parse_camt_columns(path, head, plain_namespace(head)), parse_camt(path, head)
    assert fast.notes == slow.notes
    assert same_statements(fast.statements, slow.statements)


def test_generated_files_cover_both_readers(tmp_path: Path) -> None:
    """The mix must keep exercising both paths: hundreds of entries each way."""
    routed = plain = 0
    for seed in range(60):
        path = tmp_path / f"gen-{seed}.xml"
        path.write_bytes(camt_file(seed).encode("utf-8"))
        head = path.read_bytes()[:65536]
        reader = camt_columns._Reader(path, plain_namespace(head), "camt.053", "Stmt")
        for block, starts, end in camt_columns._chunks(path):
            reader.feed(block, starts, end)
        for frame in reader.frames:
            routed += int(frame["route"].sum())
            plain += int((~frame["route"]).sum())
    assert plain >= 200 and routed >= 50, (plain, routed)
