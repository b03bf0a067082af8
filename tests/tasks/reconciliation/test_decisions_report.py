"""The reconciliation artifact as finance reads it: French first, one line per rule and currency
with a total per currency, what was left alone, reasons in words, each decision's outcome, and
the exceptions table leading with the payment, never its id."""

from __future__ import annotations

import re

from o2c.tasks.reconciliation.report import open_exceptions, summary_markdown
from o2c.warehouse import connect
from tests.tasks.reconciliation.test_decisions import db  # noqa: F401 (the warehouse fixture)

NNBSP, NBSP = "\u202f", "\u00a0"

STATS = {
    "transactions": 9,
    "settled": 6,
    "exceptions": 1,
    "by_rule_currency": [
        {"rule": "invoice_number", "currency": "EUR", "transactions": 3, "amount_cents": 123_450},
        {"rule": "payer_iban_amount", "currency": "EUR", "transactions": 2, "amount_cents": 10_000},
        {"rule": "invoice_number", "currency": "USD", "transactions": 1, "amount_cents": 5_000},
    ],
    "left_alone": 5,
    "left_alone_by_decision": 2,
    "left_alone_by_code": 3,
    "left_alone_by_currency": {"EUR": {"transactions": 5, "amount_cents": 123_456}},
    "exceptions_by_reason": {"no_match": 1},
}


def _rows(markdown: str, first: str) -> list[list[str]]:
    """The cells of the table rows whose first cell is ``first``."""
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith(f"| {first}")
    ]


def test_matched_by_rule_is_one_line_per_rule_and_currency_with_a_total_per_currency():
    markdown = summary_markdown(STATS, lang="fr")
    assert "## Rapprochées par règle" in markdown
    assert _rows(markdown, "numéro de facture dans le libellé") == [
        ["numéro de facture dans le libellé", "EUR", "3", f"1{NNBSP}234,50{NBSP}EUR"],
        ["numéro de facture dans le libellé", "USD", "1", f"50,00{NBSP}USD"],
    ]
    assert _rows(markdown, "**Total") == [
        ["**Total EUR**", "EUR", "**5**", f"**1{NNBSP}334,50{NBSP}EUR**"],
        ["**Total USD**", "USD", "**1**", f"**50,00{NBSP}USD**"],
    ]
    # Euros and dollars are never one figure.
    assert f"1{NNBSP}384,50" not in markdown


def test_what_was_left_alone_is_counted_with_its_sum_and_reasons_are_words():
    markdown = summary_markdown(STATS, lang="fr")
    assert (
        f"Pas des paiements clients, laissés de côté : 5, 1{NNBSP}234,56{NBSP}EUR (2 par une"
        " décision antérieure sur le même payeur, 3 par leur code d'opération bancaire"
    ) in markdown
    assert "| aucune facture désignée | 1 |" in markdown
    assert "no_match" not in markdown
    english = summary_markdown(STATS, lang="en")
    assert "Not customer payments, left alone: 5, EUR\u00a01,234.56" in english
    assert "| nothing points to an open invoice | 1 |" in english


def test_each_decision_line_says_applied_or_refused_and_why():
    decisions = {
        "lines": [
            {"line": 2, "transaction_id": "T1", "invoice_id": "candidate 1", "amount": None,
             "note": None, "outcome": "applied", "reason": None},
            {"line": 3, "transaction_id": "T2", "invoice_id": "FA-9", "amount": "=1+1",
             "note": None, "outcome": "refused", "reason": "unknown invoice_id 'FA-9'"},
            {"line": 4, "transaction_id": "T3", "invoice_id": None, "amount": None,
             "note": None, "outcome": "applied", "reason": None},
        ]
    }  # fmt: skip
    described = {"T2": "06/11/2026 · 7,00 EUR · <b>X</b>"}
    markdown = summary_markdown(STATS, decisions, "fr", described)
    assert "2 appliquée(s), 1 refusée(s)" in markdown
    # What finance acts on first (outcome, why refused, the decision), the payment last.
    assert "| ligne | résultat | motif | décision | montant | paiement |" in markdown
    (refused,) = _rows(markdown, "3 ")
    # The reason in words, in French; the payment in words, outside text escaped (never markup).
    assert refused[1:4] == ["refusée", r"facture FA\-9 inconnue", r"FA\-9"]
    assert refused[5] == r"06\/11\/2026 · 7\,00 EUR · \<b\>X\<\/b\>"
    (applied,) = _rows(markdown, "2 ")
    assert applied[1:4] == ["appliquée", "", "candidat 1"]
    (not_customer,) = _rows(markdown, "4 ")
    assert not_customer[3] == "pas un paiement client"
    english = summary_markdown(STATS, decisions, "en", described)
    assert "| line | outcome | reason | decision | amount | payment |" in english
    assert r"| refused | unknown invoice FA\-9 |" in english


