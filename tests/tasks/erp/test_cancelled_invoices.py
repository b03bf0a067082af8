"""An invoice cancelled in the ERP is kept but owes nothing: it leaves open items, so aging,
dunning and reconciliation stop seeing it; re-opened, it comes back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from o2c.warehouse import connect

NOW = datetime(2026, 12, 4, 8, 0)


def _invoice(con, invoice_id: str, status: str | None) -> None:
    con.execute(
        """INSERT INTO invoices (invoice_id, document_type, customer_id, issue_date, due_date,
               currency, amount_total, status_erp, row_hash, first_loaded_at, updated_at)
           VALUES (?, 'invoice', 'C1', DATE '2026-09-01', DATE '2026-10-01', 'EUR', ?, ?, 'h',
                   ?, ?)""",
        [invoice_id, Decimal("120.00"), status, NOW, NOW],
    )


@pytest.mark.parametrize("status", ["cancelled", "canceled", "annulée", "void"])
def test_a_cancelled_invoice_leaves_open_items_and_comes_back_when_reopened(tmp_path, status):
    with connect(str(tmp_path / "w.duckdb")) as con:
        _invoice(con, "F-1", "not_paid")
        _invoice(con, "F-2", status)
        _invoice(con, "F-3", None)
        now = {r[0] for r in con.sql("SELECT invoice_id FROM open_items").fetchall()}
        dated = con.execute(
            "SELECT invoice_id FROM open_items_at(?)", [date(2026, 11, 30)]
        ).fetchall()
        assert now == {"F-1", "F-3"} and {r[0] for r in dated} == {"F-1", "F-3"}
        con.execute("UPDATE invoices SET status_erp = 'posted' WHERE invoice_id = 'F-2'")
        again = {r[0] for r in con.sql("SELECT invoice_id FROM open_items").fetchall()}
        assert again == {"F-1", "F-2", "F-3"}
        assert con.sql("SELECT count(*) FROM invoices").fetchall() == [(3,)]  # never deleted
