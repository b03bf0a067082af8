"""Evidence for finance: each exception lists the invoices the payment points to, and why."""

from __future__ import annotations

import json
from datetime import date

import polars as pl

from o2c.models.schemas import ALLOCATION, RECONCILIATION_EXCEPTION
from o2c.tasks.reconciliation.config import ReconciliationConfig
from o2c.tasks.reconciliation.evidence import MAX_CANDIDATES, exception_evidence
from tests.tasks.reconciliation.conftest import frame, inputs, item, tx

DUPONT_IBAN = "FR1420041010050500013M02606"  # C1's own IBAN (conftest CUSTOMERS)
MARTIN_IBAN = "DE89370400440532013000"  # C2's


def _evidence(transactions, items, *, exceptions=None, allocations=(), aliases=(), config=None):
    """Candidates per transaction, as finance will see them (decoded JSON)."""
    txs, its, customers, alias_frame, _, _ = inputs(transactions, items, aliases=aliases)
    if exceptions is None:
        exceptions = [(t["transaction_id"], "no_match", "[]") for t in transactions]
    exc = pl.DataFrame(exceptions, schema=RECONCILIATION_EXCEPTION, orient="row")
    out = exception_evidence(
        exc,
        txs,
        its,
        customers,
        alias_frame,
        allocations=frame(list(allocations), ALLOCATION),
        config=config,
    )
    assert out.height == exc.height
    return {r["transaction_id"]: json.loads(r["candidates"]) for r in out.iter_rows(named=True)}


ITEMS = [
    item("FA-2026-0001", "C1", 120000, due_date=date(2026, 1, 31)),
    item("FA-2026-0002", "C1", 30050, due_date=date(2026, 2, 28)),
    item("FA-2026-0003", "C2", 9999),
    item("FA-2026-0004", "C2", 4500),
    item("FA-2026-0005", "C2", 5499),
    item("FA-2026-0006", "C3", 7000, reference="RF18539007547034"),
]


def test_a_deposit_naming_its_invoice_lists_it_with_the_partial_amount():
    got = _evidence([tx("T1", 60000, remittance_unstructured="Acompte FA-2026-0001")], ITEMS)
    best = got["T1"][0]
    assert best["invoice_ids"] == ["FA-2026-0001"]
    assert best["amounts_cents"] == [60000] and best["amount_cents"] == 60000
    assert "invoice number FA-2026-0001 in the text" in best["why"]
    assert "partial: pays 600,00 of 1200,00 open" in best["why"]


def test_overpayment_and_short_payment_say_by_how_much():
    got = _evidence(
        [
            tx("T2", 30575, remittance_unstructured="DUPONT FA-2026-0002"),
            tx("T3", 9743, remittance_unstructured="facture FA-2026-0003"),
        ],
        ITEMS,
    )
    over, short = got["T2"][0], got["T3"][0]
    assert over["invoice_ids"] == ["FA-2026-0002"] and over["amounts_cents"] == [30050]
    assert "5,25 more than what is open (300,50)" in over["why"]
    assert short["invoice_ids"] == ["FA-2026-0003"] and short["amounts_cents"] == [9743]
    assert any(w.startswith("2,56 short of what is open") for w in short["why"])


def test_the_tolerance_is_that_of_the_payments_currency():
    strict = ReconciliationConfig(tolerance_by_currency=(("EUR", 100),))
    payment = [tx("T3", 9743, remittance_unstructured="facture FA-2026-0003")]
    (best,) = _evidence(payment, ITEMS, config=strict)["T3"][:1]
    assert "partial: pays 97,43 of 99,99 open" in best["why"], "2,56 is beyond 1,00 in EUR"


def test_rf_reference_written_with_spaces_in_the_text_names_the_invoice():
    got = _evidence(
        [tx("T4", 7000, remittance_unstructured="Paiement ref rf18 5390 0754 7034")], ITEMS
    )
    best = got["T4"][0]
    assert best["invoice_ids"] == ["FA-2026-0006"]
    assert "reference RF18539007547034 in the text" in best["why"]
    assert "amount equals what is open (70,00)" in best["why"]
    assert best["score"] > 0.8


def test_an_rf_reference_with_letters_split_in_the_text_is_found():
    items = [*ITEMS, item("FA-2026-0010", "C3", 4200, reference="RF45G72UUR")]
    got = _evidence([tx("T12", 4200, remittance_unstructured="virement rf45 g72u ur merci")], items)
    assert got["T12"][0]["invoice_ids"] == ["FA-2026-0010"]
    assert "reference RF45G72UUR in the text" in got["T12"][0]["why"]


