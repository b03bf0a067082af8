"""The fast path is a shortcut, never a different answer: on random small companies, reconcile()
with it gives the same allocations and exceptions as the rule cascade alone.

The cascade alone is reconcile() with fast_path.obvious_settlements (as the engine imported it)
finding nothing: every transfer then goes through rules 1-5. Everything is compared, the rule
label and the confidence included: the fast path claims to settle exactly as the cascade's first
round would, so not even the label may differ.
"""

from __future__ import annotations

from datetime import date
from unittest import mock

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from o2c.tasks.reconciliation import engine
from o2c.tasks.reconciliation.engine import reconcile
from tests.tasks.reconciliation.conftest import CUSTOMERS, inputs, item, tx

UNKNOWN_IBAN = "FR7610107001011234567890129"  # valid, nobody's
DATES = [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
DUE = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
AMOUNTS = [5_000, 10_000, 12_345, 20_000, 30_000]
# Short (> 0) or over (< 0) around the fee tolerance (500) and well beyond it; exact half the time.
DELTAS = [0] * 10 + [1, 499, 500, 501, 5_000, -1, -500, -501, -5_000, 10_000]


def rf(reference: str) -> str:
    """An ISO 11649 creditor reference with its check digits."""
    digits = "".join(str(int(c, 36)) for c in reference + "RF00")
    return f"RF{98 - int(digits) % 97:02d}{reference}"


def _as_text(invoice_id: str, style: int) -> str:
    year, number = invoice_id.split("-")[1:]
    return [
        invoice_id,
        f"Facture {invoice_id}",
        f"FA {year} {int(number)}",  # spaced, zeros dropped
        f"Paiement fact. {year}{number} merci",
    ][style]


@st.composite
def companies(draw) -> tuple[list[dict], list[dict]]:
    numbers = draw(st.lists(st.integers(1, 30), min_size=1, max_size=8, unique=True))
    items = []
    for k in numbers:
        invoice_id = f"FA-2026-{k:05d}"
        cents = draw(st.one_of(st.sampled_from(AMOUNTS), st.integers(100, 60_000)))
        credit = draw(st.integers(0, 9)) == 0
        items.append(
            item(
                invoice_id,
                draw(st.sampled_from(["C1", "C2", "C3"])),
                -cents if credit else cents,
                currency=draw(st.sampled_from(["EUR", "EUR", "EUR", "USD"])),
                due_date=draw(st.sampled_from(DUE)),
                reference=rf(f"2026{k:05d}") if draw(st.booleans()) else None,
            )
        )
    customers = {c["customer_id"]: c for c in CUSTOMERS}
    txs: list[dict] = []
    named: list[dict] = []
    how = "none"
    for n in range(draw(st.integers(1, 8))):
        # Now and then a second transfer for what the previous one named: contested invoices.
        if not (txs and named and draw(st.integers(0, 3)) == 3):
            # Mostly one invoice named; some transfers name two, a few none.
            size = min(len(items), draw(st.sampled_from([1, 1, 1, 1, 2, 2, 0])))
            named = draw(
                st.lists(st.sampled_from(items), min_size=size, max_size=size, unique_by=id)
            )
            how = draw(st.sampled_from(["text", "text", "rf", "e2e", "rf+text", "wrong", "none"]))
        # What is paid: all that is named, or only the first or the last one named (a grouped
        # text paying one; a reference to one and a text naming another), then a difference
        # around the tolerance.
        paying = draw(st.sampled_from(["all", "first", "last"])) if named else "none"
        if paying == "none":
            due = draw(st.sampled_from(AMOUNTS))
        else:
            due = sum(
                i["amount_open_cents"]
                for i in {"all": named, "first": named[:1], "last": named[-1:]}[paying]
            )
        amount = due - draw(st.sampled_from(DELTAS)) * (1 if due > 0 else -1)
        owner = customers[named[0]["customer_id"]] if named else customers["C1"]
        payer = draw(st.sampled_from(["own", "own", "other", "unknown", "none", "name"]))
        currency = named[0]["currency"] if named else "EUR"
        if draw(st.integers(0, 4)) == 4:
            currency = "USD" if currency == "EUR" else "EUR"
        kw: dict = {"booking_date": draw(st.sampled_from(DATES)), "currency": currency}
        if payer == "own":
            kw["counterparty_iban"] = owner["iban"]
        elif payer == "other":
            other = "C2" if owner["customer_id"] == "C1" else "C1"
            kw["counterparty_iban"] = customers[other]["iban"]
        elif payer == "unknown":
            kw["counterparty_iban"] = UNKNOWN_IBAN
        elif payer == "name":
            kw["counterparty_name"] = owner["name"].upper()
        if how in ("text", "rf+text") and named:
            style = draw(st.integers(0, 3))
            # rf+text: the reference names the first invoice, the text the others (or another).
            in_text = named if how == "text" else named[1:] or [draw(st.sampled_from(items))]
            kw["remittance_unstructured"] = " ".join(
                _as_text(i["invoice_id"], style) for i in in_text
            )
        if how in ("rf", "rf+text") and named:
            # The RF reference where the invoice has one, else its number as the structured field.
            kw["remittance_structured"] = named[0]["reference"] or named[0]["invoice_id"]
        elif how == "e2e" and named:
            kw["end_to_end_id"] = named[0]["invoice_id"]
        elif how == "wrong":
            kw["remittance_unstructured"] = f"Facture FA-2026-{draw(st.integers(31, 99)):05d}"
        elif not named or how == "none":
            kw["remittance_unstructured"] = "merci"
        txs.append(tx(f"t{n}", amount, **kw))
    return txs, items


A, B = "FA-2026-00001", "FA-2026-00002"
RF_A = rf("202600001")
DUPONT = CUSTOMERS[0]["iban"]
# Shapes where a careless shortcut would differ from the cascade, run on every test run beside
# the random companies (which find most of them too, but not every time).
EDGES = {
    "paid in another currency": (
        [tx("t0", 10_000, remittance_unstructured=A)],
        [item(A, "C1", 10_000, currency="USD")],
    ),
    "short within the tolerance": (
        [tx("t0", 9_800, remittance_unstructured=A)],
        [item(A, "C1", 10_000)],
    ),
    "overpaid by a known payer": (
        [tx("t0", 10_300, remittance_unstructured=A, counterparty_iban=DUPONT)],
        [item(A, "C1", 10_000)],
    ),
    "two references to one invoice": (
        [
            tx("t0", 10_000, remittance_structured=RF_A, booking_date=DATES[1]),
            tx("t1", 10_000, end_to_end_id=A, booking_date=DATES[0]),
        ],
        [item(A, "C1", 10_000, reference=RF_A)],
    ),
    "two texts naming one invoice": (
        [
            tx("t0", 10_000, remittance_unstructured=A, booking_date=DATES[1]),
            tx("t1", 10_000, remittance_unstructured=f"Facture {A}", booking_date=DATES[0]),
        ],
        [item(A, "C1", 10_000)],
    ),
    "a text naming what another's reference names": (
        [
            tx("t0", 10_000, remittance_unstructured=A, booking_date=DATES[0]),
            tx("t1", 10_000, remittance_structured=RF_A, booking_date=DATES[1]),
        ],
        [item(A, "C1", 10_000, reference=RF_A)],
    ),
    "a text naming two, paying the first exactly": (
        [tx("t0", 10_000, remittance_unstructured=f"{A} {B}")],
        [item(A, "C1", 10_000, due_date=DUE[1]), item(B, "C1", 20_000, due_date=DUE[0])],
    ),
    "a reference to one and a text naming another": (
        [tx("t0", 20_000, remittance_structured=RF_A, remittance_unstructured=B)],
        [item(A, "C1", 10_000, reference=RF_A), item(B, "C2", 20_000)],
    ),
}


_fast_path = engine.obvious_settlements


def _no_fast_path(*args, **kwargs) -> pl.DataFrame:
    """The shortcut's frame, with its columns and types, and no row: nothing is obvious."""
    return _fast_path(*args, **kwargs).clear()


def _reconcile(txs: list[dict], items: list[dict], *, fast: bool):
    frames = inputs(txs, items)
    if fast:
        return reconcile(*frames)
    with mock.patch.object(engine, "obvious_settlements", _no_fast_path):
        return reconcile(*frames)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(companies())
@example(EDGES["paid in another currency"])
@example(EDGES["short within the tolerance"])
@example(EDGES["overpaid by a known payer"])
@example(EDGES["two references to one invoice"])
@example(EDGES["two texts naming one invoice"])
@example(EDGES["a text naming what another's reference names"])
@example(EDGES["a text naming two, paying the first exactly"])
@example(EDGES["a reference to one and a text naming another"])
def test_fast_path_and_cascade_agree(company):
    txs, items = company
    fast = _reconcile(txs, items, fast=True)
    slow = _reconcile(txs, items, fast=False)
    assert fast.allocations.to_dicts() == slow.allocations.to_dicts()
    assert fast.exceptions.to_dicts() == slow.exceptions.to_dicts()
    assert fast.not_customer_debits.to_dicts() == slow.not_customer_debits.to_dicts()
    assert fast.stats == slow.stats


def test_rf_helper_gives_valid_check_digits():
    assert rf("539007547034") == "RF18539007547034"  # the ISO 11649 example


def test_the_cascade_alone_really_has_no_fast_path():
    # The comparison means something only if switching the fast path off changes the route and
    # not the answer: one transfer the shortcut settles, and the cascade settling it the same.
    txs = [tx("t1", 10_000, remittance_unstructured="FA-2026-00001")]
    items = [item("FA-2026-00001", "C1", 10_000)]
    taken: list[int] = []

    def counting(*args, **kwargs):
        found = _fast_path(*args, **kwargs)
        taken.append(found.height)
        return found

    with mock.patch.object(engine, "obvious_settlements", counting):
        fast = reconcile(*inputs(txs, items))
    slow = _reconcile(txs, items, fast=False)
    assert taken == [1]
    assert fast.allocations.to_dicts() == slow.allocations.to_dicts()
    assert fast.allocations.select("invoice_id", "amount_cents", "rule").rows() == [
        ("FA-2026-00001", 10_000, "invoice_number")
    ]
