"""The demo company straight into a warehouse, without flows: for benchmarks and tests that
need a realistic book (several currencies and entities) in a DuckDB file or a DuckLake catalog."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.store import load_statements
from o2c.tasks.demo.company import generate_company
from o2c.tasks.demo.files import write_demo_files
from o2c.tasks.erp.ingest import ingest_customer_file, ingest_invoice_file
from o2c.warehouse import connect


def load_demo_company(
    db: str, *, invoices: int, seed: int = 7, as_of: date = date(2026, 6, 30)
) -> int:
    """Customers, invoices and the bank statements of a demo company; the bank lines loaded."""
    company = generate_company(invoices=invoices, seed=seed, as_of=as_of)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_demo_files(company, Path(tmp), seed=seed)
        with connect(db) as con:
            ingest_customer_file(con, files.customers)
            ingest_invoice_file(con, files.invoices)
            for path in sorted(files.bank_inbox.iterdir()):
                parsed = parse_file(path)
                load_statements(
                    con, parsed.statements, file_name=path.name, sha256=parsed.sha256,
                    source="bank_statement",
                )  # fmt: skip
            return int(con.execute("SELECT count(*) FROM bank_transactions").fetchall()[0][0])
