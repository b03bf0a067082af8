"""The plan on hand-built frames: who gets which level today, and why the others do not."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from o2c.models.dunning import (
    ACTION_HISTORY,
    DUNNING_CUSTOMER,
    EXCLUSION,
    MISSED_INSTALMENT,
    Channel,
    communication_key,
)
from o2c.models.schemas import OPEN_ITEM
from o2c.tasks.dunning.plan import plan
from o2c.tasks.dunning.policy import parse_policy

AS_OF = date(2026, 3, 31)

POLICY = parse_policy(
    """\
calendar: {business_days: false}
segments:
  default:
    grace_days: 3
    levels:
      - {name: courtesy, days: -5, channel: email, template: reminder_courtesy}
      - {name: first, days: 5, channel: email, template: reminder_friendly, min_open: "15.00"}
      - name: second
        days: 20
        channel: email
        template: reminder_firm
        min_open: "15.00"
        min_days_since_last: 7
        requires_previous: true
      - name: notice
        days: 40
        channel: ere_letter
        template: formal_notice
        min_open: "100.00"
        requires_previous: true
        needs_approval: true
  gentle:
    levels:
      - {name: only_email, days: 30, channel: email, template: reminder_friendly}
customers:
  VIP: {max_level: first}
  SLOW: {segment: gentle}
