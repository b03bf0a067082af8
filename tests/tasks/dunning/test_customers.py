"""The customer as the dunning plan reads it, from a customer master loaded into a real warehouse:
recipients accounting first, the defaults an old export gets, LRE consent per kind."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from o2c.models.dunning import DUNNING_CUSTOMER
from o2c.tasks.dunning.customers import dunning_contacts
from o2c.tasks.erp.ingest import ingest_customer_file
from o2c.warehouse import connect

MASTER = """customer_id;name;email;language;customer_kind;segment;accounting_email;main_email;lre_consent_date;address_line1;postal_code;city;country
C1;Dupont SARL;factures@dupont.fr;fr;;key_accounts;"compta@dupont.fr; daf@dupont.fr";contact@dupont.fr;;3 rue de la Paix;75002;Paris;FR
C2;Jeanne Martin;;en;consumer;;;jeanne@martin.fr;2026-01-15;;;;
C3;Paul Durand;paul@durand.fr;;particulier;;;;;;;;
C4;Old Style SA;;;;;;;;;;;
"""


def _contacts(tmp_path: Path, monkeypatch) -> dict[str, dict]:
    monkeypatch.setenv("O2C_LANGUAGE", "en")
    path = tmp_path / "customers.csv"
    path.write_text(MASTER, encoding="utf-8")
    with connect(tmp_path / "o2c.duckdb") as con:
        ingest_customer_file(con, path)
        frame = dunning_contacts(con)
    assert frame.height == 4
    return {row["customer_id"]: row for row in frame.iter_rows(named=True)}


def test_recipients_are_the_accounting_contacts_then_the_main_ones(tmp_path, monkeypatch):
    rows = _contacts(tmp_path, monkeypatch)
    # the invoicing address is not added when a role has addresses
    assert rows["C1"]["emails"] == ["compta@dupont.fr", "daf@dupont.fr", "contact@dupont.fr"]
    assert rows["C2"]["emails"] == ["jeanne@martin.fr"]
    # no role given: the invoicing address stands in; none at all: no recipient
    assert rows["C3"]["emails"] == ["paul@durand.fr"]
    assert rows["C4"]["emails"] == []
    assert (rows["C1"]["address_line1"], rows["C1"]["postal_code"], rows["C1"]["city"]) == (
        "3 rue de la Paix",
        "75002",
        "Paris",
    )


def test_defaults_and_consent(tmp_path, monkeypatch):
    rows = _contacts(tmp_path, monkeypatch)
    assert [rows[c]["customer_kind"] for c in ("C1", "C2", "C3", "C4")] == [
        "business",
        "consumer",
        "consumer",
        "business",
    ]
    # no language on file: the company's (O2C_LANGUAGE)
    assert [rows[c]["language"] for c in ("C1", "C2", "C4")] == ["fr", "en", "en"]
    assert rows["C1"]["segment"] == "key_accounts" and rows["C4"]["segment"] is None
    # registered e-mail: any business; a consumer only with a consent date
    assert rows["C1"]["lre_consent"] and rows["C4"]["lre_consent"]
    assert rows["C2"]["lre_consent"] and rows["C2"]["lre_consent_date"] == date(2026, 1, 15)
    assert rows["C3"]["lre_consent"] is False


def test_the_plan_reads_them_as_its_contract(tmp_path, monkeypatch):
    monkeypatch.setenv("O2C_LANGUAGE", "fr")
    with connect(tmp_path / "o2c.duckdb") as con:
        frame = dunning_contacts(con)
    assert frame.is_empty()
    assert frame.select(list(DUNNING_CUSTOMER)).schema == pl.Schema(DUNNING_CUSTOMER)
