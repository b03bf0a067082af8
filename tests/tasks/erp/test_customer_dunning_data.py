"""What dunning needs of a customer, as the ERP export carries it: read, checked, stored.

Bad values are quarantined naming the field; a consumer without consent to registered e-mail
loads with a warning; an export from before these columns loads as it did.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from o2c.tasks.erp import store
from o2c.tasks.erp.ingest import ingest_customer_file, ingest_invoice_file
from o2c.tasks.erp.report import summary_markdown
from o2c.warehouse import connect

HEADER = (
    "customer_id;name;email;payment_terms;accounting_email;main_email;customer_kind;segment;"
    "lre_consent_date"
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "o2c.duckdb"


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_terms_contacts_kind_segment_and_consent_are_stored(tmp_path, db):
    path = _write(
        tmp_path / "customers.csv",
        HEADER,
        [
            'C1;Dupont SARL;factures@dupont.fr;45 jours fin de mois;"Compta@Dupont.fr, daf@dupont.fr";'
            "contact@dupont.fr;B2B;Key_Accounts;",
            "C2;Jeanne Martin;;30 jours;;jeanne@martin.fr;particulier;;15/01/2026",
            "C3;Old Style SA;ap@old.example;net 60;;;;;",
        ],
    )
    with connect(db) as con:
        result = ingest_customer_file(con, path)
        rows = con.execute(
            "SELECT customer_id, payment_terms, payment_terms_days, payment_terms_end_of_month,"
            " accounting_email, main_email, customer_kind, segment, lre_consent_date"
            " FROM customers ORDER BY customer_id"
        ).fetchall()
    assert (result.inserted, result.quarantined, result.warned) == (3, 0, 0)
    assert rows == [
        (
            "C1",
            "45 jours fin de mois",
            45,
            True,
            "compta@dupont.fr, daf@dupont.fr",
            "contact@dupont.fr",
            "business",
            "key_accounts",
            None,
        ),
        (
            "C2",
            "30 jours",
            30,
            False,
            None,
            "jeanne@martin.fr",
            "consumer",
            None,
            date(2026, 1, 15),
        ),
        ("C3", "net 60", 60, False, None, None, None, None, None),
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            "C9;Bad Terms SA;;soon-ish;;;;;",
            "payment_terms is not understood as payment terms (e.g. '30 jours', 'net 60',"
            " '45 jours fin de mois')",
        ),
        (
            "C9;Bad Mail SA;;;compta@bad.fr, not-an-address;;;;",
            "accounting_email is not an email address (or a list of them separated by , or ;)",
        ),
        (
            "C9;Bad Mail SA;;;;jean.bad.fr;;;",
            "main_email is not an email address (or a list of them separated by , or ;)",
        ),
        ("C9;Bad Kind SA;;;;;wholesale;;", "customer_kind is neither business nor consumer"),
        ("C9;Bad Date;;;;;consumer;;31/02/2026", "lre_consent_date is not a date"),
    ],
)
def test_a_value_that_cannot_be_read_is_quarantined_naming_its_field(tmp_path, db, row, reason):
    path = _write(tmp_path / "customers.csv", HEADER, ["C1;Good SA;a@good.fr;30 jours;;;;;", row])
    with connect(db) as con:
        result = ingest_customer_file(con, path)
        quarantined = con.execute(
            "SELECT customer_id, line_number, failed_checks FROM quarantine_customers"
        ).fetchall()
        stored = con.execute("SELECT customer_id FROM customers").fetchall()
    assert (result.inserted, result.quarantined) == (1, 1)
    assert quarantined == [("C9", 3, reason)]
    assert stored == [("C1",)]


def test_a_consumer_without_lre_consent_or_a_customer_without_email_loads_with_a_warning(
    tmp_path, db
):
    path = _write(
        tmp_path / "customers.csv",
        HEADER,
        [
            "C1;Jeanne Martin;jeanne@martin.fr;;;;consumer;;",
            "C2;Paul Durand;paul@durand.fr;;;;consumer;;2025-11-02",
            "C3;Sans Adresse SARL;;;;;;;",
        ],
    )
    with connect(db) as con:
        result = ingest_customer_file(con, path)
        stored = con.execute("SELECT customer_id FROM customers ORDER BY 1").fetchall()
        warnings = con.execute(
            "SELECT source, line_number, record_id, warnings FROM load_warnings ORDER BY 2"
        ).fetchall()
    assert stored == [("C1",), ("C2",), ("C3",)]
    lre = "consumer without consent to registered e-mail (LRE): formal notices go by post"
    no_email = "no email address to send reminders to (accounting_email, main_email or email)"
    assert warnings == [("customers", 2, "C1", lre), ("customers", 4, "C3", no_email)]
    assert result.warnings_by_reason == {lre: 1, no_email: 1}
    assert result.message.endswith("2 loaded with a warning")
    assert store.warnings_summary(result) == [
        {"warning": lre, "rows": 1},
        {"warning": no_email, "rows": 1},
    ]
    assert "| loaded with a warning | 2 |" in summary_markdown(result)


def test_an_export_without_the_new_columns_loads_as_before(tmp_path, db):
    path = _write(
        tmp_path / "customers.csv",
        "customer_id;name;email;language",
        ["C1;Dupont SARL;compta@dupont.fr;fr"],
    )
    with connect(db) as con:
        result = ingest_customer_file(con, path)
        row = con.execute(
            "SELECT email, payment_terms_days, accounting_email, customer_kind, segment,"
            " lre_consent_date FROM customers"
        ).fetchall()
    assert (result.inserted, result.quarantined, result.warned) == (1, 0, 0)
    assert row == [("compta@dupont.fr", None, None, None, None, None)]


def test_invoice_rows_carry_the_same_customer_fields(tmp_path, db):
    header = (
        "invoice_id;customer_id;customer_name;issue_date;due_date;currency;amount_total;"
        "customer_payment_terms;customer_accounting_email;customer_kind;customer_segment;"
        "customer_lre_consent_date"
    )
    path = _write(
        tmp_path / "invoices.csv",
        header,
        [
            "FA-1;C1;Dupont SARL;2026-03-01;2026-04-30;EUR;100,00;eom45;compta@dupont.fr;b2b;;",
            "FA-2;C2;Jeanne Martin;2026-03-01;2026-03-31;EUR;50,00;30 jours;;b2c;;",
            "FA-3;C3;Bad Mail SA;2026-03-01;2026-03-31;EUR;50,00;;nobody;;;",
        ],
    )
    with connect(db) as con:
        result = ingest_invoice_file(con, path)
        customers = con.execute(
            "SELECT customer_id, payment_terms_days, payment_terms_end_of_month,"
            " accounting_email, customer_kind FROM customers ORDER BY 1"
        ).fetchall()
        quarantined = con.execute(
            "SELECT invoice_id, failed_checks, raw_row FROM quarantine_invoices"
        ).fetchall()
    assert (result.inserted, result.quarantined, result.warned) == (2, 1, 1)
    assert customers == [
        ("C1", 45, True, "compta@dupont.fr", "business"),
        ("C2", 30, False, None, "consumer"),
    ]
    [(invoice, reason, raw)] = quarantined
    assert invoice == "FA-3"
    assert reason.startswith("customer_accounting_email is not an email address")
    assert json.loads(raw)["customer_accounting_email"] == "nobody"


def test_a_later_master_without_a_field_keeps_the_stored_value(tmp_path, db):
    first = _write(tmp_path / "a.csv", HEADER, ["C1;Dupont SARL;;60 jours;a@dupont.fr;;;;"])
    second = _write(tmp_path / "b.csv", "customer_id;name;segment", ["C1;Dupont SARL;retail"])
    with connect(db) as con:
        ingest_customer_file(con, first)
        result = ingest_customer_file(con, second)
        row = con.execute(
            "SELECT payment_terms_days, accounting_email, segment FROM customers"
        ).fetchall()
    assert result.updated == 1
    assert row == [(60, "a@dupont.fr", "retail")]