"""
)


def item(invoice_id, customer, days_late, open_cents, *, total=None, doc="invoice", cur="EUR"):
    due = AS_OF - timedelta(days=days_late)
    return {
        "invoice_id": invoice_id,
        "document_type": doc,
        "customer_id": customer,
        "legal_entity": "FR01",
        "issue_date": due - timedelta(days=30),
        "due_date": due,
        "currency": cur,
        "amount_total_cents": total if total is not None else open_cents,
        "amount_open_cents": open_cents,
        "reference": None,
    }


def frame(rows, schema):
    return pl.DataFrame(rows, schema=schema)


def customers(*ids, kind="business", emails=("ap@example.com",)):
    return frame(
        [
            {
                "customer_id": c,
                "name": f"Client {c}",
                "language": "en" if c == "B" else "fr",
                "customer_kind": kind,
                "segment": None,
                "emails": list(emails),
            }
            for c in ids
        ],
        DUNNING_CUSTOMER,
    )


def history(*rows):
    return frame(
        [
            {
                "key": f"k-{inv}-{level}",
                "customer_id": cust,
                "currency": "EUR",
                "invoice_id": inv,
                "level": level,
                "channel": "email",
                "status": status,
                "acted_on": AS_OF - timedelta(days=ago),
            }
            for cust, inv, level, ago, status in rows
        ],
        ACTION_HISTORY,
    )


NO_EXCLUSIONS = frame([], EXCLUSION)


def run(items, *, hist=None, excl=None, cust=None, payments=None):
    ids = sorted({i["customer_id"] for i in items})
    return plan(
        AS_OF,
        frame(items, OPEN_ITEM),
        excl if excl is not None else NO_EXCLUSIONS,
        hist if hist is not None else history(),
        cust if cust is not None else customers(*ids),
        POLICY,
        payments=payments,
    )


def by_customer(result):
    return {c.customer_id: c for c in result.communications}


def skipped(result):
    return {(r["invoice_id"], r["reason"]) for r in result.skipped.iter_rows(named=True)}


def test_one_letter_at_the_highest_level_lists_every_overdue_item_net_of_credits():
    items = [
        item("I1", "A", 58, 60_000, total=100_000),  # partly paid: 600.00 left of 1,000.00
        item("I2", "A", 11, 20_000),  # reached only "first" on its own
        item("I3", "A", -3, 50_000),  # not due yet: not in an overdue letter
        item("CN1", "A", 20, -5_000, doc="credit_note"),
    ]
    hist = history(("A", "I1", 3, 30, "sent"))  # "second" went out a month ago
    result = run(items, hist=hist)
    [letter] = result.communications
    assert (letter.level, letter.level_name, letter.channel) == (4, "notice", Channel.ERE_LETTER)
    assert letter.needs_approval
    assert [i.invoice_id for i in letter.items] == ["I1", "I2"]  # oldest first
    assert [i.open_cents for i in letter.items] == [60_000, 20_000]
    assert [c.invoice_id for c in letter.credits] == ["CN1"]
    assert letter.due_cents == 75_000
    assert letter.previous_key == "k-I1-3"
    assert letter.key == communication_key("A", 4, "EUR", ["CN1", "I2", "I1"])
    # business customer, overdue level: the 40 EUR indemnity per invoice and penalties
    assert [i.indemnity_cents for i in letter.items] == [4000, 4000]
    assert all(i.penalty_cents > 0 for i in letter.items)
    assert result.skipped.is_empty()


def test_penalties_on_what_is_left_after_each_payment_and_none_for_consumers():
    items = [item("P1", "A", 58, 60_000, total=100_000)]  # due 1 Feb 2026
    payments = pl.DataFrame(
        {"invoice_id": ["P1"], "amount_cents": [40_000], "pay_date": [date(2026, 3, 1)]},
        schema={"invoice_id": pl.String, "amount_cents": pl.Int64, "pay_date": pl.Date},
    )
    # 2026 H1 at 12.15 %: 1,000.00 x 28/365 + 600.00 x 30/365 = 9.3205 + 5.9918 = 15.3123
    [letter] = run(items, payments=payments).communications
    assert letter.level == 2 and letter.items[0].penalty_cents == 1531
    consumer = run(items, payments=payments, cust=customers("A", kind="consumer"))
    [letter] = consumer.communications
    assert (letter.items[0].penalty_cents, letter.items[0].indemnity_cents) == (0, 0)


def test_a_level_that_requires_the_previous_one_waits_for_it():
    items = [item("I4", "B", 58, 30_000)]
    [first] = run(items).communications  # nothing sent before: the first overdue level
    assert (first.level_name, first.language) == ("first", "en")
    # failed or bounced sends are not "sent before"
    again = run(items, hist=history(("B", "I4", 2, 10, "bounced")))
    assert again.communications[0].level_name == "first"
    after = run(items, hist=history(("B", "I4", 2, 10, "sent")))
    assert after.communications[0].level_name == "second"
    # a reminder sent after the plan's date (a re-run of an earlier day) is not history yet
    rerun = run(items, hist=history(("B", "I4", 2, -3, "sent")))
    assert rerun.communications[0].level_name == "first"


def test_exclusions_drop_items_or_customers_while_active():
    items = [
        item("I5", "C", 10, 30_000),
        item("I6", "C", 10, 40_000),
        item("I7", "D", 10, 40_000),
        item("I8", "E", 10, 40_000),
        item("I9", "F", 10, 40_000),
    ]
    excl = frame(
        [
            {
                "customer_id": "C",
                "invoice_id": "I5",
                "kind": "dispute",
                "until": None,
                "reason": "x",
            },
            {
                "customer_id": "D",
                "invoice_id": None,
                "kind": "opt_out",
                "until": None,
                "reason": "x",
            },
            {
                "customer_id": "E",
                "invoice_id": None,
                "kind": "promise_to_pay",
                "until": date(2026, 3, 30),
                "reason": "x",
            },
            {
                "customer_id": "F",
                "invoice_id": None,
                "kind": "promise_to_pay",
                "until": date(2026, 4, 15),
                "reason": "x",
            },
        ],
        EXCLUSION,
    )
    result = run(items, excl=excl)
    planned = by_customer(result)
    assert sorted(planned) == ["C", "E"]  # E's promise ended yesterday: dunning resumes
    assert [i.invoice_id for i in planned["C"].items] == ["I6"]
    assert skipped(result) == {("I5", "dispute"), ("I7", "opt_out"), ("I9", "promise_to_pay")}


def test_computed_exclusions_threshold_and_net_credit():
    items = [
        item("G1", "G", 10, 1_000),  # 10.00 overdue, minimum 15.00
        item("H1", "H", 10, 20_000),
        item("HC", "H", 5, -30_000, doc="overpayment"),  # paid more than it owes
        item("K1", "K", 10, 20_000),
        item("K2", "K", -20, 50_000),  # not due, keeps K's balance positive
        item("KC", "K", 5, -19_000, doc="credit_note"),  # 200 - 190 = 10.00 due: under 15.00
    ]
    result = run(items)
    assert result.communications == []
    assert skipped(result) == {
        ("G1", "below_threshold"),
        ("H1", "net_credit"),
        ("K1", "below_threshold"),
    }


def test_too_soon_already_reminded_and_no_email():
    items = [item("S1", "S", 25, 30_000), item("R1", "R", 10, 30_000), item("N1", "N", 10, 30_000)]
    hist = history(("S", "S1", 2, 3, "sent"), ("R", "R1", 2, 2, "pending"))
    cust = pl.concat([customers("S", "R"), customers("N", emails=())])
    result = run(items, hist=hist, cust=cust)
    assert result.communications == []
    assert skipped(result) == {
        ("S1", "too_soon"),  # "second" needs 7 days since the last reminder: 3
        ("R1", "already_reminded"),
        ("N1", "no_email"),
    }


def test_grace_period_courtesy_and_customer_overrides():
    items = [
        item("W1", "W", 2, 30_000),  # 2 days late, grace is 3: nothing yet, nothing skipped
        item("Y1", "Y", -4, 30_000),  # due in 4 days: courtesy
        item("Y2", "Y", -8, 30_000),  # due in 8 days: not yet
        item("V1", "VIP", 58, 30_000),  # capped at "first" by its override
        item("L1", "SLOW", 25, 30_000),  # gentle segment: first level at 30 days
    ]
    hist = history(("VIP", "V1", 2, 30, "sent"))
    result = run(items, hist=hist)
    planned = by_customer(result)
    assert sorted(planned) == ["Y"]
    assert planned["Y"].level_name == "courtesy" and [i.invoice_id for i in planned["Y"].items] == [
        "Y1"
    ]
    assert planned["Y"].items[0].indemnity_cents == 0  # no legal mentions before the due date
    assert skipped(result) == {("V1", "already_reminded")}


def test_one_communication_per_currency_and_bad_input_names_the_frame():
    items = [item("U1", "A", 10, 30_000), item("U2", "A", 10, 30_000, cur="USD")]
    result = run(items)
    assert [(c.currency, [i.invoice_id for i in c.items]) for c in result.communications] == [
        ("EUR", ["U1"]),
        ("USD", ["U2"]),
    ]
    assert result.communications[1].items[0].indemnity_cents == 0  # 40 EUR has no USD twin
    with pytest.raises(ValueError, match="exclusions lacks column"):
        plan(
            AS_OF,
            frame(items, OPEN_ITEM),
            pl.DataFrame({"x": [1]}),
            history(),
            customers("A"),
            POLICY,
        )
    with pytest.raises(ValueError, match="customer_id 'A' appears more than once"):
        plan(AS_OF, frame(items, OPEN_ITEM), NO_EXCLUSIONS, history(), customers("A", "A"), POLICY)
    with pytest.raises(ValueError, match="customer 'A' has customer_kind 'company'"):
        plan(
            AS_OF,
            frame(items, OPEN_ITEM),
            NO_EXCLUSIONS,
            history(),
            customers("A", kind="company"),
            POLICY,
        )
    with pytest.raises(ValueError, match="action history lacks column"):
        plan(
            AS_OF,
            frame(items, OPEN_ITEM),
            NO_EXCLUSIONS,
            history().drop("key"),
            customers("A"),
            POLICY,
        )


def test_when_exclusions_overlap_the_customer_wide_and_lasting_one_is_the_reason():
    items = [item("O1", "O", 10, 30_000), item("P1", "P", 10, 30_000)]
    excl = frame(
        [
            {
                "customer_id": "O",
                "invoice_id": None,
                "kind": "promise_to_pay",
                "until": date(2026, 4, 9),
                "reason": "x",
            },
            {
                "customer_id": "O",
                "invoice_id": None,
                "kind": "opt_out",
                "until": None,
                "reason": "x",
            },
            {
                "customer_id": "P",
                "invoice_id": "P1",
                "kind": "dispute",
                "until": None,
                "reason": "x",
            },
            {
                "customer_id": "P",
                "invoice_id": None,
                "kind": "promise_to_pay",
                "until": date(2026, 4, 9),
                "reason": "x",
            },
        ],
        EXCLUSION,
    )
    assert skipped(run(items, excl=excl)) == {("O1", "opt_out"), ("P1", "promise_to_pay")}


def test_business_days_delay_a_level_over_a_holiday_weekend():
    policy = parse_policy(
        """\
