"""CSV bank exports read through a mapping file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.tasks.bank.statements.balance import check_balance
from o2c.tasks.bank.statements.csv_bank import bundled_mappings, load_mapping
from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.statements.errors import StatementError

FR_EXPORT = (
    "Date opération;Date valeur;Libellé;Débit;Crédit\n"
    "02/01/2024;03/01/2024;VIR ACME SARL FACTURE F-2024-001;;1 250,50\n"
    "03/01/2024;03/01/2024;PRLV URSSAF;-312,40;\n"
    "04/01/2024;04/01/2024;CB CAFÉ DU COIN;4,20;\n"
)


def test_bundled_french_mapping_debit_credit(tmp_path: Path) -> None:
    path = tmp_path / "releve.csv"
    path.write_bytes(FR_EXPORT.encode("cp1252"))
    parsed = parse_file(path)
    assert parsed.format == "csv"
    (st,) = parsed.statements
    assert [x.amount for x in st.lines] == [
        Decimal("1250.50"),
        Decimal("-312.40"),
        Decimal("-4.20"),
    ]
    assert st.lines[0].booking_date == date(2024, 1, 2)
    assert st.lines[0].value_date == date(2024, 1, 3)
    assert st.lines[2].remittance_unstructured == "CB CAFÉ DU COIN"  # cp1252 decoded
    assert st.currency == "EUR"
    assert check_balance(st).status == "unchecked"  # a CSV gives no balances


def test_user_mapping_signed_and_inverted(tmp_path: Path) -> None:
    mapping = tmp_path / "mybank.toml"
    mapping.write_text(
        'name = "mybank"\ndelimiter = "|"\nencoding = "utf-8"\ndecimal_separator = "."\n'
        'date_format = "%Y%m%d"\nsign = "inverted"\ncurrency = "CHF"\n'
        'account_iban = "CH9300762011623852957"\n'
        '[columns]\nbooking_date = "day"\namount = "amt"\nremittance_unstructured = "text"\n'
        'end_to_end_id = "e2e"\n'
    )
    data = tmp_path / "export.txt"
    data.write_text("day|amt|text|e2e\n20240105|100.00|rent|E1\n20240106|-2.5|refund|\n")
    (st,) = parse_file(data, csv_mapping=mapping).statements
    # inverted: a positive figure is money going out
    assert [x.amount for x in st.lines] == [Decimal("-100.00"), Decimal("2.5")]
    assert st.account_iban == "CH9300762011623852957"
    assert st.lines[0].end_to_end_id == "E1" and st.lines[1].end_to_end_id is None


def test_bad_cell_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "releve.csv"
    path.write_bytes(FR_EXPORT.replace("1 250,50", "12O,00").encode("cp1252"))
    with pytest.raises(StatementError, match=r"releve\.csv, line 2, column 'Crédit': bad amount"):
        parse_file(path)


def test_mapping_without_amount_column_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "broken.toml"
    mapping.write_text('currency = "EUR"\n[columns]\nbooking_date = "d"\n')
    with pytest.raises(StatementError, match="missing column for amount"):
        load_mapping(mapping)


def test_bundled_mappings_are_valid() -> None:
    names = {m.name for m in bundled_mappings()}
    assert {"fr_debit_credit", "eu_signed_amount"} <= names
