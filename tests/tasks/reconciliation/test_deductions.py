"""A remittance that takes a claim of the payer's own off a document (a late-delivery penalty,
a damaged delivery: camt AdjstmntAmtAndRsn) over several documents is finance's decision, with
the remittance's own split as the candidate to click (deductions.py); over one document it is a
partial payment of it."""

from __future__ import annotations

import json
from datetime import date

from o2c.tasks.reconciliation.engine import reconcile
from o2c.tasks.reconciliation.evidence import exception_evidence
from tests.tasks.reconciliation.conftest import inputs, item, pairs, tx

HEAD_OFFICE = "BE58654061637779"  # nobody's known account


def doc(number: str, cents: int, taken: int | None = None, why: str | None = None) -> dict:
    return {
        "doc_number": number,
        "doc_type": "CINV",
        "doc_date": date(2025, 5, 2),
        "amount_cents": cents,
        "adjustment_cents": taken,
        "adjustment_reason": why,
    }


ITEMS = [item("FT2025/00055", "C1", 546_993), item("FT2025/00057", "C1", 497_266)]
PENALTY = "PENA PENALITE RETARD DE LIVRAISON"
# 4 972,66 owed on FT2025/00057, 87,00 taken off as a penalty: 4 885,66 remitted.
CLAIMED = tx(
    "t1", 546_993 + 488_566, counterparty_iban=HEAD_OFFICE,
    remittance_unstructured="AVIS 202504848 PENALITE RETARD DE LIVRAISON DEDUITE",
    remittance_documents=[doc("FT2025/00055", 546_993), doc("FT2025/00057", 488_566, 8_700, PENALTY)],
)  # fmt: skip


def test_a_claim_taken_off_one_of_several_documents_goes_to_finance(run):
    r = run([CLAIMED], ITEMS)
    assert pairs(r) == []  # not the remittance's split, nor anything the amounts suggest
    ((tx_id, reason, candidates),) = r.exceptions.iter_rows()
    assert (tx_id, reason) == ("t1", "remittance_deduction")
    assert json.loads(candidates)[0]["invoice_ids"] == ["FT2025/00055", "FT2025/00057"]


def test_finance_sees_the_split_the_claim_and_its_reason():
    frames = inputs([CLAIMED], ITEMS)
    r = reconcile(*frames)
    got = exception_evidence(r.exceptions, frames[0], frames[1], frames[2], frames[3])
    first = json.loads(got["candidates"][0])[0]
    assert dict(zip(first["invoice_ids"], first["amounts_cents"], strict=True)) == {
        "FT2025/00055": 546_993,
        "FT2025/00057": 488_566,
    }  # one click places the money as the payer said; 87,00 stays open on FT2025/00057
    assert any("87,00 taken off: " + PENALTY in why for why in first["why"])


def test_the_same_remittance_without_a_claim_is_an_instruction(run):
    # Remitting less than owed, for no stated reason, is a partial payment the payer asks for.
    plain = {**CLAIMED, "remittance_documents": [doc("FT2025/00055", 546_993),
                                                  doc("FT2025/00057", 488_566)]}  # fmt: skip
    assert [p[1:3] for p in pairs(run([plain], ITEMS))] == [
        ("FT2025/00055", 546_993),
        ("FT2025/00057", 488_566),
    ]


def test_a_claim_taken_off_the_one_document_listed_is_a_partial_payment_of_it(run):
    one = tx(
        "t1", 488_566, counterparty_iban=HEAD_OFFICE,
        remittance_documents=[doc("FT2025/00057", 488_566, 8_700, PENALTY)],
    )  # fmt: skip
    assert pairs(run([one], ITEMS)) == [
        ("t1", "FT2025/00057", 488_566, "payment", "remittance_documents")
    ]
