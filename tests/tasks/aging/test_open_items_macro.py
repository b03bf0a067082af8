"""One definition of "open items as of a date" (open_items_at, sql/008): the same rows as the two
definitions it replaced, the open_items view and aging's own query, on a demo company.

The demo company is loaded the normal way (customer and invoice exports through the ERP ingest,
its camt statements through the bank loader, then reconciliation), plus one allocation without a
bank transaction, dated by its creation day. The old queries are written out here as they were.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from o2c.models.schemas import OPEN_ITEM
from o2c.tasks.aging.store import read_open_items
from o2c.tasks.bank.store import load_statements
from o2c.tasks.demo.company import (
    build_statements,
    generate_company,
    write_customers_csv,
    write_invoices_csv,
)
from o2c.tasks.erp.ingest import ingest_customer_file, ingest_invoice_file
from o2c.tasks.reconciliation.store import reconcile_warehouse
from o2c.warehouse import connect

AS_OF = date(2026, 6, 30)

# sql/003_reconciliation.sql, the view before sql/008.
OLD_VIEW = """
SELECT
    i.invoice_id, i.document_type, i.customer_id, i.legal_entity, i.issue_date, i.due_date,
    i.currency, i.amount_total, i.reference,
    COALESCE(a.allocated, 0)::DECIMAL(18, 2) AS amount_allocated,
    (i.amount_total - COALESCE(a.allocated, 0))::DECIMAL(18, 2) AS amount_open
FROM invoices i
LEFT JOIN (
    SELECT invoice_id, SUM(amount) AS allocated
    FROM allocations WHERE invoice_id IS NOT NULL GROUP BY invoice_id
) a USING (invoice_id)
WHERE i.amount_total - COALESCE(a.allocated, 0) <> 0
"""

# tasks/aging/store.py read_open_items before sql/008.
OLD_AGING = """
SELECT i.invoice_id, i.document_type, i.customer_id, i.legal_entity, i.issue_date,
       i.due_date, i.currency, CAST(i.amount_total * 100 AS BIGINT) AS amount_total_cents,
       CAST(i.amount_total * 100 AS BIGINT) - COALESCE(p.allocated, 0) AS amount_open_cents,
       i.reference
FROM invoices i
LEFT JOIN (
    SELECT invoice_id, SUM(amount_cents) AS allocated FROM (
        SELECT a.allocation_id, a.invoice_id, CAST(a.amount * 100 AS BIGINT) AS amount_cents,
               COALESCE(t.booking_date, CAST(a.created_at AS DATE)) AS pay_date
        FROM allocations a
        LEFT JOIN bank_transactions t USING (transaction_id)
        WHERE a.invoice_id IS NOT NULL
          AND COALESCE(t.booking_date, CAST(a.created_at AS DATE)) <= $as_of
    )
    GROUP BY invoice_id
) p USING (invoice_id)
WHERE i.issue_date <= $as_of
  AND CAST(i.amount_total * 100 AS BIGINT) - COALESCE(p.allocated, 0) <> 0
ORDER BY i.invoice_id
"""

DATES = [
    date(2024, 1, 1),  # before the first invoice
    date(2025, 9, 15),
    date(2026, 1, 31),
    date(2026, 3, 14),  # the day before the allocation without a bank transaction
    date(2026, 3, 15),  # its creation day
    date(2026, 5, 2),  # a Saturday
    AS_OF,
    date(2030, 1, 1),  # after everything
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    company = generate_company(invoices=600, seed=11, as_of=AS_OF)
    db = folder / "o2c.duckdb"
    with connect(db) as con:
        ingest_customer_file(con, write_customers_csv(company, folder / "customers.csv"))
        ingest_invoice_file(con, write_invoices_csv(company, folder / "invoices.csv"))
        load_statements(
            con, build_statements(company), file_name="demo", sha256=None, source="bank_statement"
        )
        reconcile_warehouse(con)
        # A credit note set against an invoice: no bank transaction, dated by its creation day.
        con.execute(
            """INSERT INTO allocations
               SELECT 'INTERNAL-1|' || invoice_id, 'INTERNAL-1', invoice_id, customer_id, 10.00,
                      currency, 'payment', 'manual', 1.0, NULL, NULL, TIMESTAMP '2026-03-15 10:00'
               FROM open_items WHERE amount_open > 10 AND issue_date < DATE '2026-03-01'
               ORDER BY invoice_id LIMIT 1"""
        )
    return db


def test_the_demo_warehouse_is_not_trivial(warehouse: Path):
    with connect(warehouse, read_only=True) as con:
        allocated, partly, undated = con.execute(
            """SELECT count(*), count(*) FILTER (amount_allocated <> 0),
                      (SELECT count(*) FROM allocations WHERE transaction_id = 'INTERNAL-1')
               FROM open_items"""
        ).fetchall()[0]
        counts = [
            con.execute("SELECT count(*) FROM open_items_at(?)", [d]).fetchall()[0][0]
            for d in DATES
        ]
    assert allocated > 0 and partly > 0 and undated == 1
    assert counts[0] == 0 and len(set(counts)) > 4  # the date changes the answer


def test_the_open_items_view_is_unchanged(warehouse: Path):
    with connect(warehouse, read_only=True) as con:
        old = con.sql(OLD_VIEW + " ORDER BY invoice_id")
        new = con.sql("SELECT * FROM open_items ORDER BY invoice_id")
        assert new.columns == old.columns and new.types == old.types
        assert new.fetchall() == old.fetchall()
        # No date limit is the same as a date after everything.
        assert (
            con.sql("SELECT * FROM open_items_at(DATE '2099-12-31') ORDER BY invoice_id").fetchall()
            == con.sql("SELECT * FROM open_items ORDER BY invoice_id").fetchall()
        )


@pytest.mark.parametrize("as_of", DATES, ids=str)
def test_aging_open_items_are_unchanged_on_each_date(warehouse: Path, as_of: date):
    with connect(warehouse, read_only=True) as con:
        old_rows = con.execute(OLD_AGING, {"as_of": as_of}).fetchall()
        old = con.sql(OLD_AGING, params={"as_of": as_of}).pl().cast(OPEN_ITEM)
        new = read_open_items(con, as_of=as_of)
        macro_rows = con.execute(
            """SELECT invoice_id, document_type, customer_id, legal_entity, issue_date, due_date,
                      currency, amount_to_cents(amount_total), amount_to_cents(amount_open),
                      reference
               FROM open_items_at(?) ORDER BY invoice_id""",
            [as_of],
        ).fetchall()
    assert macro_rows == old_rows
    assert_frame_equal(new, old.select(list(OPEN_ITEM)))
    assert new.schema == pl.Schema(OPEN_ITEM)
