"""Finance decides an exception with "candidate N": the candidate's invoices and amounts, as the
artifact numbers them; a wrong N is refused naming the line and field, and nothing is written."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from o2c.tasks.reconciliation.decisions import field_name, form_exceptions, form_lines
from o2c.tasks.reconciliation.store import (
    apply_decisions,
    candidate_number,
    read_decisions_csv,
    reconcile_warehouse,
    record_decisions,
)
from o2c.warehouse import connect

NOW = datetime(2026, 3, 10, 9, 0)
MARTIN_IBAN = "DE89370400440532013000"


def _invoice(con, invoice_id, customer_id, amount, due):
    con.execute(
        """INSERT INTO invoices (invoice_id, document_type, customer_id, issue_date, due_date,
               currency, amount_total, row_hash, first_loaded_at, updated_at)
           VALUES (?, 'invoice', ?, ?, ?, 'EUR', ?, 'h', ?, ?)""",
        [invoice_id, customer_id, date(2026, 1, 1), due, Decimal(amount), NOW, NOW],
    )


def _tx(con, tx_id, amount, *, text=None, iban=None):
    con.execute(
        """INSERT INTO bank_transactions (transaction_id, account_iban, currency, booking_date,
               amount, counterparty_iban, remittance_unstructured, bank_reference, source,
               loaded_at)
           VALUES (?, 'FR7630001007941234567890185', 'EUR', ?, ?, ?, ?, ?, 'csv', ?)""",
        [tx_id, date(2026, 3, 2), Decimal(amount), iban, text, tx_id, NOW],
    )


@pytest.fixture
def db(tmp_path):
    """C2 (IBAN known) pays 144,99: 99,99 + 45,00 or 89,99 + 55,00; nobody can tell which."""
    path = tmp_path / "o2c.duckdb"
    with connect(path) as con:
        con.execute(
            """INSERT INTO customers (customer_id, name, iban, row_hash, updated_at) VALUES
               ('C2', 'Transports Martin', ?, 'h', ?)""",
            [MARTIN_IBAN, NOW],
        )
        _invoice(con, "FA-3", "C2", "99.99", date(2026, 1, 31))
        _invoice(con, "FA-4", "C2", "45.00", date(2026, 2, 28))
        _invoice(con, "FA-7", "C2", "89.99", date(2026, 1, 15))
        _invoice(con, "FA-8", "C2", "55.00", date(2026, 2, 15))
        _tx(con, "T1", "144.99", iban=MARTIN_IBAN)
        _tx(con, "T2", "7.00", text="no idea")
        reconcile_warehouse(con)
    return path


def _shown(con, tx_id):
    (raw,) = con.execute(
        "SELECT candidates FROM reconciliation_exceptions WHERE transaction_id = ?", [tx_id]
    ).fetchall()[0]
    return json.loads(raw)


def _csv(tmp_path, *lines):
    path = tmp_path / "decisions.csv"
    path.write_text("transaction_id;invoice_id;amount;note\n" + "\n".join(lines) + "\n")
    return read_decisions_csv(path)


def _state(con):
    return (
        con.execute("SELECT * FROM allocations ORDER BY allocation_id").fetchall(),
        con.execute("SELECT * FROM reconciliation_decisions").fetchall(),
        con.execute("SELECT * FROM reconciliation_exceptions ORDER BY 1").fetchall(),
    )


@pytest.mark.parametrize("text", ["candidate 2", "Candidate 2", "candidat 2", "cand. #2", " 2"])
def test_candidate_number_is_read_in_the_invoice_field(text):
    assert candidate_number(text) == (None if text == " 2" else 2)


def test_candidate_n_allocates_that_candidates_invoices_and_amounts(db, tmp_path):
    with connect(db) as con:
        shown = _shown(con, "T1")
        sets = [sorted(c["invoice_ids"]) for c in shown]
        assert ["FA-3", "FA-4"] in sets and ["FA-7", "FA-8"] in sets, "both sets shown"
        n = sets.index(["FA-7", "FA-8"]) + 1
        summary = apply_decisions(con, _csv(tmp_path, f"T1;candidate {n};;set 2"), "csv")
        assert summary["allocations_written"] == 2 and summary["exceptions_resolved"] == 1
        assert con.execute(
            "SELECT invoice_id, amount, rule FROM allocations WHERE transaction_id = 'T1'"
            " ORDER BY 1"
        ).fetchall() == [
            ("FA-7", Decimal("89.99"), "manual"),
            ("FA-8", Decimal("55.00"), "manual"),
        ]
        assert con.execute(
            "SELECT invoice_id, amount, note FROM reconciliation_decisions ORDER BY 1"
        ).fetchall() == [("FA-7", Decimal("89.99"), "set 2"), ("FA-8", Decimal("55.00"), "set 2")]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "T1;candidate 99;;",
            r"line 3: invoice_id 'candidate 99': transaction 'T1' has candidates 1 to \d+",
        ),
        (
            "T1;candidate 0;;",
            r"line 3: invoice_id 'candidate 0': transaction 'T1' has candidates 1 to",
        ),
        (
            "T2;candidate 1;;",
            r"line 3: invoice_id 'candidate 1': transaction 'T2' has no candidate",
        ),
        (
            "T1;candidate 1;10,00;",
            r"line 3: invoice_id 'candidate 1': candidate 1 settles 2 invoices",
        ),
    ],
)
def test_a_bad_candidate_is_refused_naming_the_line_and_the_good_line_applies(
    db, tmp_path, line, message
):
    with connect(db) as con:
        # Line 2 is good, line 3 is wrong: line 2 is applied, line 3 refused with its reason.
        done = record_decisions(con, _csv(tmp_path, "T2;;;not a customer", line), "csv")
        outcomes = {r["line"]: (r["outcome"], r["reason"]) for r in done["lines"]}
        assert outcomes[3][0] == "refused" and re.search(message, outcomes[3][1])
        if line.startswith("T2"):  # one transaction is decided whole: its other line waits too
            assert outcomes[2] == ("refused", "decisions (csv) line 2: another line of"
                                   " transaction 'T2' was refused")  # fmt: skip
        else:
            assert outcomes[2] == ("applied", None)
        assert con.execute(
            "SELECT transaction_id, invoice_id FROM reconciliation_decisions"
        ).fetchall() == ([] if line.startswith("T2") else [("T2", None)])
        assert con.execute("SELECT count(*) FROM allocations").fetchall() == [(0,)]
        assert con.execute(
            "SELECT status FROM reconciliation_exceptions WHERE transaction_id = 'T1'"
        ).fetchall() == [("open",)]


def test_a_candidate_of_a_transaction_without_exception_is_refused(db, tmp_path):
    with connect(db) as con:
        _tx(con, "T3", "1.00")  # never reconciled: no exception lists candidates for it
        done = record_decisions(con, _csv(tmp_path, "T3;candidate 1;;"), "csv")
        ((line,),) = [[r] for r in done["lines"]]
        assert line["outcome"] == "refused"
        assert re.search(r"line 2: invoice_id 'candidate 1'.*no open exception", line["reason"])


def test_the_form_answer_becomes_lines_numbered_by_exception(db):
    with connect(db) as con:
        offered = form_exceptions(con, "fr")
        by_tx = {e["transaction_id"]: n for n, e in enumerate(offered, start=1)}
        t1 = offered[by_tx["T1"] - 1]
        pick = next(i for i, c in enumerate(t1["candidates"]) if "FA-3" in c["label"] and
                    "FA-4" in c["label"])  # fmt: skip
        answer = {
            field_name(by_tx["T2"]): {"decision": "Pas un paiement client", "note": "frais"},
            field_name(by_tx["T1"]): {"decision": t1["candidates"][pick]["label"]},
        }
        lines = form_lines(answer, offered, "fr")
        assert sorted(lines.select("transaction_id", "invoice_id").rows()) == [
            ("T1", f"candidate {pick + 1}"),
            ("T2", None),
        ]
        done = record_decisions(con, lines, "ui", decided_by="Claire")
        assert done["refused"] == 0
        assert con.execute(
            "SELECT invoice_id FROM allocations WHERE transaction_id = 'T1' ORDER BY 1"
        ).fetchall() == [("FA-3",), ("FA-4",)]
        # Invoices ticked: none ticked is reported on the exception's line, not a failure.
        empty = form_lines(
            {field_name(1): {"decision": "Aux factures cochées ci-dessous (montant ouvert de"
                             " chacune)", "invoices": []}},
            offered[:1], "fr",
        )  # fmt: skip
        assert empty["problem"].to_list() == ["decisions (ui) line 1: aucune facture cochée"]


def test_a_set_paid_in_part_allocates_only_what_the_payment_reaches(db, tmp_path):
    with connect(db) as con:
        _tx(con, "T4", "50.00")
        shown = [{"invoice_ids": ["FA-3", "FA-4"], "amount_cents": 5000, "rule": "manual",
                  "score": 0.5, "amounts_cents": [5000, 0], "why": []}]  # fmt: skip
        con.execute(
            "INSERT INTO reconciliation_exceptions VALUES ('T4', 'no_match', ?, 'open', NULL, ?,"
            " NULL)",
            [json.dumps(shown), NOW],
        )
        apply_decisions(con, _csv(tmp_path, "T4;candidate 1;;"), "csv")
        # FA-3 (due first) takes the 50,00; FA-4 gets nothing, not an allocation of 0.
        assert con.execute(
            "SELECT invoice_id, amount FROM allocations WHERE transaction_id = 'T4'"
        ).fetchall() == [("FA-3", Decimal("50.00"))]
