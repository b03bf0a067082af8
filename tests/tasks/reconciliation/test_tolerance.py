"""The fee tolerance at its edges (config.short_payment_tolerance_cents, in cents).

The documented rule (config.py, amounts.settle_claims, README "Reconciliation"): a payment short
of what it names by at most the tolerance (bank charges) settles it, the gap written off on the
last invoice under ``short_payment_write_off``. Short by more: a partial payment when the payer
is the invoice's customer or nobody known (issue 15: "Acompte FA-1001" from an account we have
never seen is a deposit on FA-1001). There is no tolerance on the overpayment side: any surplus
is an unapplied credit on the customer. The tolerance has no percentage form.

Each case runs at two tolerances, the default and an odd one, so that a tolerance read in the
wrong unit (euros for cents, or a fixed 500) fails as surely as ``<`` for ``<=``.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from o2c.tasks.reconciliation.amounts import amount_matches, settle_claims
from o2c.tasks.reconciliation.config import ReconciliationConfig
from tests.tasks.reconciliation.conftest import item, pairs, tx

DUPONT = "FR1420041010050500013M02606"  # C1's own IBAN
OPEN = 100_000
TOLERANCES = [500, 137]


@pytest.fixture(params=TOLERANCES, ids=lambda t: f"tol{t}")
def tol(request) -> int:
    return request.param


def _config(tol: int) -> ReconciliationConfig:
    return ReconciliationConfig(short_payment_tolerance_cents=tol)


def _exceptions(result) -> dict[str, str]:
    return dict(result.exceptions.select("transaction_id", "reason").iter_rows())


# --- through reconcile: rule 2 (invoice number in the text) -------------------------------------


def test_number_and_short_by_exactly_the_tolerance_settles_with_a_write_off(run, tol):
    # Unknown payer: only the amount vouches for the number, and it is within the tolerance.
    t = tx("t1", OPEN - tol, remittance_unstructured="FA-1001")
    r = run([t], [item("FA-1001", "C1", OPEN)], config=_config(tol))
    assert pairs(r) == [
        ("t1", "FA-1001", OPEN - tol, "payment", "invoice_number"),
        ("t1", "FA-1001", tol, "write_off", "short_payment_write_off"),
    ]
    assert _exceptions(r) == {}


def test_unknown_payer_short_by_one_cent_more_than_the_tolerance_pays_part(run, tol):
    # Unknown payer, the text names one invoice and no other customer owns that number: what came
    # is paid on it and the rest stays open (no write-off beyond the tolerance).
    t = tx("t1", OPEN - tol - 1, remittance_unstructured="FA-1001")
    r = run([t], [item("FA-1001", "C1", OPEN)], config=_config(tol))
    assert pairs(r) == [("t1", "FA-1001", OPEN - tol - 1, "payment", "invoice_number")]
    assert _exceptions(r) == {}


def test_known_payer_short_by_exactly_the_tolerance_settles_with_a_write_off(run, tol):
    # The payer's IBAN vouches for the number: the write-off is settle_claims' decision alone.
    t = tx("t1", OPEN - tol, counterparty_iban=DUPONT, remittance_unstructured="FA-1001")
    r = run([t], [item("FA-1001", "C1", OPEN)], config=_config(tol))
    assert pairs(r) == [
        ("t1", "FA-1001", OPEN - tol, "payment", "invoice_number"),
        ("t1", "FA-1001", tol, "write_off", "short_payment_write_off"),
    ]


def test_known_payer_short_by_one_cent_more_is_a_partial_payment(run, tol):
    t = tx("t1", OPEN - tol - 1, counterparty_iban=DUPONT, remittance_unstructured="FA-1001")
    r = run([t], [item("FA-1001", "C1", OPEN)], config=_config(tol))
    assert pairs(r) == [("t1", "FA-1001", OPEN - tol - 1, "payment", "invoice_number")]
    assert _exceptions(r) == {}


def test_grouped_payment_short_by_the_tolerance_writes_off_on_the_last_due(run, tol):
    items = [
        item("FA-1002", "C1", 50_000, due_date=date(2026, 2, 28)),
        item("FA-1001", "C1", 30_000, due_date=date(2026, 1, 31)),
    ]
    t = tx("t1", 80_000 - tol, remittance_unstructured="FA-1001 FA-1002")
    r = run([t], items, config=_config(tol))
    assert pairs(r) == [
        ("t1", "FA-1001", 30_000, "payment", "grouped_invoice_numbers"),
        ("t1", "FA-1002", 50_000 - tol, "payment", "grouped_invoice_numbers"),
        ("t1", "FA-1002", tol, "write_off", "short_payment_write_off"),
    ]


def test_grouped_payment_short_by_one_cent_more_than_the_charges_is_asked(run, tol):
    items = [
        item("FA-1002", "C1", 50_000, due_date=date(2026, 2, 28)),
        item("FA-1001", "C1", 30_000, due_date=date(2026, 1, 31)),
    ]
    t = tx(
        "t1", 80_000 - tol - 1, counterparty_iban=DUPONT, remittance_unstructured="FA-1001 FA-1002"
    )
    r = run([t], items, config=_config(tol))
    assert r.allocations.height == 0
    assert r.exceptions["reason"].to_list() == ["reference_amount_mismatch"]


@pytest.mark.parametrize("over", [1, 137, 500, 501])
def test_unknown_payer_overpaying_settles_and_keeps_the_surplus_as_credit(run, over):
    # The text names one invoice, nobody else owns that number: settled, the surplus (whatever
    # its size) an unapplied credit on the invoice's customer.
    t = tx("t1", OPEN + over, remittance_unstructured="FA-1001")
    r = run([t], [item("FA-1001", "C1", OPEN)])
    assert pairs(r) == [
        ("t1", None, over, "unapplied_credit", "overpayment_credit"),
        ("t1", "FA-1001", OPEN, "payment", "invoice_number"),
    ]
    assert r.allocations.filter(pl.col("invoice_id").is_null())["customer_id"].to_list() == ["C1"]


@pytest.mark.parametrize("over", [1, 500, 501])
def test_known_payer_overpaying_leaves_the_surplus_as_a_credit(run, over):
    t = tx("t1", OPEN + over, counterparty_iban=DUPONT, remittance_unstructured="FA-1001")
    r = run([t], [item("FA-1001", "C1", OPEN)])
    assert pairs(r) == [
        ("t1", None, over, "unapplied_credit", "overpayment_credit"),
        ("t1", "FA-1001", OPEN, "payment", "invoice_number"),
    ]


# --- through reconcile: rule 3 (one typo in the number) ----------------------------------------


def test_one_typo_and_short_by_exactly_the_tolerance_settles_with_a_write_off(run, tol):
    # "99989" is one typo from FA-2024-99999; the payer is unknown, so only the amount vouches.
    t = tx("t1", OPEN - tol, remittance_unstructured="Facture FA 2024 99989")
    r = run([t], [item("FA-2024-99999", "C1", OPEN)], customers=[], config=_config(tol))
    assert pairs(r) == [
        ("t1", "FA-2024-99999", OPEN - tol, "payment", "invoice_number_fuzzy"),
        ("t1", "FA-2024-99999", tol, "write_off", "short_payment_write_off"),
    ]


def test_one_typo_and_short_by_one_cent_more_is_no_candidate(run, tol):
    t = tx("t1", OPEN - tol - 1, remittance_unstructured="Facture FA 2024 99989")
    r = run([t], [item("FA-2024-99999", "C1", OPEN)], customers=[], config=_config(tol))
    assert pairs(r) == []
    assert r.exceptions.select("transaction_id", "reason", "candidates").rows() == [
        ("t1", "no_match", "[]")
    ]


def test_one_typo_and_over_by_one_cent_is_no_candidate(run):
    t = tx("t1", OPEN + 1, remittance_unstructured="Facture FA 2024 99989")
    r = run([t], [item("FA-2024-99999", "C1", OPEN)], customers=[])
    assert pairs(r) == []
    assert _exceptions(r) == {"t1": "no_match"}


# --- through reconcile: rule 4 (payer IBAN + amount, no reference) ------------------------------


def test_iban_and_amount_short_by_exactly_the_tolerance_settles_with_a_write_off(run, tol):
    t = tx("t1", OPEN - tol, counterparty_iban=DUPONT, remittance_unstructured="merci")
    r = run([t], [item("FA-1", "C1", OPEN)], config=_config(tol))
    assert pairs(r) == [
        ("t1", "FA-1", OPEN - tol, "payment", "payer_iban_amount"),
        ("t1", "FA-1", tol, "write_off", "short_payment_write_off"),
    ]


def test_iban_and_amount_short_by_one_cent_more_is_no_match(run, tol):
    t = tx("t1", OPEN - tol - 1, counterparty_iban=DUPONT, remittance_unstructured="merci")
    r = run([t], [item("FA-1", "C1", OPEN)], config=_config(tol))
    assert pairs(r) == []
    assert _exceptions(r) == {"t1": "no_match"}


@pytest.mark.parametrize("over", [1, 500])
def test_iban_and_amount_over_the_open_amount_is_no_match(run, over):
    t = tx("t1", OPEN + over, counterparty_iban=DUPONT, remittance_unstructured="merci")
    r = run([t], [item("FA-1", "C1", OPEN)])
    assert pairs(r) == []
    assert _exceptions(r) == {"t1": "no_match"}


def test_zero_tolerance_writes_nothing_off(run):
    t = tx("t1", OPEN - 1, counterparty_iban=DUPONT, remittance_unstructured="FA-1001")
    r = run([t], [item("FA-1001", "C1", OPEN)], config=_config(0))
    assert pairs(r) == [("t1", "FA-1001", OPEN - 1, "payment", "invoice_number")]


# --- amounts.py directly ------------------------------------------------------------------------


def _settle(amount: int, opens: list[int], tol: int) -> list[tuple]:
    """settle_claims of one transfer claiming invoices F1, F2... (oldest first)."""
    claims = pl.DataFrame(
        {
            "transaction_id": ["t1"] * len(opens),
            "invoice_id": [f"F{k + 1}" for k in range(len(opens))],
            "rule": ["invoice_number"] * len(opens),
            "confidence": [1.0] * len(opens),
        }
    )
    transactions = pl.DataFrame(
        {"transaction_id": ["t1"], "amount_cents": [amount], "currency": "EUR"}
    )
    items = pl.DataFrame(
        {
            "invoice_id": [f"F{k + 1}" for k in range(len(opens))],
            "customer_id": "C1",
            "due_date": [date(2026, 1, k + 1) for k in range(len(opens))],
            "currency": "EUR",
            "amount_open_cents": opens,
        }
    )
    allocations, exceptions = settle_claims(claims, transactions, items, _config(tol))
    # Several invoices short by more than the charges are asked, and nothing is allocated.
    assert (exceptions.height == 0) != (allocations.height == 0)
    return sorted(
        allocations.select("invoice_id", "amount_cents", "kind", "rule").iter_rows(),
        key=lambda r: (r[0] or "", r[2]),
    )


def test_settle_short_by_exactly_the_tolerance_writes_the_gap_off(tol):
    assert _settle(OPEN - tol, [OPEN], tol) == [
        ("F1", OPEN - tol, "payment", "invoice_number"),
        ("F1", tol, "write_off", "short_payment_write_off"),
    ]


def test_settle_short_by_one_cent_more_is_partial(tol):
    assert _settle(OPEN - tol - 1, [OPEN], tol) == [
        ("F1", OPEN - tol - 1, "payment", "invoice_number")
    ]


def test_settle_over_by_the_tolerance_is_a_credit_not_a_write_off(tol):
    assert _settle(OPEN + tol, [OPEN], tol) == [
        (None, tol, "unapplied_credit", "overpayment_credit"),
        ("F1", OPEN, "payment", "invoice_number"),
    ]


def test_settle_refund_short_by_the_tolerance_mirrors_a_payment(tol):
    # A refund of a credit note: signs flip, the rule does not.
    assert _settle(-(OPEN - tol), [-OPEN], tol) == [
        ("F1", -(OPEN - tol), "payment", "invoice_number"),
        ("F1", -tol, "write_off", "short_payment_write_off"),
    ]
    assert _settle(-(OPEN - tol - 1), [-OPEN], tol) == [
        ("F1", -(OPEN - tol - 1), "payment", "invoice_number")
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tol=st.integers(0, 20_000),
    opens=st.lists(st.integers(1, 5_000_000), min_size=1, max_size=3),
    delta=st.sampled_from([-2, -1, 0, 1, 2]),
    base=st.sampled_from(["tol", "zero"]),
)
def test_settle_writes_off_exactly_when_short_by_at_most_the_tolerance(tol, opens, delta, base):
    total = sum(opens)
    short = (tol if base == "tol" else 0) + delta
    assume(total - short > 0)
    rows = _settle(total - short, opens, tol)
    paid = sum(a for _, a, kind, _ in rows if kind == "payment")
    written_off = [a for _, a, kind, _ in rows if kind == "write_off"]
    credit = [a for _, a, kind, _ in rows if kind == "unapplied_credit"]
    if 0 < short <= tol and short <= opens[-1]:
        assert written_off == [short] and paid == total - short and credit == []
    elif abs(short) > tol and len(opens) > 1:  # several invoices, short or over: asked
        assert rows == []
    else:
        assert written_off == []
        assert paid == min(total, total - short)
        assert credit == ([-short] if short < 0 else [])


def _amount_matches(amount: int, opens: list[int], tol: int) -> tuple[list, list]:
    payers = pl.DataFrame(
        {"transaction_id": ["t1"], "customer_id": "C1", "amount_cents": [amount], "currency": "EUR"}
    )
    items = pl.DataFrame(
        {
            "invoice_id": [f"F{k + 1}" for k in range(len(opens))],
            "customer_id": "C1",
            "currency": "EUR",
            "due_date": [date(2026, 1, k + 1) for k in range(len(opens))],
            "amount_open_cents": opens,
        }
    )
    claims, exceptions = amount_matches(
        payers, items, _config(tol), rule_single="single", rule_set="set", confidence=0.95
    )
    return (
        sorted(claims.select("invoice_id", "rule").iter_rows()),
        exceptions["reason"].to_list(),
    )


def test_amount_match_short_by_exactly_the_tolerance_names_the_item(tol):
    assert _amount_matches(OPEN - tol, [OPEN, 3 * OPEN], tol) == ([("F1", "single")], [])


def test_amount_match_short_by_one_cent_more_names_nothing(tol):
    assert _amount_matches(OPEN - tol - 1, [OPEN, 3 * OPEN], tol) == ([], [])


def test_amount_match_over_by_one_cent_names_nothing(tol):
    assert _amount_matches(OPEN + 1, [OPEN, 3 * OPEN], tol) == ([], [])


def test_amount_match_two_items_within_the_tolerance_is_ambiguous(tol):
    got = _amount_matches(OPEN - tol, [OPEN, OPEN - tol + 1], tol)
    assert got == ([], ["ambiguous_amount"])
