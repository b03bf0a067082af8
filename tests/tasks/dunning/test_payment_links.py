"""A reminder's payment link in the warehouse, and the transfer that pays it read as an
instruction naming the reminder's invoices."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from o2c.models.dunning import Channel, Communication, CustomerKind, DunnedItem
from o2c.models.schemas import BANK_TRANSACTION
from o2c.tasks.connectors.payment_links import PaymentLink
from o2c.tasks.dunning.payment_links import (
    link_items,
    link_request,
    record_created,
    record_requested,
    with_link_documents,
)
from o2c.warehouse import connect, transaction

NOW = datetime(2026, 12, 4, 9, 0)


def communication() -> Communication:
    return Communication(
        as_of=date(2026, 12, 4),
        customer_id="C0042",
        customer_name="Boulangerie Lefèvre",
        language="fr",
        customer_kind=CustomerKind.BUSINESS,
        currency="EUR",
        level=2,
        level_name="Relance",
        channel=Channel.EMAIL,
        template="reminder_friendly",
        recipients=("compta@lefevre.example",),
        needs_approval=False,
        items=(
            DunnedItem("FA-17", "invoice", None, None, 100_00, 100_00, 20),
            DunnedItem("FA-19", "invoice", None, None, 250_00, 150_00, 12),  # partly paid
        ),
        credits=(DunnedItem("AV-3", "credit_note", None, None, -30_00, -30_00, 0),),
    )


def transactions(*rows: dict) -> pl.DataFrame:
    base = {name: None for name in BANK_TRANSACTION}
    return pl.DataFrame([base | row for row in rows], schema=BANK_TRANSACTION)


def test_a_link_is_written_before_bridge_answers_and_once(tmp_path):
    request = link_request(communication())
    assert request.amount_cents == 220_00  # what is due: 100 + 150 - 30
    with connect(str(tmp_path / "w.duckdb")) as con:
        with transaction(con):
            reference = record_requested(con, communication(), NOW)
        with transaction(con):
            assert record_requested(con, communication(), NOW) == reference  # a re-run
        assert con.sql("SELECT status FROM payment_links").fetchall() == [("requested",)]
        with transaction(con):
            record_created(con, reference, PaymentLink("lnk-1", "https://pay/1", "valid"), NOW)
        assert con.sql("SELECT link_id, status FROM payment_links").fetchall() == [
            ("lnk-1", "valid")
        ]
        items = link_items(con).sort("invoice_id")
    assert items.rows() == [
        (reference, "AV-3", -30_00),
        (reference, "FA-17", 100_00),
        (reference, "FA-19", 150_00),
    ]


def test_the_transfer_carrying_the_reference_names_the_links_invoices(tmp_path):
    with connect(str(tmp_path / "w.duckdb")) as con:
        with transaction(con):
            reference = record_requested(con, communication(), NOW)
        items = link_items(con)
    spaced = " ".join(reference[i : i + 4] for i in range(0, len(reference), 4)).lower()
    own = [{"doc_number": "FA-99", "doc_type": "CINV", "doc_date": None, "amount_cents": 5_00}]
    got = with_link_documents(
        transactions(
            {"transaction_id": "by-e2e", "end_to_end_id": reference, "amount_cents": 220_00},
            {"transaction_id": "by-text", "remittance_unstructured": f"VIR SEPA {spaced} MERCI"},
            {"transaction_id": "own-list", "end_to_end_id": reference, "remittance_documents": own},
            {"transaction_id": "other", "remittance_unstructured": "FACTURE FA-17"},
        ),
        items,
    )
    docs = {
        row["transaction_id"]: sorted(
            (d["doc_number"], d["amount_cents"]) for d in row["remittance_documents"] or []
        )
        for row in got.iter_rows(named=True)
    }
    link = [("AV-3", -30_00), ("FA-17", 100_00), ("FA-19", 150_00)]
    assert docs == {"by-e2e": link, "by-text": link, "own-list": [("FA-99", 5_00)], "other": []}
    assert got.schema == pl.Schema(BANK_TRANSACTION)


def test_reconciliation_settles_the_links_invoices_from_the_transfer_alone(tmp_path):
    """The payer's bank passes on only our reference (no invoice number, a name we never saw):
    the link's items say what it pays, to the cent, the credit note netted."""
    from decimal import Decimal

    from o2c.tasks.reconciliation.store import reconcile_warehouse

    db = str(tmp_path / "w.duckdb")
    with connect(db) as con:
        con.execute(
            "INSERT INTO customers (customer_id, name, row_hash, updated_at)"
            " VALUES ('C0042', 'Boulangerie Lefèvre', 'h', ?)",
            [NOW],
        )
        for invoice_id, kind, total in (
            ("FA-17", "invoice", "100.00"),
            ("FA-19", "invoice", "150.00"),
            ("AV-3", "credit_note", "-30.00"),
        ):
            con.execute(
                """INSERT INTO invoices (invoice_id, document_type, customer_id, issue_date,
                       due_date, currency, amount_total, row_hash, first_loaded_at, updated_at)
                   VALUES (?, ?, 'C0042', DATE '2026-10-01', DATE '2026-10-31', 'EUR', ?, 'h',
                           ?, ?)""",
                [invoice_id, kind, Decimal(total), NOW, NOW],
            )
        with transaction(con):
            reference = record_requested(con, communication(), NOW)
        con.execute(
            """INSERT INTO bank_transactions (transaction_id, account_iban, currency,
                   booking_date, amount, counterparty_name, end_to_end_id,
                   remittance_unstructured, bank_reference, source, loaded_at)
               VALUES ('T1', 'FR7630001007941234567890185', 'EUR', DATE '2026-12-07', 220.00,
                       'M OU MME LEFEVRE J', ?, ?, 'B1', 'csv', ?)""",
            [reference, f"VIR SEPA {reference}", NOW],
        )
        reconcile_warehouse(con)
        got = con.sql(
            "SELECT invoice_id, amount FROM allocations WHERE transaction_id = 'T1'"
            " ORDER BY invoice_id"
        ).fetchall()
    assert got == [
        ("AV-3", Decimal("-30.00")),
        ("FA-17", Decimal("100.00")),
        ("FA-19", Decimal("150.00")),
    ]
