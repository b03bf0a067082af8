"""The formal notice as the debtor reads it: the PDF's own text, in French and in English."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date

import pytest

from o2c.models.dunning import Channel, Communication, CustomerKind, DunnedItem
from o2c.tasks.dunning.settings import SenderSettings
from o2c.tasks.ere.letter import Debtor, LetterError, letter_png, render_letter, typst_source
from tests.tasks.ere.pdftext import pdf_text

AS_OF = date(2026, 3, 2)
# Penalties by hand (C. com. L441-10, 2026-H1 rate 12.15 % = ECB 2.15 + 10 points, Actual/365):
#   F-2026-001: 800.00 EUR left, 26 days late: 80000 x 0.1215 x 26 / 365 = 692.38 -> 6.92 EUR
#   F-2026-002: 500.00 EUR left, 21 days late: 50000 x 0.1215 x 21 / 365 = 349.52 -> 3.50 EUR
# Indemnity: 40 EUR per invoice (D441-5), two invoices. Credit: 100.00 EUR.
# Total claimed: 800 + 500 - 100 + 6.92 + 3.50 + 80 = 1,290.42 EUR.
ITEMS = (
    DunnedItem("F-2026-001", "invoice", date(2026, 1, 5), date(2026, 2, 4), 120000, 80000, 26,
               penalty_cents=692, indemnity_cents=4000),
    DunnedItem("F-2026-002", "invoice", date(2026, 1, 10), date(2026, 2, 9), 50000, 50000, 21,
               penalty_cents=350, indemnity_cents=4000),
)  # fmt: skip
CREDITS = (DunnedItem("AV-7", "credit_note", date(2026, 2, 1), None, -10000, -10000, 0),)
DEBTOR = Debtor(
    name="Garage Martin SARL",
    address_lines=("4 avenue Foch", "33000 Bordeaux", "France"),
    siren="552100554",
)


def notice(language: str = "fr", **changes: object) -> Communication:
    base = Communication(
        as_of=AS_OF,
        customer_id="C-042",
        customer_name="Garage Martin SARL",
        language=language,
        customer_kind=CustomerKind.BUSINESS,
        currency="EUR",
        level=5,
        level_name="formal_notice",
        channel=Channel.ERE_LETTER,
        template="formal_notice",
        recipients=("compta@garage-martin.example",),
        needs_approval=True,
        items=ITEMS,
        credits=CREDITS,
        payment_link="https://pay.example/l/abc123",
    )
    return replace(base, **changes) if changes else base


def text_of(pdf: bytes) -> str:
    """The PDF's text with line breaks and runs of spaces made single spaces."""
    return " ".join(pdf_text(pdf).split())


SENDER = SenderSettings()


def test_french_notice_names_both_parties_the_sums_the_law_and_the_deadline() -> None:
    pdf, sha, meta = render_letter(notice("fr"), SENDER, DEBTOR, notice_days=8)
    text = text_of(pdf)

    assert pdf.startswith(b"%PDF-") and sha == hashlib.sha256(pdf).hexdigest()
    assert meta.language == "fr" and meta.content_sha256 == sha
    assert "Mise en demeure de payer" in text
    # creditor and debtor: name, address, SIREN; date and place
    assert "Lumière Industries SAS" in text and "SIREN 812 345 676" in text
    assert "Garage Martin SARL" in text and "4 avenue Foch" in text and "33000 Bordeaux" in text
    assert "SIREN 552 100 554" in text
    assert "Lyon, le 2 mars 2026" in text
    # the invoices: numbers, dates, due dates, amounts, what is left, French formatting
    assert "F-2026-001 05/01/2026 04/02/2026 1 200,00 € 800,00 € 6,92 € 40,00 €" in text
    assert "F-2026-002 10/01/2026 09/02/2026 500,00 € 500,00 € 3,50 € 40,00 €" in text
    assert "AV-7 Avoir 01/02/2026 -100,00 €" in text
    # penalties and indemnities summed from the items, and the total claimed
    assert "Pénalités de retard (taux BCE + 10 points) 10,42 €" in text
    assert "(40 € par facture) 80,00 €" in text
    assert "Total réclamé 1 290,42 €" in text
    assert meta.total_claimed_cents == 129042
    # the deadline, art. 1344, the ways to pay, a contact
    assert "8 jours à compter de la réception de la présente" in text
    assert "article 1344 du Code civil" in text
    assert "https://pay.example/l/abc123" in text
    assert "FR76 3000 4008 2100 0104 7651 274" in text
    assert "relances@lumiere-industries.example" in text


