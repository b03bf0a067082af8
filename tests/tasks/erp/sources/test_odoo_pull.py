"""Odoo pulled into the warehouse through the twin: first and incremental pulls, ties at a
page boundary, a cancellation upstream, a crash between pages, both protocols, resync."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from o2c.tasks.connectors.http import ConnectorError
from o2c.tasks.erp import sources
from o2c.twins.odoo import Fault
from o2c.warehouse import connect
from tests.tasks.erp.sources.conftest import IBAN, company


def _invoices(db: str) -> list[tuple]:
    with connect(db) as con:
        return con.execute(
            "SELECT invoice_id, document_type, customer_id, issue_date::VARCHAR,"
            " due_date::VARCHAR, currency, amount_total, amount_paid_erp, status_erp, reference"
            " FROM invoices ORDER BY invoice_id"
        ).fetchall()


def _invoice_rows_loaded(db: str) -> int:
    with connect(db) as con:
        return con.execute(
            "SELECT sum(rows_in) FROM load_batches WHERE source = 'invoices'"
        ).fetchall()[0][0]


def test_first_pull_maps_invoices_refunds_and_customers(twin, source, writer, db):
    partner = company(twin, invoices=2)
    twin.add_invoice(partner, "RINV/2026/00001", "100.00", refund=True)
    twin.add_invoice(partner, "INV/2026/00099", "50", payment_reference="RF18 5390 0754 7034")
    twin.pay(twin.move_id("INV/2026/00001"), "200.25")
    summary = sources.pull_into(source(), writer)
    assert summary.counts["invoices"].new == 4 and summary.counts["customers"].new == 1
    assert summary.counts["invoices"].quarantined == 0
    rows = {r[0]: r for r in _invoices(db)}
    customer = str(partner)
    assert rows["INV/2026/00000"][1:9] == (
        "invoice", customer, "2026-01-05", "2026-02-04", "EUR",
        Decimal("1200.50"), Decimal("0.00"), "not_paid",
    )  # fmt: skip
    assert rows["INV/2026/00001"][7:9] == (Decimal("200.25"), "partial")
    assert rows["RINV/2026/00001"][1] == "credit_note"
    assert rows["RINV/2026/00001"][6] == Decimal("-100.00")
    # a structured reference is kept; Odoo's default (the invoice number) is not one
    assert rows["INV/2026/00099"][9] == "RF18539007547034"
    assert rows["INV/2026/00000"][9] is None
    with connect(db) as con:
        found = con.execute(
            "SELECT name, email, iban, siren, vat_number, language, city, country FROM customers"
        ).fetchall()
    assert found == [
        ("Dupont SARL", "compta@dupont.fr", IBAN, "732829320", "FR44732829320", "fr", "Paris", "FR")
    ]


def test_incremental_pull_brings_only_changed_rows(twin, source, writer, db):
    partner = company(twin, invoices=5)
    src = source()
    sources.pull_into(src, writer)
    again = sources.pull_into(src, writer)
    assert again.counts["invoices"].pulled == 0 and again.counts["customers"].pulled == 0
    twin.pay(twin.move_id("INV/2026/00003"), "1200.50")
    twin.add_invoice(partner, "INV/2026/00777", "10")
    later = sources.pull_into(src, writer)
    invoices = later.counts["invoices"]
    assert (invoices.pulled, invoices.new, invoices.changed) == (2, 1, 1)
    assert later.counts["customers"].pulled == 0
    assert {r[0]: r[8] for r in _invoices(db)}["INV/2026/00003"] == "paid"
    with connect(db) as con:
        changes = con.execute(
            "SELECT field, old_value, new_value FROM invoice_changes"
            " WHERE invoice_id = 'INV/2026/00003' ORDER BY field"
        ).fetchall()
    assert ("status_erp", "not_paid", "paid") in changes


@pytest.mark.parametrize("rows", [7, 9])
def test_rows_sharing_a_write_date_across_page_boundaries_are_all_loaded(
    twin, source, writer, db, rows
):
    """Seven or nine invoices written in one second, three a page, stored in the reverse order
    of their ids (Odoo keeps microseconds it does not show): none skipped, none lost."""
    partner = company(twin)
    twin.frozen = True
    for i in range(rows):
        twin.add_invoice(partner, f"INV/2026/{i:05d}", "10")
    summary = sources.pull_into(source(page_size=3), writer)
    assert len(_invoices(db)) == rows
    assert summary.counts["invoices"].new == rows
    assert summary.counts["invoices"].pulled == rows  # none read twice either
    # and rows written later in that same second are read by the next pull
    twin.add_invoice(partner, "INV/2026/00100", "10")
    assert sources.pull_into(source(page_size=3), writer).counts["invoices"].new == 1


def test_an_invoice_cancelled_upstream_is_kept_as_cancelled(twin, source, writer, db):
    company(twin, invoices=3)
    src = source()
    sources.pull_into(src, writer)
    twin.cancel(twin.move_id("INV/2026/00001"))
    summary = sources.pull_into(src, writer)
    assert summary.counts["invoices"].cancelled == 1 and summary.counts["invoices"].changed == 1
    statuses = {r[0]: r[8] for r in _invoices(db)}
    assert statuses == {
        "INV/2026/00000": "not_paid",
        "INV/2026/00001": "cancelled",
        "INV/2026/00002": "not_paid",
    }
    # the same cancellation read again (a resync) is not counted twice
    assert sources.resync_into(src, writer).counts["invoices"].cancelled == 0


def test_a_crash_between_pages_resumes_after_the_last_page_loaded(twin, source, writer, db):
    company(twin, invoices=8)
    crashing = source(page_size=3, max_retries=0)

    def cut_after_two_invoice_pages():
        """The pull as it runs, the connection dropped mid-answer once two pages are loaded."""
        invoice_pages = 0
        for page in crashing.pull({}):
            yield page
            invoice_pages += page.model == "account.move"
            if invoice_pages == 2:
                twin.inject(Fault("drop"))

    with pytest.raises(ConnectorError) as failure:
        sources.load_pages("odoo", cut_after_two_invoice_pages(), writer)
    assert failure.value.retryable  # a later run may succeed: it does, below
    loaded_before = len(_invoices(db))
    assert 0 < loaded_before < 8
    summary = sources.pull_into(source(page_size=3), writer)
    assert len(_invoices(db)) == 8
    resumed = summary.counts["invoices"]
    assert resumed.new == 8 - loaded_before and resumed.changed == 0
    # At most the second the last loaded page ended in is read again (a full page's cursor stops
    # at its start, see tasks/erp/sources/odoo.py): here one row a second, so one row at most,
    # loaded as unchanged; every other row was loaded exactly once.
    assert resumed.unchanged <= 1
    assert _invoice_rows_loaded(db) == 8 + resumed.unchanged


def test_both_protocols_give_the_same_rows(twin, source, writer, tmp_path):
    partner = company(twin, invoices=4)
    twin.add_invoice(partner, "RINV/2026/00001", "99.99", refund=True, currency="USD")
    twin.cancel(twin.move_id("INV/2026/00002"))
    found = {}
    for protocol in ("jsonrpc", "json2"):
        db = str(tmp_path / f"{protocol}.duckdb")
        sources.pull_into(source(protocol=protocol), lambda db=db: connect(db))
        with connect(db) as con:
            customers = con.execute(
                "SELECT * EXCLUDE (batch_id, updated_at) FROM customers"
            ).fetchall()
        found[protocol] = (_invoices(db), customers)
    assert found["jsonrpc"] == found["json2"]
    assert len(found["json2"][0]) == 5
    assert ("odoo", "object") not in {c for c in twin.calls}


def test_a_payment_that_does_not_move_write_date_is_found_by_a_resync(twin, source, writer, db):
    company(twin, invoices=3)
    src = source()
    sources.pull_into(src, writer)
    twin.payments_bump_write_date = False
    twin.pay(twin.move_id("INV/2026/00002"), "1200.50")
    assert sources.pull_into(src, writer).counts["invoices"].pulled == 0
    summary = sources.resync_into(src, writer)
    assert summary.counts["invoices"].changed == 1
    assert {r[0]: r[8] for r in _invoices(db)}["INV/2026/00002"] == "paid"
    # paid invoices are not read again by the next resync
    assert sources.resync_into(src, writer).counts["invoices"].pulled == 2


def test_a_bad_row_is_quarantined_and_the_cursor_moves_on(twin, source, writer, db):
    partner = company(twin, invoices=2)
    twin.add_invoice(partner, "INV/2026/00050", "10", due="2025-01-01")  # due before issued
    summary = sources.pull_into(source(), writer)
    assert summary.counts["invoices"].quarantined == 1
    assert summary.failures_by_reason == {"due_date before issue_date": 1}
    with connect(db) as con:
        ((line, invoice, file_name),) = con.execute(
            "SELECT line_number, invoice_id, file_name FROM quarantine_invoices"
        ).fetchall()
    assert (line, invoice) == (twin.move_id("INV/2026/00050"), "INV/2026/00050")
    assert file_name.startswith("odoo:account.move")
    assert sources.pull_into(source(), writer).counts["invoices"].pulled == 0


def test_the_api_key_reaches_no_log_no_table_no_error(twin, source, writer, db, caplog):
    company(twin, invoices=4)
    caplog.set_level(logging.DEBUG)
    twin.inject(Fault("status", method="search_read", status=503))
    sources.pull_into(source(), writer)
    with pytest.raises(ConnectorError) as refused:
        sources.pull_into(source(api_key="wrong-key-for-this-test"), writer)
    texts = [caplog.text, str(refused.value), repr(source())]
    with connect(db) as con:
        for table in ("load_batches", "invoices", "customers", "erp_cursors"):
            texts.append(str(con.execute(f"SELECT * FROM {table}").fetchall()))
    assert all(twin.api_key not in t for t in texts)
    assert all("wrong-key-for-this-test" not in t for t in texts)
