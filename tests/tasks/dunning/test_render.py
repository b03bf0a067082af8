"""Reminder emails rendered from a hand-built communication, in French and in English."""

from __future__ import annotations

import dataclasses
import html as htmllib
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from markupsafe import escape

from o2c.models.dunning import Channel, Communication, CustomerKind, DunnedItem
from o2c.tasks.dunning.render import TEMPLATES_DIR, TemplateError, preview_html, render
from o2c.tasks.dunning.settings import SenderSettings

NN, NB = "\u202f", "\u00a0"
TEMPLATES = ("reminder_courtesy", "reminder_friendly", "reminder_firm", "reminder_final")
HOSTILE = '<script>alert("x")</script> & "><img src=x onerror=alert(1)>'


def _invoice(number, due, total, open_, late, penalty=0, indemnity=0):
    return DunnedItem(
        invoice_id=number,
        document_type="invoice",
        issue_date=due - timedelta(days=30),
        due_date=due,
        total_cents=total,
        open_cents=open_,
        days_late=late,
        penalty_cents=penalty,
        indemnity_cents=indemnity,
    )


def letter(**changes) -> Communication:
    """Acme owes two invoices (one partly paid) and holds a credit note and an overpayment."""
    base = Communication(
        as_of=date(2026, 12, 4),
        customer_id="C0042",
        customer_name="Acme Bâtiment SARL",
        language="fr",
        customer_kind=CustomerKind.BUSINESS,
        currency="EUR",
        level=2,
        level_name="first_reminder",
        channel=Channel.EMAIL,
        template="reminder_friendly",
        recipients=("compta@acme.example",),
        needs_approval=False,
        items=(
            _invoice("F-2026-0101", date(2026, 10, 1), 1_234_56, 1_000_00, 64, 21_34, 40_00),
            _invoice("F-2026-0150", date(2026, 10, 31), 500_00, 500_00, 34, 5_00, 40_00),
        ),
        credits=(
            DunnedItem("AV-2026-0007", "credit_note", date(2026, 10, 5), None, -200_00, -150_00, 0),
            DunnedItem("PAY-88", "unapplied_credit", date(2026, 11, 2), None, -25_50, -25_50, 0),
        ),
        payment_link="https://pay.example.test/link/abc?x=1&y=2",
    )
    return dataclasses.replace(base, **changes)


def test_french_letter_amounts_dates_and_credits_netted():
    m = render(letter())
    assert m.language == "fr"
    assert m.subject == "Lumière Industries SAS : facture(s) échue(s) au 04/12/2026"
    for part in (m.text, m.html):
        # 1 500,00 of invoices left open, less 175,50 of credits: 1 324,50 to pay
        assert f"1{NN}234,56{NB}€" in part  # invoice amount
        assert f"1{NN}000,00{NB}€" in part  # what is left of the partly paid one
        assert f"1{NN}500,00{NB}€" in part
        assert f"-150,00{NB}€" in part and f"-25,50{NB}€" in part
        assert f"1{NN}324,50{NB}€" in part
        assert "01/10/2026" in part and "31/10/2026" in part
        assert "Avoir" in part and "Paiement non affecté" in part
        assert "F-2026-0101" in part and "AV-2026-0007" in part
        assert "FR76 3000 4008 2100 0104 7651 274" in part
        assert "SIREN 812 345 676" in part
    assert "Montant à régler" in m.text and "1 324,50" in m.text.replace(NN, " ")


def test_english_letter_in_the_customer_s_language():
    m = render(letter(language="en"))
    assert m.language == "en"
    assert m.subject == "Lumière Industries SAS: overdue invoice(s) as of 4 December 2026"
    for part in (m.text, m.html):
        assert "€1,234.56" in part and "€1,324.50" in part and "-€150.00" in part
        assert "2026-10-01" in part
        assert "Credit note" in part and "Amount to pay" in part
    assert "Montant" not in m.text


def test_language_falls_back_to_the_company_s(monkeypatch):
    monkeypatch.setenv("O2C_LANGUAGE", "en")
    assert render(letter(language="de")).language == "en"
    monkeypatch.setenv("O2C_LANGUAGE", "fr")
    assert render(letter(language="")).language == "fr"
    assert render(letter(language="en-GB")).language == "en"