def test_english_notice_in_english_with_french_law_quoted_in_french() -> None:
    pdf, _, meta = render_letter(notice("en"), SENDER, DEBTOR, notice_days=15)
    text = text_of(pdf)

    assert meta.language == "en" and meta.subject == "Formal notice to pay"
    assert "Formal notice to pay" in text and "Lyon, 2 March 2026" in text
    assert "F-2026-001 2026-01-05 2026-02-04 €1,200.00 €800.00 €6.92 €40.00" in text
    assert "AV-7 Credit note 2026-02-01 -€100.00" in text
    assert "Late-payment penalties (ECB rate + 10 points) €10.42" in text
    assert "Total claimed €1,290.42" in text
    assert "15 days of receiving this letter" in text
    assert "article 1344 of the French Civil Code" in text
    assert "Le débiteur est mis en demeure de payer" in text  # the law's own words
    assert "Mise en demeure" not in text.replace("mise en demeure", "")  # no French title


def test_consumer_notice_claims_no_business_penalties_or_indemnity() -> None:
    items = tuple(replace(i, penalty_cents=0, indemnity_cents=0) for i in ITEMS)
    c = notice("fr", customer_kind=CustomerKind.CONSUMER, items=items, credits=())
    pdf, _, meta = render_letter(c, SENDER, Debtor(name="Jeanne Dupont"))
    text = text_of(pdf)

    assert "Total réclamé 1 300,00 €" in text and meta.total_claimed_cents == 130000
    assert "Pénalités" not in text and "L441-10" not in text and "Indemnité" not in text
    assert "article 1344 du Code civil" in text


@pytest.mark.parametrize(
    "hostile",
    [
        '#set page(fill: red) $x^2$ \\ <label> {code} ] [ "quoted" @ref *bold* _it_ `raw`',
        '"); #panic("owned") //',
        'A\\"B #{ 1 + 1 } ]#strong[x]',
    ],
)
def test_names_and_numbers_from_customers_stay_text(hostile: str) -> None:
    items = (replace(ITEMS[0], invoice_id=f"F{hostile}"),)
    c = notice("fr", customer_name=hostile, items=items, credits=(), payment_link=None)
    debtor = Debtor(name=hostile, address_lines=(f"1 rue {hostile}", "75001 Paris"))

    pdf, _, _ = render_letter(c, SENDER, debtor)
    text = text_of(pdf)

    shown = " ".join(hostile.split())
    assert text.count(shown) >= 3  # the name, its address line, the invoice number
    assert f"F{shown}" in text and f"1 rue {shown}" in text


def test_the_same_notice_gives_the_same_bytes_dated_by_the_communication() -> None:
    first, sha1, _ = render_letter(notice("fr"), SENDER, DEBTOR)
    second, sha2, _ = render_letter(notice("fr"), SENDER, DEBTOR)

    assert first == second and sha1 == sha2
    assert b"CreationDate(D:20260302000000Z)" in first
    assert b"<pdfaid:part>2</pdfaid:part>" in first  # PDF/A-2
    later, sha3, _ = render_letter(notice("fr", as_of=date(2026, 3, 3)), SENDER, DEBTOR)
    assert sha3 != sha1 and b"CreationDate(D:20260303000000Z)" in later


def test_a_communication_that_is_not_an_ere_letter_is_refused_by_key() -> None:
    c = notice("fr", channel=Channel.EMAIL, template="reminder_firm")
    with pytest.raises(LetterError, match=c.key):
        typst_source(c, SENDER)


def test_first_page_as_png_for_finance_to_look_at() -> None:
    png = letter_png(notice("en"), SENDER, DEBTOR, ppi=40)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20]), int.from_bytes(png[20:24])
    assert (width, height) == (round(210 / 25.4 * 40), round(297 / 25.4 * 40))  # A4 at 40 ppi


def test_a_company_template_that_does_not_compile_is_named(tmp_path) -> None:
    own = tmp_path / "ere" / "fr"
    own.mkdir(parents=True)
    (own / "formal_notice.typ.j2").write_text("Mise en demeure {{ debtor.name }} #let x = (\n")
    sender = SenderSettings(templates_dir=tmp_path)

    with pytest.raises(LetterError, match=r"ere/fr/formal_notice.typ.j2 does not compile"):
        render_letter(notice("fr"), sender, DEBTOR)
    pdf, _, _ = render_letter(notice("en"), sender, DEBTOR)  # English still as shipped
    assert "Formal notice to pay" in text_of(pdf)
