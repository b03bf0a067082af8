"""Exclusions in a real warehouse: recorded with their audit row, in force between their dates,
ended by a new fact, loaded from a file all or nothing, payment plans chased only for what is
missed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from o2c.models.dunning import ExclusionKind
from o2c.tasks.dunning import audit
from o2c.tasks.dunning.exclusions import (
    Exclusion,
    ExclusionError,
    Instalment,
    active_exclusions,
    add_exclusion,
    end_exclusion,
    list_exclusions,
    load_exclusions_file,
    missed_instalments,
    parse_instalment,
)
from o2c.tasks.dunning.instalments import instalments_due
from o2c.warehouse import connect

TODAY = date(2026, 4, 1)


@pytest.fixture
def con(tmp_path: Path):
    with connect(tmp_path / "o2c.duckdb") as con:
        con.execute(
            "INSERT INTO customers (customer_id, name, row_hash, updated_at) VALUES"
            " ('C1', 'Dupont SARL', 'h', now()), ('C2', 'Martin SAS', 'h', now())"
        )
        for invoice_id, customer, total in [
            ("F-1", "C1", "1000.00"),
            ("F-2", "C1", "500.00"),
            ("F-3", "C2", "90.00"),
        ]:
            con.execute(
                "INSERT INTO invoices (invoice_id, document_type, customer_id, issue_date,"
                " due_date, currency, amount_total, row_hash, first_loaded_at, updated_at)"
                " VALUES (?, 'invoice', ?, '2026-01-01', '2026-01-31', 'EUR', ?, 'h', now(),"
                " now())",
                [invoice_id, customer, total],
            )
        yield con


def _audit_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, dict]]:
    rows = con.execute("SELECT event, subject, payload FROM audit_log ORDER BY seq").fetchall()
    return [(event, subject, json.loads(payload)) for event, subject, payload in rows]


def test_a_dispute_is_in_force_until_its_date_and_audited(con):
    ask = Exclusion("C1", ExclusionKind.DISPUTE, "goods damaged", "alice", date(2026, 5, 31), "F-1")
    exclusion_id = add_exclusion(con, ask, origin="cli", today=TODAY)
    on_the_day = active_exclusions(con, date(2026, 5, 31))
    assert on_the_day.select("customer_id", "invoice_id", "kind", "until", "reason").rows() == [
        ("C1", "F-1", "dispute", date(2026, 5, 31), "goods damaged")
    ]
    assert active_exclusions(con, date(2026, 6, 1)).is_empty()  # resumes by itself after
    assert active_exclusions(con, date(2026, 3, 31)).is_empty()  # not before it was set
    [(event, subject, payload)] = _audit_rows(con)
    assert (event, subject) == ("exclusion", "C1")
    assert payload["action"] == "add" and payload["exclusion_id"] == exclusion_id
    assert (payload["kind"], payload["invoice_id"], payload["by"]) == ("dispute", "F-1", "alice")
    assert audit.verify(con).ok


def test_ending_is_a_new_fact_and_the_exclusion_stays(con):
    ask = Exclusion("C2", ExclusionKind.OPT_OUT, "asked by phone", "bob")  # no end
    exclusion_id = add_exclusion(con, ask, today=TODAY)
    assert active_exclusions(con, date(2030, 1, 1))["customer_id"].to_list() == ["C2"]
    end_exclusion(
        con, exclusion_id, by="carol", reason="wants reminders again", on=date(2026, 6, 1)
    )
    assert active_exclusions(con, date(2026, 5, 31))["customer_id"].to_list() == ["C2"]
    assert active_exclusions(con, date(2026, 6, 1)).is_empty()
    listed = list_exclusions(con, date(2026, 6, 1)).row(0, named=True)
    assert (listed["state"], listed["ended_by"], listed["end_reason"]) == (
        "ended",
        "carol",
        "wants reminders again",
    )
    with pytest.raises(ExclusionError, match="already ended on 2026-06-01"):
        end_exclusion(con, exclusion_id, by="carol", reason="again")
    with pytest.raises(ExclusionError, match="exclusion 999 does not exist"):
        end_exclusion(con, 999, by="carol", reason="typo")
    assert [p["action"] for _, _, p in _audit_rows(con)] == ["add", "end"]


@pytest.mark.parametrize(
    ("ask", "message"),
    [
        (Exclusion("C1", ExclusionKind.DISPUTE, "r", "a", date(2026, 5, 1)), "one invoice"),
        (Exclusion("C9", ExclusionKind.OPT_OUT, "r", "a"), "customer 'C9' is not in the"),
        (
            Exclusion("C1", ExclusionKind.DISPUTE, "r", "a", date(2026, 5, 1), "F-3"),
            "invoice 'F-3' is customer 'C2''s, not 'C1''s",
        ),
        (
            Exclusion("C1", ExclusionKind.NET_CREDIT, "r", "a", date(2026, 5, 1)),
            "computed by the plan",
        ),
        (Exclusion("C1", ExclusionKind.PROMISE_TO_PAY, "r", "a"), "until is required"),
        (
            Exclusion("C1", ExclusionKind.PROMISE_TO_PAY, "r", "a", date(2026, 3, 1)),
            "before the exclusion starts",
        ),
        (Exclusion("C1", ExclusionKind.OPT_OUT, "  ", "a"), "reason is required"),
        (Exclusion("C1", ExclusionKind.OPT_OUT, "r", ""), "by is required"),
        (
            Exclusion("C1", ExclusionKind.PAYMENT_PLAN, "r", "a", date(2026, 9, 1)),
            "needs its instalments",
        ),
    ],
)
def test_a_wrong_request_names_what_is_wrong_and_writes_nothing(con, ask, message):
    with pytest.raises(ExclusionError, match=message):
        add_exclusion(con, ask, today=TODAY)
    assert con.execute("SELECT count(*) FROM dunning_exclusions").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM audit_log").fetchall() == [(0,)]


def test_asking_twice_adds_nothing(con):
    ask = Exclusion(
        "C1", ExclusionKind.PROMISE_TO_PAY, "will pay on the 15th", "a", date(2026, 4, 15)
    )
    assert add_exclusion(con, ask, today=TODAY) == add_exclusion(con, ask, today=TODAY)
    assert len(_audit_rows(con)) == 1


def test_a_file_loads_all_or_nothing_with_errors_per_line(con, tmp_path):
    good = tmp_path / "exclusions.csv"
    good.write_text(
        "customer_id;invoice_id;kind;until;reason;by;instalments\n"
        "C1;F-1;dispute;2026-06-30;price disagreement;;\n"
        "C2;;promise_to_pay;2026-04-20;promised by phone;dave;\n"
        "C1;;payment_plan;;agreed plan;;2026-04-30:500.00 2026-05-31:500,00\n",
        encoding="utf-8",
    )
    first = load_exclusions_file(con, good, by="erin", today=TODAY)
    assert (len(first.added), first.already, first.errors) == (3, [], [])
    rows = list_exclusions(con, TODAY).select("kind", "until", "created_by", "origin").rows()
    assert rows == [
        ("dispute", date(2026, 6, 30), "erin", "file exclusions.csv line 2"),
        ("promise_to_pay", date(2026, 4, 20), "dave", "file exclusions.csv line 3"),
        ("payment_plan", date(2026, 5, 31), "erin", "file exclusions.csv line 4"),  # last one
    ]
    again = load_exclusions_file(con, good, by="erin", today=TODAY)
    assert (again.added, sorted(again.already)) == ([], sorted(first.added))

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "customer_id,invoice_id,kind,until,reason\n"
        "C2,,opt_out,,no more letters\n"
        "C2,,holiday,2026-05-01,away\n"
        "C1,,promise_to_pay,31/05/2026,soon\n",
        encoding="utf-8",
    )
    result = load_exclusions_file(con, bad, by="erin", today=TODAY)
    assert result.added == [] and len(result.errors) == 2
    assert result.errors[0].startswith("bad.csv line 3: kind 'holiday'")
    assert result.errors[1] == "bad.csv line 4: until '31/05/2026' is not a date like 2026-06-30"
    assert con.execute("SELECT count(*) FROM dunning_exclusions").fetchall() == [(3,)]


def test_only_missed_instalments_are_chased(con):
    plan = Exclusion(
        "C1",
        ExclusionKind.PAYMENT_PLAN,
        "three instalments",
        "frank",
        instalments=(
            Instalment(date(2026, 4, 30), 50_000),
            Instalment(date(2026, 5, 31), 50_000),
            Instalment(date(2026, 6, 30), 50_000),
        ),
    )
    exclusion_id = add_exclusion(con, plan, today=TODAY)
    assert missed_instalments(con, date(2026, 4, 29)).is_empty()  # nothing due yet
    missed = missed_instalments(con, date(2026, 5, 1))
    assert missed.select("exclusion_id", "seq", "currency", "unpaid_cents").rows() == [
        (exclusion_id, 1, "EUR", 50_000)
    ]
    # 700.00 paid on F-2 in April: the first instalment and 200.00 of the second
    con.execute(
        "INSERT INTO bank_transactions (transaction_id, account_iban, currency, booking_date,"
        " amount, source, loaded_at) VALUES ('T1', 'FR7630001007941234567890185', 'EUR',"
        " '2026-04-28', '700.00', 'camt.053', now())"
    )
    con.execute(
        "INSERT INTO allocations VALUES ('A1', 'T1', 'F-2', 'C1', '700.00', 'EUR',"
        " 'payment', 'reference', 1.0, NULL, NULL, now())"
    )
    assert missed_instalments(con, date(2026, 5, 1)).is_empty()
    missed = missed_instalments(con, date(2026, 6, 1))
    assert missed.select("seq", "due_date", "unpaid_cents").rows() == [
        (2, date(2026, 5, 31), 30_000)
    ]
    # the plan ended: dunning chases the invoices again, not instalments
    end_exclusion(con, exclusion_id, by="frank", reason="broken", on=date(2026, 6, 2))
    assert missed_instalments(con, date(2026, 6, 2)).is_empty()


def test_instalments_due_pays_oldest_first():
    instalments = pl.DataFrame(
        {
            "exclusion_id": [1, 1, 1, 2],
            "seq": [1, 2, 3, 1],
            "due_date": [
                date(2026, 1, 31),
                date(2026, 2, 28),
                date(2026, 3, 31),
                date(2026, 1, 31),
            ],
            "amount_cents": [10_000, 10_000, 10_000, 5_000],
        }
    )
    paid = pl.DataFrame({"exclusion_id": [1, 2], "paid_cents": [15_000, 5_000]})
    due = instalments_due(instalments, paid, date(2026, 3, 31))
    assert due.select("exclusion_id", "seq", "unpaid_cents").rows() == [
        (1, 2, 5_000),
        (1, 3, 10_000),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-05-31", "DATE:AMOUNT"),
        ("31/05/2026:10", "is not a date"),
        ("2026-05-31:1.234", "is not an amount"),
        ("2026-05-31:0", "positive"),
    ],
)
def test_an_instalment_that_cannot_be_read_says_why(text, message):
    with pytest.raises(ExclusionError, match=message):
        parse_instalment(text)
    assert parse_instalment("2026-05-31:1 500,50") == Instalment(date(2026, 5, 31), 150_050)
