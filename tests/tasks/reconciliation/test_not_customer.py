"""What is not a customer payment is asked once, then left alone: finance's decisions remembered by
counterparty (and undone), and the starter list of bank transaction codes."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.statements.mt940 import parse_mt940
from o2c.tasks.bank.store import load_statements
from o2c.tasks.demo.company import (
    _MISC_CREDITS,
    build_statements,
    generate_company,
    write_customers_csv,
    write_invoices_csv,
)
from o2c.tasks.erp.ingest import ingest_customer_file, ingest_invoice_file
from o2c.tasks.reconciliation.not_customer import CODES_ENV, load_codes
from o2c.tasks.reconciliation.store import (
    read_decisions_csv,
    reconcile_warehouse,
    record_decisions,
)
from o2c.warehouse import connect

OUR_ACCOUNT = "FR7630003012340123456789057"
PAYER = "FR7630006000011234567890189"
TAX_OFFICE = "FR7610071750000000100001234"
AS_OF = date(2026, 11, 30)


def _statement(con, name: str, lines: list[StatementLine]) -> None:
    days = [line.booking_date for line in lines]
    statement = Statement(
        "camt.053", OUR_ACCOUNT, "EUR", name, min(days), max(days), Decimal("0.00"),
        sum((line.amount for line in lines), Decimal("0.00")), lines,
    )  # fmt: skip
    load_statements(con, [statement], file_name=f"{name}.xml", sha256=None, source="bank_statement")


def _line(day: int, amount: str, ref: str, **kw) -> StatementLine:
    return StatementLine(date(2026, 11, day), Decimal(amount), "EUR", bank_reference=ref, **kw)


def _csv(tmp_path: Path, *lines: str):
    path = tmp_path / "decisions.csv"
    path.write_text("transaction_id;invoice_id;amount;note\n" + "\n".join(lines) + "\n")
    return read_decisions_csv(path)


def _open_exceptions(con) -> dict[str, str]:
    """bank reference -> reason of each open exception."""
    return dict(
        con.execute(
            """SELECT t.bank_reference, e.reason FROM reconciliation_exceptions e
               JOIN bank_transactions t USING (transaction_id) WHERE e.status = 'open'"""
        ).fetchall()
    )


def _tx_id(con, bank_reference: str) -> str:
    return con.execute(
        "SELECT transaction_id FROM bank_transactions WHERE bank_reference = ?", [bank_reference]
    ).fetchall()[0][0]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Dupont owes FA-1 (100,00); the bank books Dupont's payment, the tax office's VAT refund,
    interest, account fees and a card settlement."""
    db = tmp_path / "o2c.duckdb"
    with connect(db) as con:
        now = datetime(2026, 11, 1, 9, 0)
        con.execute(
            """INSERT INTO customers (customer_id, name, iban, row_hash, updated_at)
               VALUES ('C1', 'Dupont SARL', ?, 'h', ?)""",
            [PAYER, now],
        )
        con.execute(
            """INSERT INTO invoices (invoice_id, document_type, customer_id, issue_date, due_date,
                   currency, amount_total, row_hash, first_loaded_at, updated_at)
               VALUES ('FA-1', 'invoice', 'C1', DATE '2026-10-01', DATE '2026-10-31', 'EUR',
                       100.00, 'h', ?, ?)""",
            [now, now],
        )
        _statement(con, "S1", [
            _line(5, "100.00", "B1", counterparty_name="DUPONT SARL", counterparty_iban=PAYER,
                  remittance_unstructured="FA-1", bank_tx_code="PMNT/RCDT/ESCT"),
            _line(6, "1792.91", "B2", counterparty_name="DGFIP", counterparty_iban=TAX_OFFICE,
                  remittance_unstructured="REMBOURSEMENT CREDIT TVA 2026T3",
                  bank_tx_code="PMNT/RCDT/ESCT"),
            _line(7, "12.34", "B3", remittance_unstructured="INTERETS CREDITEURS",
                  bank_tx_code="ACMT/MCOP/INTR"),
            _line(8, "-25.00", "B4", remittance_unstructured="FRAIS TENUE DE COMPTE",
                  bank_tx_code="ACMT/MDOP/CHRG"),
            _line(9, "480.00", "B5", counterparty_name="ACQUEREUR CB",
                  remittance_unstructured="REMISE CB 0911", bank_tx_code="PMNT/MCRD/POSP"),
        ])  # fmt: skip
    return db


def test_the_starter_list_leaves_interest_fees_and_card_settlements_alone(db: Path):
    with connect(db) as con:
        stats = reconcile_warehouse(con).stats
        assert (stats["transactions"], stats["settled"]) == (5, 1)
        assert stats["left_alone_by_code"] == 3
        assert stats["left_alone_by_currency"] == {
            "EUR": {"transactions": 3, "amount_cents": 1234 - 2500 + 48000}
        }
        # Only the tax office's refund, which no code tells apart, is asked.
        assert set(_open_exceptions(con)) == {"B2"}


