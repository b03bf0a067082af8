"""An ERP invoice export as the tests write it: good rows, bad rows with the reason each is
quarantined for, and the load without Prefect. Shared by the ingestion, flow and CLI tests."""

from __future__ import annotations

from pathlib import Path

from o2c.tasks.erp import store
from o2c.tasks.erp.ingest import ingest_invoice_file
from o2c.warehouse import connect

HEADER = "invoice_id;customer_id;customer_name;issue_date;due_date;currency;amount_total;document_type;customer_iban;reference"
GOOD = [
    "FA-1;C1;Dupont SARL;01/03/2026;31/03/2026;EUR;1 234,56;invoice;FR7630006000011234567890189;RF18539007547034",
    "FA-2;C1;Dupont SARL;02/03/2026;01/04/2026;EUR;100,00;;;",
    "FA-3;C2;Martin SAS;2026-03-05;2026-04-30;EUR;50;facture;;",
    "AV-1;C2;Martin SAS;2026-03-06;2026-03-06;EUR;20,00;avoir;;",
    "FA-4;C3;Müller GmbH;2026-03-07;2026-04-07;GBP;999,99;invoice;;",
]
BAD = {
    "FA-9": "FA-9;C3;Müller GmbH;2026-03-07;2026-04-07;EUR;10,00;invoice;;",
    "FA-9 again": "FA-9;C3;Müller GmbH;2026-03-07;2026-04-07;EUR;11,00;invoice;;",
    "FA-10": "FA-10;C1;Dupont SARL;2026-03-10;2026-03-01;EUR;10,00;invoice;;",
    "FA-11": "FA-11;C1;Dupont SARL;2026-03-10;2026-04-10;EUR;-10,00;invoice;;",
    "FA-12": "FA-12;C1;Dupont SARL;2026-03-10;2026-04-10;EUO;10,00;invoice;;",
    "FA-13": "FA-13;C1;Dupont SARL;2026-03-10;2026-04-10;EUR;12,34,5;invoice;;",
    "FA-14": "FA-14;;Dupont SARL;2026-03-10;2026-04-10;EUR;10,00;invoice;;",
    "FA-15": "FA-15;C1;Dupont SARL;2026-03-10;2026-04-10;EUR;10,00;invoice;FR7630006000011234567890188;",
    "FA-16": "FA-16;C1;Dupont SARL;2026-03-10;2026-04-10;EUR;10,00;invoice;;RF19539007547034",
}
EXPECTED_REASONS = {
    7: "invoice_id appears more than once in the file",
    8: "invoice_id appears more than once in the file",
    9: "due_date before issue_date",
    10: "amount_total is not positive (only credit notes may be negative)",
    11: "currency is not an ISO 4217 code",
    12: "amount_total is empty or not an amount",
    13: "customer_id is empty",
    14: "customer_iban has wrong check digits or shape",
    15: "reference is neither a valid ISO 11649 RF reference nor a Belgian structured communication",
}


def write_export(path: Path, rows: list[str], encoding: str = "cp1252") -> Path:
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode(encoding))
    return path


def ingest(db: Path, path: Path) -> store.LoadResult:
    """The same steps as the ingest-invoices flow, without Prefect."""
    with connect(db) as con:
        return ingest_invoice_file(con, path)
