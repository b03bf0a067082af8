"""A small warehouse for the dunning run's tests: three customers with overdue invoices, fresh
bank data, and a policy whose one level needs (or not) finance's approval."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.store import load_statements
from o2c.tasks.erp.ingest import ingest_customer_file
from o2c.warehouse import connect
from tests.erp_exports import ingest, write_export

AS_OF = date(2026, 6, 30)  # a Tuesday
OUR_ACCOUNT = "FR7630003012340123456789057"
MASTER = """customer_id;name;email;language;customer_kind;segment;accounting_email;main_email;lre_consent_date;address_line1;postal_code;city;country
C1;Dupont SARL;;fr;;;compta@dupont.example;;;3 rue de la Paix;75002;Paris;FR
C2;Martin SAS;;fr;;;compta@martin.example;;;1 place Bellecour;69002;Lyon;FR
C3;Acme Ltd;;en;;;ap@acme.example;;;1 High Street;EC1A 1BB;London;GB
"""
INVOICES = [
    "FA-1;C1;Dupont SARL;2026-05-01;2026-06-01;EUR;1200,00;invoice;;",
    "FA-2;C1;Dupont SARL;2026-05-05;2026-06-05;EUR;300,00;invoice;;",
    "FA-3;C2;Martin SAS;2026-05-02;2026-06-02;EUR;800,00;invoice;;",
    "FA-4;C3;Acme Ltd;2026-05-03;2026-06-03;EUR;450,00;invoice;;",
]


def policy_text(needs_approval: bool, fresh_days: int = 3) -> str:
    return f"""version: 1
calendar:
  business_days: true
  country: FR
fresh_data_business_days: {fresh_days}
formal_notice_days: 8
segments:
  default:
    grace_days: 0
    levels:
      - name: first_reminder
        days: 3
        channel: email
        template: reminder_friendly
        min_open: "15.00"
        needs_approval: {str(needs_approval).lower()}
"""


def write_policy(folder: Path, needs_approval: bool = False, fresh_days: int = 3) -> Path:
    path = folder / "policy.yaml"
    path.write_text(policy_text(needs_approval, fresh_days), encoding="utf-8")
    return path


def load_bank_day(db: Path, day: date, ref: str = "S1") -> None:
    """A statement booked on `day` (a fee: nothing to reconcile): the bank data reaches it."""
    line = StatementLine(day, Decimal("-1.00"), "EUR", bank_reference=f"{ref}-fee",
                         counterparty_name="BANQUE", remittance_unstructured="FRAIS")  # fmt: skip
    statement = Statement(
        "camt.053", OUR_ACCOUNT, "EUR", ref, day, day, Decimal("0.00"), Decimal("-1.00"), [line]
    )
    with connect(db) as con:
        load_statements(con, [statement], file_name=f"{ref}.xml", sha256=ref * 32,
                        source="bank_statement")  # fmt: skip


def pay(db: Path, invoice_id: str, customer_id: str, amount: str, day: date = AS_OF) -> None:
    """A payment booked on `day` and allocated to the invoice, as reconciliation records it."""
    tx = f"T-{invoice_id}"
    with connect(db) as con:
        con.execute(
            "INSERT INTO bank_transactions (transaction_id, account_iban, currency,"
            " booking_date, amount, source, loaded_at) VALUES (?, ?, 'EUR', ?, ?, 'camt.053',"
            " now())",
            [tx, OUR_ACCOUNT, day, amount],
        )
        con.execute(
            "INSERT INTO allocations VALUES (?, ?, ?, ?, ?, 'EUR', 'payment', 'reference',"
            " 1.0, NULL, NULL, now())",
            ["A" + tx, tx, invoice_id, customer_id, amount],
        )


def make_warehouse(folder: Path, bank_day: date | None = AS_OF) -> Path:
    db = folder / "o2c.duckdb"
    master = folder / "customers.csv"
    master.write_text(MASTER, encoding="utf-8")
    with connect(db) as con:
        ingest_customer_file(con, master)
    ingest(db, write_export(folder / "invoices.csv", INVOICES))
    if bank_day is not None:
        load_bank_day(db, bank_day)
    return db


def eml_files(db: Path) -> list[Path]:
    folder = db.parent / "outbox-mail"
    return sorted(folder.glob("*.eml")) if folder.exists() else []