segments:
  default:
    levels:
      - {name: first, days: 3, channel: email, template: reminder_friendly}
"""
    )
    # Due Thursday 2 April 2026; Monday 6 April is Easter Monday. On Tuesday 7 April it is 5
    # calendar days late but 2 business days (Friday 3, Tuesday 7): 3 only on Wednesday 8.
    due = [item("E1", "A", 0, 30_000)]
    due[0]["due_date"] = date(2026, 4, 2)

    def planned(as_of):
        return plan(as_of, frame(due, OPEN_ITEM), NO_EXCLUSIONS, history(), customers("A"), policy)

    assert planned(date(2026, 4, 7)).communications == []
    [letter] = planned(date(2026, 4, 8)).communications
    assert letter.items[0].days_late == 6


def test_a_payment_plan_chases_only_its_missed_instalments():
    items = [item("M1", "M", 40, 90_000), item("M2", "M", 10, 20_000)]
    excl = frame(
        [
            {
                "customer_id": "M",
                "invoice_id": "M1",
                "kind": "payment_plan",
                "until": None,
                "reason": "3 x 300",
            }
        ],
        EXCLUSION,
    )
    missed = frame(
        [
            # the first instalment is paid; the second, due 10 days ago, is 120.00 short
            {
                "exclusion_id": 7,
                "customer_id": "M",
                "invoice_id": "M1",
                "currency": "EUR",
                "seq": 1,
                "due_date": AS_OF - timedelta(days=40),
                "amount_cents": 30_000,
                "unpaid_cents": 0,
            },
            {
                "exclusion_id": 7,
                "customer_id": "M",
                "invoice_id": "M1",
                "currency": "EUR",
                "seq": 2,
                "due_date": AS_OF - timedelta(days=10),
                "amount_cents": 30_000,
                "unpaid_cents": 12_000,
            },
        ],
        MISSED_INSTALMENT,
    )
    result = plan(
        AS_OF, frame(items, OPEN_ITEM), excl, history(), customers("M"), POLICY, instalments=missed
    )
    [letter] = result.communications
    assert [(i.invoice_id, i.document_type, i.open_cents) for i in letter.items] == [
        ("M1#2", "instalment", 12_000),  # same due date as M2: by id
        ("M2", "invoice", 20_000),
    ]
    assert letter.items[0].indemnity_cents == 0 and letter.due_cents == 32_000
    assert skipped(result) == {("M1", "payment_plan")}
    # an opt-out still stops everything, instalments included
    opted = pl.concat(
        [
            excl,
            frame(
                [
                    {
                        "customer_id": "M",
                        "invoice_id": None,
                        "kind": "opt_out",
                        "until": None,
                        "reason": "x",
                    }
                ],
                EXCLUSION,
            ),
        ]
    )
    quiet = plan(
        AS_OF, frame(items, OPEN_ITEM), opted, history(), customers("M"), POLICY, instalments=missed
    )
    assert quiet.communications == []
    assert skipped(quiet) == {("M1", "opt_out"), ("M2", "opt_out"), ("M1#2", "opt_out")}