def test_remittance_documents_give_each_invoice_its_amount():
    docs = [
        {"doc_number": "2026-0001", "doc_type": "CINV", "doc_date": None, "amount_cents": 20000},
        {"doc_number": "FA-2026-0002", "doc_type": "CINV", "doc_date": None, "amount_cents": 30050},
    ]
    got = _evidence([tx("T5", 50050, remittance_documents=docs)], ITEMS)
    both = [c for c in got["T5"] if len(c["invoice_ids"]) == 2]
    assert both and both[0] == got["T5"][0], "the named pair comes first"
    assert dict(zip(both[0]["invoice_ids"], both[0]["amounts_cents"], strict=True)) == {
        "FA-2026-0001": 20000,
        "FA-2026-0002": 30050,
    }
    assert "remittance document 2026-0001 for 200,00" in both[0]["why"]


def test_payer_known_by_iban_gets_each_fitting_set_of_its_open_items():
    # 144,99 is 99,99 + 45,00 and also 89,99 + 55,00 at C2 (two fitting sets: both listed).
    items = [*ITEMS, item("FA-2026-0007", "C2", 8999), item("FA-2026-0008", "C2", 5500)]
    got = _evidence([tx("T6", 14499, counterparty_iban=MARTIN_IBAN)], items)
    sets = sorted(tuple(c["invoice_ids"]) for c in got["T6"])
    assert ("FA-2026-0003", "FA-2026-0004") in sets
    assert ("FA-2026-0007", "FA-2026-0008") in sets
    assert all(c["amount_cents"] == 14499 for c in got["T6"])
    assert all("payer's IBAN is known for customer C2" in c["why"] for c in got["T6"])
    # C1's items do not fit the amount, nor are C3's the payer's.
    assert not any(
        i.startswith("FA-2026-000" + n) for c in got["T6"] for i in c["invoice_ids"] for n in "126"
    )


def test_payer_known_by_a_learned_name_gets_its_items_of_that_amount():
    aliases = [{"customer_id": "C3", "payer_iban": None, "payer_name": "HOLDING LEFEBVRE"}]
    got = _evidence(
        [tx("T7", 7000, counterparty_name="Holding Lefebvre SA")], ITEMS, aliases=aliases
    )
    assert got["T7"][0]["invoice_ids"] == ["FA-2026-0006"]
    assert "payer's name fits customer C3" in got["T7"][0]["why"]


def test_what_the_run_just_allocated_is_no_longer_offered():
    settled = {c: None for c in ALLOCATION} | {
        "allocation_id": "X|FA-2026-0003|payment",
        "transaction_id": "X",
        "invoice_id": "FA-2026-0003",
        "customer_id": "C2",
        "amount_cents": 9999,
        "currency": "EUR",
        "kind": "payment",
        "rule": "invoice_number",
        "confidence": 1.0,
    }
    got = _evidence([tx("T8", 9999, counterparty_iban=MARTIN_IBAN)], ITEMS, allocations=[settled])
    assert all("FA-2026-0003" not in c["invoice_ids"] for c in got["T8"])


def test_engine_candidates_are_kept_and_merged_with_the_evidence():
    engine = json.dumps(
        [
            {
                "invoice_ids": ["customer:C9"],
                "amount_cents": None,
                "rule": "payer_name_amount",
                "score": 0.93,
            },
            {
                "invoice_ids": ["FA-2026-0004"],
                "amount_cents": 4500,
                "rule": "payer_iban_amount",
                "score": 0.95,
            },
        ]
    )
    got = _evidence(
        [tx("T9", 4500, counterparty_iban=MARTIN_IBAN)],
        ITEMS,
        exceptions=[("T9", "ambiguous_payer", engine)],
    )
    ids = [c["invoice_ids"] for c in got["T9"]]
    assert ["customer:C9"] in ids
    merged = next(c for c in got["T9"] if c["invoice_ids"] == ["FA-2026-0004"])
    assert merged["rule"] == "payer_iban_amount" and merged["score"] >= 0.95
    assert "amount equals what is open (45,00)" in merged["why"]
    assert ids.count(["FA-2026-0004"]) == 1


def test_candidates_are_ranked_and_capped():
    # Thirty open items of 10,00 at C2: any one fits; at most MAX_CANDIDATES are listed.
    items = [item(f"FB-{n:04d}", "C2", 1000) for n in range(30)]
    items.append(item("FB-9999", "C2", 1000, reference="RF18539007547034"))
    got = _evidence(
        [
            tx(
                "T10",
                1000,
                counterparty_iban=MARTIN_IBAN,
                remittance_unstructured="RF18539007547034",
            )
        ],
        items,
    )
    assert len(got["T10"]) == MAX_CANDIDATES
    assert got["T10"][0]["invoice_ids"] == ["FB-9999"], "the one the reference names first"
    scores = [c["score"] for c in got["T10"]]
    assert scores == sorted(scores, reverse=True)


def test_no_evidence_leaves_an_empty_list():
    got = _evidence([tx("T11", 123456, counterparty_name="Inconnu")], ITEMS)
    assert got["T11"] == []