def test_other_currencies_by_their_sign_or_code():
    assert f"1{NN}324,50{NB}$US" in render(letter(currency="USD")).text
    assert "$1,324.50" in render(letter(currency="USD", language="en")).text
    assert f"CHF{NB}1,324.50" in render(letter(currency="CHF", language="en")).text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_legal_mentions_from_the_first_overdue_level_with_each_invoice_s_figures(lang):
    m = render(letter(language=lang))
    law = "L441-10"
    assert law in m.text and law in m.html and "D441-5" in m.text
    ecb = "Banque centrale européenne" if lang == "fr" else "European Central Bank"
    assert ecb in m.text and "10 " in m.text
    # the accrued penalties per invoice, the 40 EUR indemnity per invoice, and their sums
    penalty = f"21,34{NB}€" if lang == "fr" else "€21.34"
    indemnity = f"40,00{NB}€" if lang == "fr" else "€40.00"
    total_penalties = f"26,34{NB}€" if lang == "fr" else "€26.34"
    for part in (m.text, m.html):
        assert penalty in part and indemnity in part and total_penalties in part
    assert ("80,00" if lang == "fr" else "€80.00") in m.text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_legal_mentions_in_a_courtesy_reminder(lang):
    not_due = (
        _invoice("F-2026-0300", date(2026, 12, 9), 800_00, 800_00, 0),
        _invoice("F-2026-0301", date(2026, 12, 10), 200_00, 200_00, -6),
    )
    m = render(
        letter(language=lang, level=1, template="reminder_courtesy", items=not_due, credits=())
    )
    for part in (m.text, m.html):
        assert "L441-10" not in part and "D441-5" not in part
    assert ("non échue" if lang == "fr" else "not yet due") in m.text
    assert ("Avoirs" if lang == "fr" else "Credit notes") not in m.text  # no credits table


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_consumer_gets_no_indemnity_and_no_business_penalties(lang):
    items = tuple(
        dataclasses.replace(i, penalty_cents=0, indemnity_cents=0) for i in letter().items
    )
    m = render(letter(language=lang, customer_kind=CustomerKind.CONSUMER, items=items))
    for part in (m.text, m.html):
        assert "D441-5" not in part and "L441-10" not in part
        assert "40 €" not in part and "€40" not in part
        assert ("Indemnité" if lang == "fr" else "indemnit") not in part


def test_hostile_text_from_customers_never_becomes_markup():
    evil_item = dataclasses.replace(letter().items[0], invoice_id='F-1"><b onmouseover=x>')
    m = render(letter(customer_name=HOSTILE, items=(evil_item, *letter().items[1:])))
    assert "<script>" not in m.html and "<img" not in m.html and "<b onmouseover" not in m.html
    assert str(escape(HOSTILE)) in m.html  # shown, escaped
    assert "F-1&#34;&gt;&lt;b onmouseover=x&gt;" in m.html
    assert htmllib.unescape(m.html).count(HOSTILE) >= 1  # shown, as text
    # a name cannot add a header line to the subject
    sneaky = render(letter(language="en", customer_name="Acme\r\nBcc: all@evil.example"))
    assert "\n" not in sneaky.subject and "\r" not in sneaky.subject


def test_payment_link_shown_when_there_is_one_and_only_http():
    m = render(letter())
    assert 'href="https://pay.example.test/link/abc?x=1&amp;y=2"' in m.html
    assert "https://pay.example.test/link/abc?x=1&y=2" in m.text
    bare = render(letter(payment_link=None))
    assert "pay.example.test" not in bare.html and "Payer" not in bare.html
    assert "IBAN" in bare.text  # a transfer is always possible
    with pytest.raises(ValueError, match="not an http"):
        render(letter(payment_link="javascript:alert(1)"))


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_shipped_level_renders_in_both_languages(template, lang):
    m = render(letter(template=template, language=lang))
    assert m.subject and "F-2026-0150" in m.text and "F-2026-0150" in m.html
    assert m.html.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in m.html


def test_firm_levels_give_a_date_to_pay_by():
    sender = SenderSettings(pay_within_days=10)
    assert "14 décembre 2026" in render(letter(template="reminder_firm"), sender).text
    default = render(letter(template="reminder_final", language="en")).text
    assert "12 December 2026" in default  # 8 days unless the company says otherwise


