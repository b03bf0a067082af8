"""Contracts defined once in models/ and what the warehouse enforces of them."""

from __future__ import annotations

import re
from datetime import datetime

import duckdb
import pytest

from o2c.models import erp
from o2c.models.status import LoadStatus
from o2c.tasks.demo import company
from o2c.tasks.erp import normalise
from o2c.warehouse import connect, migrate, migrations

_INSERT_BATCH = (
    "INSERT INTO load_batches (batch_id, source, status, started_at) VALUES (?, 'invoices', ?, ?)"
)


def _check_values(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The values the CHECK on load_batches.status allows, read back from the catalog."""
    sql = con.execute(
        "SELECT sql FROM duckdb_tables() WHERE table_name = 'load_batches'"
    ).fetchall()[0][0]
    check = re.search(r"CHECK\s*\(\(?status IN \(([^)]*)\)", sql)
    assert check, sql
    return set(re.findall(r"'([^']*)'", check[1]))


def test_the_check_on_load_batches_lists_exactly_the_load_statuses(tmp_path):
    with connect(tmp_path / "o2c.duckdb") as con:
        assert _check_values(con) == {s.value for s in LoadStatus}


def test_every_load_status_is_accepted_and_any_other_refused(tmp_path):
    with connect(tmp_path / "o2c.duckdb") as con:
        for n, status in enumerate(LoadStatus, start=1):
            con.execute(_INSERT_BATCH, [n, status, datetime.now()])
        with pytest.raises(duckdb.ConstraintException, match="CHECK"):
            con.execute(_INSERT_BATCH, [99, "failed", datetime.now()])
        assert con.execute("SELECT count(*) FROM load_batches").fetchall() == [(len(LoadStatus),)]


def test_migration_006_keeps_the_batches_and_the_sequence(tmp_path):
    """A warehouse at version 5 with loads in it: rows, order and the next batch id survive."""
    con = duckdb.connect(str(tmp_path / "o2c.duckdb"))
    try:
        con.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMP NOT NULL)"
        )
        for m in migrations():
            if m.version <= 5:
                con.execute(m.sql)
                con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [m.version, m.name])
        for status in ("loaded", "rejected", "duplicate_file", "loaded"):
            batch = con.execute("SELECT nextval('load_batch_seq')").fetchall()[0][0]
            con.execute(_INSERT_BATCH, [batch, status, datetime(2026, 3, batch)])
        before = con.execute("SELECT * FROM load_batches ORDER BY batch_id").fetchall()
        assert 6 in migrate(con)
        assert con.execute("SELECT * FROM load_batches ORDER BY batch_id").fetchall() == before
        assert con.execute("SELECT nextval('load_batch_seq')").fetchall() == [(5,)]
        with pytest.raises(duckdb.ConstraintException):
            con.execute(_INSERT_BATCH, [5, "failed", datetime.now()])
    finally:
        con.close()


def test_the_erp_export_contract_is_the_one_in_models():
    """normalise and the demo company speak models/erp.py; the demo's invoices carry no address
    and no dunning data (the customer master has them)."""
    assert normalise.INVOICE_REQUIRED is erp.INVOICE_REQUIRED
    assert normalise.INVOICE_OPTIONAL is erp.INVOICE_OPTIONAL
    assert normalise.CUSTOMER_COLUMNS is erp.CUSTOMER_COLUMNS
    assert company.CUSTOMER_EXPORT_COLUMNS == erp.CUSTOMER_COLUMNS
    left_to_master = (*erp.INVOICE_DUNNING, *erp.INVOICE_ADDRESS)
    invoice_columns = tuple(c for c in erp.INVOICE_COLUMNS if c not in left_to_master)
    assert invoice_columns == company.INVOICE_EXPORT_COLUMNS
    assert len(set(erp.INVOICE_COLUMNS)) == len(erp.INVOICE_COLUMNS)


# The labels as report.py spelled them before they moved to models/reconciliation.py.
_LABELS_BEFORE = {
    "structured_reference": "RF reference or end-to-end id",
    # Issue 15: the documents a payer lists with their amounts are an instruction.
    "remittance_documents": "documents and amounts listed in the structured remittance",
    "invoice_number": "invoice number in the remittance text",
    "grouped_invoice_numbers": "several invoice numbers in one transfer",
    "invoice_number_fuzzy": "invoice number with one typo or truncated",
    "payer_iban_amount": "payer IBAN + exact amount",
    "payer_iban_amount_set": "payer IBAN + sum of several invoices",
    "payer_name_amount": "payer name + exact amount",
    "payer_name_amount_set": "payer name + sum of several invoices",
    # Issue 15: "REGLT RELEVE FIN SEPTEMBRE 2025" pays the month's documents of the payer.
    "statement_of_account": "the payer's documents of the month its statement payment names",
    "short_payment_write_off": "short payment within tolerance (bank charges)",
    # A Skonto / escompte the payer stated is not bank charges: its own rule (issue 15).
    "cash_discount": "cash discount the payer stated, written off",
    "overpayment_credit": "overpayment kept as customer credit",
    "reversal": "reversal of an earlier payment",
    "manual": "finance's decision",
}


def test_rule_names_and_labels_are_unchanged_and_reach_the_report():
    from o2c.models.reconciliation import Rule
    from o2c.tasks.reconciliation.report import RULE_LABELS

    assert {rule.value: rule.label for rule in Rule} == _LABELS_BEFORE
    assert RULE_LABELS == _LABELS_BEFORE
    assert Rule("manual") is Rule.MANUAL and Rule.MANUAL == "manual"
