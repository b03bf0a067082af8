"""The camt.053.001.08 writer: schema-valid output that reads back to the same figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.statements.balance import check_balance
from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.demo.camt_writer import write_camt053
from o2c.tasks.demo.mt940_writer import write_mt940
from tests import locations

XSD = locations.XSD / "camt.053.001.08.xsd"
IBAN = "FR7630003012340123456789057"


def statement() -> Statement:
    lines = [
        StatementLine(
            date(2024, 3, 1), Decimal("1250.50"), "EUR", date(2024, 3, 1),
            counterparty_name="ACME & Fils <SARL>", counterparty_iban="DE89370400440532013000",
            remittance_unstructured="Facture F-2024-001", remittance_structured="RF18539007547034",
            end_to_end_id="E2E-1", bank_reference="BR-1",
        ),
        StatementLine(
            date(2024, 3, 1), Decimal("-99.99"), "EUR", counterparty_name="Fournisseur",
            bank_tx_code="PMNT/ICDT/ESCT", is_reversal=True,
        ),
        StatementLine(date(2024, 3, 2), Decimal("10.00"), "EUR", entry_ref="B1", detail_index=1),
        StatementLine(date(2024, 3, 2), Decimal("5.25"), "EUR", entry_ref="B1", detail_index=2),
    ]  # fmt: skip
    # 1000.00 + 1250.50 - 99.99 + 10.00 + 5.25 = 2165.76
    return Statement(
        "camt.053", IBAN, "EUR", "S-2024-03", date(2024, 3, 1), date(2024, 3, 2),
        Decimal("1000.00"), Decimal("2165.76"), lines,
    )  # fmt: skip


def test_written_file_validates_against_the_schema(tmp_path: Path) -> None:
    if not XSD.is_file():
        pytest.skip(f"no ISO 20022 schema at {XSD}")
    path = tmp_path / "out.xml"
    assert write_camt053(path, [statement()]) == 3  # the batch is one entry
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    document = etree.parse(str(path))
    assert schema.validate(document), schema.error_log


def test_written_file_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "out.xml"
    write_camt053(path, [statement()])
    (st,) = parse_file(path).statements
    assert st.account_iban == IBAN and st.entry_count == 3
    assert [x.amount for x in st.line_rows()] == [
        Decimal("1250.50"), Decimal("-99.99"), Decimal("10.00"), Decimal("5.25"),
    ]  # fmt: skip
    first = st.line_rows()[0]
    assert first.counterparty_name == "ACME & Fils <SARL>"
    assert first.remittance_structured == "RF18539007547034"
    assert st.line_rows()[1].is_reversal
    assert [x.detail_index for x in st.line_rows()[2:]] == [1, 2]
    assert check_balance(st).status == "balanced"


def test_mt940_writer_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "out.sta"
    assert write_mt940(path, [statement()]) == 4
    (st,) = parse_file(path).statements
    assert [x.amount for x in st.line_rows()] == [
        Decimal("1250.50"), Decimal("-99.99"), Decimal("10.00"), Decimal("5.25"),
    ]  # fmt: skip
    assert st.line_rows()[0].end_to_end_id == "E2E-1"
    assert st.line_rows()[0].counterparty_iban == "DE89370400440532013000"
    assert st.line_rows()[1].is_reversal
    assert check_balance(st).status == "balanced"