def test_a_missing_template_is_named():
    with pytest.raises(TemplateError, match=r"'formal_letter' in 'fr'.*C0042"):
        render(letter(template="formal_letter"))
    with pytest.raises(TemplateError, match="phone_task"):
        render(letter(channel=Channel.PHONE_TASK, template="phone_call"))


def test_hashes_stable_across_runs_and_changed_by_the_template(tmp_path):
    first, again = render(letter()), render(letter())
    assert first.template_sha256 == again.template_sha256
    assert first.content_sha256 == again.content_sha256
    assert len(first.template_sha256) == len(first.content_sha256) == 64
    # other content, same templates
    other = render(letter(customer_name="Other SAS"))
    assert other.template_sha256 == first.template_sha256
    assert other.content_sha256 != first.content_sha256
    # the company's own copy of the same file hashes the same; an edited one does not
    own = tmp_path / "dunning" / "fr"
    own.mkdir(parents=True)
    shipped = TEMPLATES_DIR / "dunning" / "fr" / "reminder_friendly.j2"
    shutil.copy(shipped, own / "reminder_friendly.j2")
    copied = render(letter(), SenderSettings(templates_dir=tmp_path))
    assert copied.template_sha256 == first.template_sha256
    assert copied.content_sha256 == first.content_sha256
    edited = shipped.read_text().replace("Bien cordialement", "Avec nos salutations")
    (own / "reminder_friendly.j2").write_text(edited)
    changed = render(letter(), SenderSettings(templates_dir=tmp_path))
    assert "Avec nos salutations" in changed.text
    assert changed.template_sha256 != first.template_sha256
    assert changed.content_sha256 != first.content_sha256


def test_hashes_are_the_same_in_another_process():
    """The audit log compares hashes made by different runs: nothing process-local in them."""
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); from test_render import letter; "
        "from o2c.tasks.dunning.render import render; m = render(letter()); "
        "print(m.template_sha256, m.content_sha256)"
    )
    here = render(letter())
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", script, str(Path(__file__).parent)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout.split()
        assert out == [here.template_sha256, here.content_sha256]


def test_a_label_edit_changes_the_template_hash(monkeypatch, tmp_path):
    first = render(letter())
    (tmp_path / "fr.toml").write_text('[dunning.totals]\ndue = "Solde à payer"\n')
    monkeypatch.setenv("O2C_LABELS_DIR", str(tmp_path))
    changed = render(letter())
    assert "Solde à payer" in changed.text
    assert changed.template_sha256 != first.template_sha256


def test_preview_shows_each_communication_escaped_and_says_what_is_not_sent():
    page = preview_html(
        [
            letter(customer_name=HOSTILE),
            letter(language="en", customer_id="C0043", needs_approval=True),
            letter(customer_id="C0044", channel=Channel.PHONE_TASK, template="phone_call"),
            letter(customer_id="C0045", template="no_such_template"),
        ],
        company_language="fr",
    )
    assert "<script>" not in page and "<img" not in page
    assert page.count("<section") == 4
    assert "Relances prévues" in page and "Approbation requise" in page
    assert "Aucun message" in page and "Appel téléphonique" in page  # the phone task
    assert "Impossible à rendre" in page and "no_such_template" in page
    assert "Dear Acme Bâtiment SARL" in page  # the English letter's own body
    assert page.count("<body") == 1  # each message's body, not nested documents


@pytest.mark.parametrize(("lang", "word"), [("fr", "Échéance du plan de paiement"),
                                            ("en", "Payment plan instalment")])  # fmt: skip
def test_a_missed_instalment_is_named_as_one(lang, word):
    missed = dataclasses.replace(
        _invoice("F-2026-0101#2", date(2026, 11, 15), 300_00, 300_00, 19),
        document_type="instalment",
    )
    message = render(letter(language=lang, items=(missed,), credits=()))
    assert word in message.text and "F-2026-0101#2" in message.text
    assert htmllib.escape(word) in message.html or word in message.html


@pytest.mark.parametrize(("lang", "alone", "after_link"), [
    ("fr", "Par virement sur notre compte", "Ou par virement sur notre compte"),
    ("en", "By bank transfer to our account", "Or by bank transfer to our account"),
])  # fmt: skip
def test_the_transfer_line_says_or_only_after_a_payment_link(lang, alone, after_link):
    without = render(letter(language=lang, payment_link=None))
    with_link = render(letter(language=lang))
    assert alone in without.text and after_link not in without.text
    assert after_link in with_link.text and after_link in with_link.html