def test_a_company_list_replaces_the_shipped_one(db: Path, tmp_path: Path, monkeypatch):
    own = tmp_path / "codes.toml"
    own.write_text('[codes]\ninterest = ["*/*/INTR"]\n')
    monkeypatch.setenv(CODES_ENV, str(own))
    with connect(db) as con:
        reconcile_warehouse(con)
        # Fees are a debit matching no customer item (no exception); the card settlement is now
        # asked, since this company's list does not name it.
        assert set(_open_exceptions(con)) == {"B2", "B5"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[codes]\nfees = "CHRG"\n', r"codes\.fees must be a list of texts"),
        ('[codes]\nfees = ["PMNT/*/CH RG"]\n', r"codes\.fees: 'PMNT/\*/CH RG' is not a code"),
        ("[kodes]\n", r"unknown section\(s\) kodes"),
        ("[codes\n", r"not valid TOML"),
    ],
)
def test_a_bad_list_is_refused_naming_the_file_and_key(tmp_path: Path, text, message):
    own = tmp_path / "codes.toml"
    own.write_text(text)
    with pytest.raises(ValueError, match=rf"{own}: .*{message}|{message}"):
        load_codes(own)


def test_not_a_customer_is_asked_once_then_left_alone_and_finance_can_undo_it(
    db: Path, tmp_path: Path
):
    with connect(db) as con:
        reconcile_warehouse(con)
        refund = _tx_id(con, "B2")
        done = record_decisions(con, _csv(tmp_path, f"{refund};;;remboursement TVA"), "csv")
        assert done["not_customer_remembered"] == 1 and done["refused"] == 0
        # Next quarter's refund from the same account is not asked.
        _statement(con, "S2", [
            _line(20, "2040.00", "B6", counterparty_name="DIRECTION GENERALE FIN PUBLIQUES",
                  counterparty_iban=TAX_OFFICE, remittance_unstructured="REMB TVA 2026T4"),
        ])  # fmt: skip
        stats = reconcile_warehouse(con).stats
        assert _open_exceptions(con) == {}
        assert stats["left_alone_by_decision"] == 1
        assert con.execute(
            "SELECT count(*) FROM allocations WHERE transaction_id = ?", [_tx_id(con, "B6")]
        ).fetchall() == [(0,)]

        # Finance takes it back (by the decided line): both lines are asked again.
        undone = record_decisions(con, _csv(tmp_path, f"{refund};undo;;"), "csv")
        assert (undone["not_customer_forgotten"], undone["refused"]) == (1, 0)
        stats = reconcile_warehouse(con).stats
        assert set(_open_exceptions(con)) == {"B2", "B6"}
        assert stats["left_alone_by_decision"] == 0
        # An undo for a line whose counterparty is not remembered is refused, naming the line.
        again = record_decisions(con, _csv(tmp_path, f"{refund};undo;;"), "csv")
        (line,) = again["lines"]
        assert line["outcome"] == "refused" and "line 2:" in line["reason"]


def test_the_demo_non_customer_credits_are_asked_once_then_left_alone(tmp_path: Path):
    company = generate_company(invoices=300, seed=7, as_of=AS_OF)
    statements = build_statements(company)
    db = tmp_path / "o2c.duckdb"
    misc_names = {name for name, _ in _MISC_CREDITS if name}
    with connect(db) as con:
        ingest_customer_file(con, write_customers_csv(company, tmp_path / "customers.csv"))
        ingest_invoice_file(con, write_invoices_csv(company, tmp_path / "invoices.csv"))
        load_statements(con, statements, file_name="demo", sha256=None, source="bank_statement")
        reconcile_warehouse(con)
        asked = [
            (tx,)
            for tx, text in con.execute(
                """SELECT e.transaction_id, t.remittance_unstructured
                   FROM reconciliation_exceptions e JOIN bank_transactions t USING (transaction_id)
                   WHERE e.status = 'open' AND t.amount > 0"""
            ).fetchall()
            if _misc(text)
        ]
        assert asked, "the demo has credits that are not customer payments"
        done = record_decisions(
            con, _csv(tmp_path, *(f"{tx};;;" for (tx,) in asked)), "csv", decided_by="Claire"
        )
        assert done["refused"] == 0
        # The next month: the same counterparties credit the accounts again.
        later = []
        for s in statements:
            again = [
                dataclasses.replace(
                    line,
                    booking_date=line.booking_date + timedelta(days=35),
                    bank_reference=f"NEXT-{line.bank_reference}",
                    end_to_end_id=None,
                    entry_ref=None,
                )
                for line in s.lines
                if _misc(line.remittance_unstructured)
                and (line.counterparty_name in misc_names or line.counterparty_name is None)
            ]
            if again:
                later += again
                _load(con, s, again)
        assert len(later) >= len(asked)
        stats = reconcile_warehouse(con).stats
        new_ones = con.execute(
            """SELECT count(*) FROM reconciliation_exceptions e
               JOIN bank_transactions t USING (transaction_id)
               WHERE e.status = 'open' AND t.bank_reference LIKE 'NEXT-%'"""
        ).fetchall()[0][0]
        assert new_ones == 0
        # Left alone: next month's credits, and the same counterparties' other lines (the tax
        # office's direct debits too).
        assert stats["left_alone_by_decision"] >= len(later)
        assert con.execute(
            """SELECT count(*) FROM allocations a JOIN bank_transactions t USING (transaction_id)
               WHERE t.bank_reference LIKE 'NEXT-%'"""
        ).fetchall() == [(0,)]


