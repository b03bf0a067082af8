"""The reconciliation summary finance reads: what was allocated, never two currencies added.
Written in the company's language, French by default (O2C_LANGUAGE)."""

from __future__ import annotations

import re

from o2c.tasks.reconciliation.report import summary_markdown
from tests.tasks.reconciliation.conftest import item, pairs, tx

NNBSP, NBSP = "\u202f", "\u00a0"  # French thousands separator; between amount and currency


def _stats(**kw: object) -> dict:
    stats = {"transactions": 3, "settled": 2, "exceptions": 1}
    stats.update(kw)
    return stats


def _allocated(markdown: str) -> list[str]:
    """The lines of the 'Montant affecté aux factures' part of the summary."""
    block = re.search(r"Montant affecté aux factures[^\n]*\n\n((?:- [^\n]*\n)*)", markdown)
    assert block, markdown
    return block[1].splitlines()


def test_the_amount_allocated_is_one_line_per_currency_in_its_currency() -> None:
    stats = _stats(
        amount_matched_cents=123_450 + 10_000,  # what an engine adds up across currencies
        amount_matched_by_currency={"USD": 10_000, "EUR": 123_450},
    )
    markdown = summary_markdown(stats)
    assert "Montant affecté aux factures, par devise :" in markdown
    assert _allocated(markdown) == [f"- 1{NNBSP}234,50{NBSP}EUR", f"- 100,00{NBSP}USD"]
    # Euros and dollars are never added into one figure.
    assert f"1{NNBSP}334,50" not in markdown
    assert "devises additionnées" not in markdown


def test_a_negative_total_stays_negative_and_a_currency_with_nothing_is_left_out() -> None:
    # A reversal run can take back more than it allocates in one currency.
    stats = _stats(amount_matched_by_currency={"EUR": -5_025, "GBP": 0, "CHF": 1_000_000})
    assert _allocated(summary_markdown(stats)) == [
        f"- 10{NNBSP}000,00{NBSP}CHF",
        f"- -50,25{NBSP}EUR",
    ]


def test_nothing_allocated_says_none() -> None:
    for by_currency in ({}, {"EUR": 0}):
        markdown = summary_markdown(_stats(amount_matched_by_currency=by_currency))
        assert "Montant affecté aux factures : aucun" in markdown
        assert not re.search(r"^- ", markdown, re.MULTILINE)


def test_stats_with_only_a_total_say_it_adds_currencies() -> None:
    # Stats from an engine that gives no amount per currency: the total, said to be one.
    markdown = summary_markdown(_stats(amount_matched_cents=133_450))
    (line,) = [x for x in markdown.splitlines() if x.startswith("Montant affecté")]
    assert f"1{NNBSP}334,50" in line and "toutes devises additionnées" in line


def test_the_engine_gives_what_it_allocated_per_currency(run) -> None:
    # C1 pays an invoice in euros, C2 one in dollars: the stats keep the two apart.
    result = run(
        [
            tx("T1", 123_450, remittance_unstructured="Facture FA-1",
               counterparty_iban="FR1420041010050500013M02606"),
            tx("T2", 10_000, currency="USD", remittance_unstructured="Invoice US-1",
               counterparty_iban="DE89370400440532013000"),
        ],
        [item("FA-1", "C1", 123_450), item("US-1", "C2", 10_000, currency="USD")],
    )  # fmt: skip
    assert pairs(result) == [
        ("T1", "FA-1", 123_450, "payment", "invoice_number"),
        ("T2", "US-1", 10_000, "payment", "invoice_number"),
    ]
    assert result.stats["amount_matched_by_currency"] == {"EUR": 123_450, "USD": 10_000}
    assert _allocated(summary_markdown(result.stats)) == [
        f"- 1{NNBSP}234,50{NBSP}EUR",
        f"- 100,00{NBSP}USD",
    ]


def test_an_english_company_reads_it_in_english(monkeypatch) -> None:
    monkeypatch.setenv("O2C_LANGUAGE", "en")
    stats = _stats(amount_matched_by_currency={"EUR": 123_450, "USD": 10_000})
    markdown = summary_markdown(stats)
    assert "Amount allocated to invoices, per currency:" in markdown
    assert "Montant" not in markdown
