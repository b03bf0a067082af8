"""What evidence.py and store.py write in English reaches finance short and in the company's
language: each reason a candidate or a refusal can carry is worded by the label catalog."""

from __future__ import annotations

import pytest

from o2c.tasks.reconciliation.report import candidate_label, refusal_label, why_label

NNBSP, NBSP = "\u202f", "\u00a0"

# evidence.py's sentences as it writes them, and what finance reads in French and English.
WHYS = [
    ("reference RF18539007547034 given", "réf. RF18539007547034", "ref. RF18539007547034"),
    ("reference RF18 5390 in the text", "réf. RF18 5390 au libellé", "ref. RF18 5390 in text"),
    ("invoice number FA-2026-0009 in the text", "n° au libellé", "no. in text"),
    ("remittance document FA-1 for 1200,50", "avis : FA-1", "advice: FA-1"),
    ("payer's open item of that amount", "montant d'une facture du payeur",
     "a payer's item of that amount"),
    ("payer's open items of that sum", "somme de factures du payeur", "payer's items of that sum"),
    ("amount equals what is open (1200,50)", "montant exact", "exact amount"),
    ("amount equals what the remittance lists (1200,50)", "montant de l'avis",
     "amount as advised"),
    ("7,50 short of what is open (1200,50), within the bank-charge tolerance",
     "7,50 de moins (frais)", "7.50 short (fees)"),
    ("partial: pays 1000,00 of 1200,50 open", f"partiel : 1{NNBSP}000,00 sur 1{NNBSP}200,50",
     "partial: 1,000.00 of 1,200.50"),
    ("12,00 more than what is open (100,00)", "12,00 de trop", "12.00 over"),
    ("payer's IBAN is known for customer C1", "IBAN connu", "known IBAN"),
    ("payer's name fits customer C1", "nom du payeur", "payer's name"),
    ("issued 2026-01-05, due 2026-02-04", "échéance 04/02/2026", "due 2026-02-04"),
]  # fmt: skip


@pytest.mark.parametrize(("english", "fr", "en"), WHYS)
def test_each_reason_a_candidate_carries_is_worded_short(english, fr, en):
    assert why_label(english, "fr") == fr
    assert why_label(english, "en") == en


def test_an_unknown_reason_is_shown_as_it_is():
    assert why_label("something new", "fr") == "something new"


def test_a_candidate_label_is_short_and_numbered():
    candidate = {
        "invoice_ids": ["FA-1"],
        "amount_cents": 10_000,
        "score": 0.95,
        "rule": "invoice_number",
        "why": ["invoice number FA-1 in the text", "amount equals what is open (100,00)",
                "issued 2026-01-05, due 2026-02-04"],
    }  # fmt: skip
    assert candidate_label(1, candidate, "EUR", "fr") == (
        f"1) FA-1 · 100,00{NBSP}EUR · 95{NNBSP}% · n° au libellé, montant exact"
    )
    assert candidate_label(2, candidate, "EUR", "en") == (
        f"2) FA-1 · EUR{NBSP}100.00 · 95% · no. in text, exact amount"
    )
    # Without reasons: the rule in words.
    bare = {**candidate, "why": []}
    assert candidate_label(1, bare, "EUR", "fr").endswith("numéro de facture dans le libellé")


REFUSALS = [
    ("decisions (ui) line 3: unknown transaction_id 'T9'", "opération inconnue"),
    ("decisions (csv) line 2: unknown invoice_id 'FA-9'", "facture FA-9 inconnue"),
    ("decisions (ui) line 1: transaction 'T1' is already allocated", "opération déjà rapprochée"),
    ("decisions (ui) line 1: transaction 'T1' is already decided", "opération déjà décidée"),
    ("decisions (ui) line 1: invoice 'FA-1' is in USD, the payment in EUR",
     "facture FA-1 en USD, paiement en EUR"),
    (f"decisions (ui) line 1, 2: allocates 1{NNBSP}200,00 to invoices, more than the payment of"
     " 100,00", f"affecte 1{NNBSP}200,00 aux factures, plus que le paiement de 100,00"),
    ("decisions (ui) line 2: another line of transaction 'T1' was refused",
     "une autre ligne de ce paiement est refusée"),
    ("decisions (ui) line 4: invoice_id 'candidate 3': transaction 'T1' has candidates 1 to 2",
     "ce candidat n'est pas dans la liste"),
    ("decisions (ui) line 1: aucune facture cochée", "aucune facture cochée"),
    ("decisions (csv) line 5: amount 'x' is not a number", "amount 'x' is not a number"),
]  # fmt: skip


@pytest.mark.parametrize(("reason", "fr"), REFUSALS)
def test_a_refused_line_says_why_in_french_without_repeating_the_line(reason, fr):
    assert refusal_label(reason, "fr") == fr