def test_the_exceptions_table_leads_with_the_payment_and_reason_in_words(db):  # noqa: F811
    with connect(db) as con:
        rows = open_exceptions(con, lang="fr")
        english = open_exceptions(con, lang="en")
    assert rows
    # What a decision needs first (the payment, why it waits, its candidates), the ids last.
    assert list(rows[0])[:7] == [
        "Date", "Montant", "Payeur", "Motif", "Candidats", "Indices", "Libellé",
    ]  # fmt: skip
    assert list(rows[0])[-3:] == ["Réf. banque", "IBAN payeur", "Opération (id)"]
    for row in rows:
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", row["Date"])
        assert "_" not in row["Motif"]
    by_id = {r["Opération (id)"]: r for r in rows}
    assert by_id["T1"]["Montant"] == f"144,99{NBSP}EUR"
    assert by_id["T1"]["Candidats"].startswith("1) ")
    # The English catalog gives the English table.
    assert list(english[0])[:6] == ["Date", "Amount", "Payer", "Reason", "Candidates", "Evidence"]
    t1 = {r["Transaction (id)"]: r for r in english}["T1"]
    assert t1["Reason"] == "several invoices or sets have this amount"
    assert re.fullmatch(r"1\) FA-7 \+ FA-8 \(\+\d+\)", t1["Candidates"])
    assert t1["Evidence"].startswith("1) FA-7 89.99 + FA-8 55.00 EUR · 95% · payer's items")
    # Short and French: the invoices with what each receives and the score; beside, what points
    # to each (the UI's table cells do not wrap: the candidates stay narrow).
    assert by_id["T1"]["Candidats"].startswith("1) FA-7 + FA-8 (+")
    assert by_id["T1"]["Indices"].startswith(
        f"1) FA-7 89,99 + FA-8 55,00 EUR · 95{NNBSP}% · somme de factures du payeur, montant exact"
        " ; 2) FA-3"
    )


def test_an_english_company_reads_the_reconciliation_in_english(monkeypatch):
    """O2C_LANGUAGE=en: the English catalog's words, English amounts; nothing French left."""
    monkeypatch.setenv("O2C_LANGUAGE", "en")
    markdown = summary_markdown(STATS)
    assert markdown.startswith("# Reconciliation\n")
    assert "| bank transactions considered | 9 |" in markdown
    assert "## Matched by rule" in markdown and "## Exceptions by reason" in markdown
    assert f"| **Total EUR** | EUR | **5** | **EUR{NBSP}1,334.50** |" in markdown
    assert "rapproch" not in markdown.lower() and "Décid" not in markdown


def test_a_company_overrides_a_word_in_its_own_catalog(monkeypatch, tmp_path):
    """O2C_LABELS_DIR: the company's fr.toml replaces a shipped word, key by key."""
    (tmp_path / "fr.toml").write_text('[reconciliation]\ntitle = "Lettrage bancaire"\n')
    monkeypatch.setenv("O2C_LABELS_DIR", str(tmp_path))
    markdown = summary_markdown(STATS, lang="fr")
    assert markdown.startswith("# Lettrage bancaire\n")
    assert "## Rapprochées par règle" in markdown  # the others as shipped


def test_a_long_payer_name_is_cut_so_the_candidates_stay_on_screen():
    from o2c.tasks.reconciliation.report import short_payer

    assert short_payer("NORSITEC SAS") == "NORSITEC SAS"
    assert short_payer("INFORMATIQUE DE LA LOIRE SAS") == "INFORMATIQUE DE…"
    assert short_payer(None) is None
