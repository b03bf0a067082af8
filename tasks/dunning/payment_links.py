"""Payment links in the warehouse: asked for before Bridge is called, settled only by the bank.

Why a table: a link that says `completed` is not money. The transfer that lands on a statement
carries the link's RF reference, and reconciliation must know which invoices that reference
stands for, with how much each, so it reads the link's items as the transfer's remittance
documents (an instruction, as when a payer lists them itself). The reference is derived from
the communication's outbox key, so a re-run asks for the same reference: a second link Bridge
might create after a lost answer pays the same invoices.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import duckdb
import polars as pl

from o2c.models.dunning import Communication
from o2c.models.schemas import REMITTANCE_DOCUMENTS
from o2c.tasks.connectors.payment_links import LinkRequest, PaymentLink, link_reference
from o2c.warehouse import scalar, transaction

# payment_link_items as the reconciliation reads them: one row per invoice a reference pays.
LINK_ITEM = {"reference": pl.String, "invoice_id": pl.String, "amount_cents": pl.Int64}


def link_request(communication: Communication, payer_is_company: bool = True) -> LinkRequest:
    """What Bridge is asked for one reminder: what is due now, under our own reference."""
    first, _, last = communication.customer_name.partition(" ")
    return LinkRequest(
        client_reference=communication.key,
        amount_cents=communication.due_cents,
        currency=communication.currency,
        reference=link_reference(communication.key),
        invoice_numbers=tuple(i.invoice_id for i in communication.items),
        payer_company=communication.customer_name if payer_is_company else None,
        payer_first_name=None if payer_is_company else first,
        payer_last_name=None if payer_is_company else (last or first),
        payer_id=communication.customer_id,
    )


def record_requested(
    con: duckdb.DuckDBPyConnection, communication: Communication, now: datetime
) -> str:
    """Write the link (status `requested`) and its items before Bridge is called; returns its
    reference. Asking again for the same communication changes nothing."""
    reference = link_reference(communication.key)
    known = scalar(
        con,
        "SELECT count(*) FROM payment_links WHERE reference = ? OR communication_key = ?",
        [reference, communication.key],
    )
    if known:
        return reference
    with transaction(con):
        con.execute(
            """
            INSERT INTO payment_links (reference, communication_key, customer_id, currency,
                                       amount, status, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, 'requested', ?, ?)
            """,
            [
                reference,
                communication.key,
                communication.customer_id,
                communication.currency,
                Decimal(communication.due_cents).scaleb(-2),
                now,
                now,
            ],
        ).fetchall()
        items = {  # one row per invoice, as the key (reference, invoice_id) says
            i.invoice_id: (reference, i.invoice_id, Decimal(i.open_cents).scaleb(-2))
            for i in (*communication.items, *communication.credits)
        }
        con.executemany("INSERT INTO payment_link_items VALUES (?, ?, ?)", list(items.values()))
    return reference


def record_created(
    con: duckdb.DuckDBPyConnection, reference: str, link: PaymentLink, now: datetime
) -> None:
    """Bridge's answer, once it came."""
    con.execute(
        "UPDATE payment_links SET link_id = ?, url = ?, status = ?, updated_at = ?"
        " WHERE reference = ?",
        [link.id, link.url, link.status, now, reference],
    ).fetchall()


def link_items(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    rows = con.sql(
        "SELECT reference, invoice_id, CAST(amount * 100 AS BIGINT) AS amount_cents"
        " FROM payment_link_items"
    ).pl()
    return rows.cast(LINK_ITEM) if rows.height else pl.DataFrame(schema=LINK_ITEM)


def with_link_documents(transactions: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Transactions whose text carries one of our link references, and that list no documents
    of their own, get the link's items as remittance documents."""
    if items.height == 0 or transactions.height == 0:
        return transactions
    references = items.get_column("reference").unique().to_list()
    text = (
        pl.concat_str(
            [
                pl.col(c).fill_null("")
                for c in ("end_to_end_id", "remittance_structured", "remittance_unstructured")
            ],
            separator="|",
        )
        .str.to_uppercase()
        .str.replace_all(r"[ \t\r\n]", "")
    )
    documents = items.group_by("reference").agg(
        link_documents=pl.struct(
            doc_number=pl.col("invoice_id"),
            doc_type=pl.when(pl.col("amount_cents") < 0)
            .then(pl.lit("CREN"))
            .otherwise(pl.lit("CINV")),
            doc_date=pl.lit(None, dtype=pl.Date),
            amount_cents=pl.col("amount_cents"),
        )
    )
    found = (
        transactions.with_columns(
            _link=text.str.extract_many(references).list.unique().list.first()
        )
        .join(documents, left_on="_link", right_on="reference", how="left")
        .with_columns(
            remittance_documents=pl.when(
                pl.col("link_documents").is_not_null()
                & pl.col("remittance_documents").list.len().fill_null(0).eq(0)
            )
            .then(pl.col("link_documents"))
            .otherwise(pl.col("remittance_documents"))
            .cast(REMITTANCE_DOCUMENTS)
        )
    )
    return found.drop("_link", "link_documents")