def _misc(text: str | None) -> bool:
    """A credit the demo writes that is no customer's payment (its text, a number after it)."""
    return any((text or "").startswith(t) for _, t in _MISC_CREDITS)


def _load(con, like: Statement, lines: list[StatementLine]) -> None:
    """A statement of ``like``'s account holding ``lines``."""
    total = sum((line.amount for line in lines), Decimal(0))
    days = [line.booking_date for line in lines]
    statement = Statement(
        like.format, like.account_iban, like.currency, f"{like.statement_ref}-NEXT", min(days),
        max(days), Decimal(0), total, lines,
    )  # fmt: skip
    load_statements(
        con, [statement], file_name=f"next-{like.statement_ref}", sha256=None,
        source="bank_statement",
    )  # fmt: skip


MT940 = """:20:STMT1
:25:FR7630003012340123456789057
:28C:1/1
:60F:C261101EUR0,00
:61:2611051105C100,00NTRFNONREF//M1
:86:DUPONT SARL FA-1
:61:2611071107C12,34NINTNONREF//M2
:86:INTERETS CREDITEURS
:61:2611081108D25,00NCHGNONREF//M3
:86:FRAIS TENUE DE COMPTE
:62F:C261108EUR87,34
-
"""


def test_the_starter_list_reads_the_codes_the_mt940_parser_stores(db: Path, tmp_path: Path):
    path = tmp_path / "s.sta"
    path.write_text(MT940)
    statements = parse_mt940(path, path.read_bytes())
    (read,) = statements
    codes = (
        read.table["bank_tx_code"].to_list()
        if read.table is not None
        else [line.bank_tx_code for line in read.lines]
    )
    assert codes == ["NTRF", "NINT", "NCHG"]
    with connect(db) as con:
        con.execute("DELETE FROM bank_transactions")
        load_statements(con, statements, file_name="s.sta", sha256=None, source="bank_statement")
        stats = reconcile_warehouse(con).stats
        assert (stats["settled"], stats["left_alone_by_code"], stats["exceptions"]) == (1, 2, 0)


def test_a_customers_own_account_is_decided_but_never_remembered(db: Path, tmp_path: Path):
    with connect(db) as con:
        _statement(con, "S3", [
            _line(12, "30.00", "B7", counterparty_name="DUPONT SARL", counterparty_iban=PAYER,
                  remittance_unstructured="CAUTION PALETTES"),
        ])  # fmt: skip
        reconcile_warehouse(con)
        done = record_decisions(con, _csv(tmp_path, f"{_tx_id(con, 'B7')};;;caution"), "csv")
        assert (done["refused"], done["not_customer_remembered"]) == (0, 0)
        # Dupont's next payment is still looked at.
        _statement(con, "S4", [
            _line(20, "45.00", "B8", counterparty_name="DUPONT SARL", counterparty_iban=PAYER),
        ])  # fmt: skip
        reconcile_warehouse(con)
        assert "B8" in _open_exceptions(con)


def test_finance_undoes_not_a_customer_from_the_flow(db: Path, tmp_path: Path):
    from o2c.flows.reconcile import undo_not_customer

    with connect(db) as con:
        reconcile_warehouse(con)
        record_decisions(con, _csv(tmp_path, f"{_tx_id(con, 'B2')};;;"), "csv")
        reconcile_warehouse(con)
        assert _open_exceptions(con) == {}
    # As `o2c reconcile --undo-not-customer "FR76 1007 ..."` does it, by the IBAN as shown.
    spaced = " ".join(TAX_OFFICE[i : i + 4] for i in range(0, len(TAX_OFFICE), 4))
    undone = undo_not_customer.fn(str(db), [spaced, "NOBODY KNOWN"])
    assert undone == {"forgotten": [f"iban:{TAX_OFFICE}"], "unknown": ["NOBODY KNOWN"]}
    with connect(db) as con:
        reconcile_warehouse(con)
        assert set(_open_exceptions(con)) == {"B2"}
