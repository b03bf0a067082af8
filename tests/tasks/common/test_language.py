"""The company's language, a customer's language, and the label catalogs both speak."""

from __future__ import annotations

from decimal import Decimal

import pytest

from o2c.tasks.common.formatting import format_money
from o2c.tasks.common.language import (
    _PLACEHOLDER,
    LABELS_DIR,
    LanguageSettings,
    catalog,
    company_language,
    label,
    language_for,
    read_catalog,
)

NN, NB = "\u202f", "\u00a0"


def test_both_shipped_catalogs_have_the_same_keys():
    fr = read_catalog(LABELS_DIR / "fr.toml")
    en = read_catalog(LABELS_DIR / "en.toml")
    assert sorted(set(fr) ^ set(en)) == []
    # the same placeholders too: a French text cannot ask for a value English does not give
    for key in fr:
        assert set(_PLACEHOLDER.findall(fr[key])) == set(_PLACEHOLDER.findall(en[key])), key


def test_company_language_from_one_setting(monkeypatch):
    monkeypatch.delenv("O2C_LANGUAGE", raising=False)
    assert company_language() == "fr"
    monkeypatch.setenv("O2C_LANGUAGE", "en-GB")
    assert company_language() == "en"
    monkeypatch.setenv("O2C_LANGUAGE", "de")
    with pytest.raises(ValueError, match="O2C_LANGUAGE='de'"):
        company_language()


def test_a_customer_is_written_to_in_their_language_else_the_company_s(monkeypatch):
    monkeypatch.setenv("O2C_LANGUAGE", "fr")
    assert language_for("EN") == "en"
    assert language_for("fr_BE") == "fr"
    assert language_for(None) == "fr"
    assert language_for("de") == "fr"  # o2c writes no German: the company's language
    assert language_for("", default="en") == "en"


def test_labels_fill_placeholders_and_fall_back_to_english(monkeypatch, tmp_path):
    monkeypatch.delenv("O2C_LABELS_DIR", raising=False)
    assert label("dunning.items.days_late", "fr") == "Jours de retard"
    assert label("dunning.items.days_late", "en") == "Days late"
    assert label("common.as_of", "fr", date="04/12/2026") == "Au 04/12/2026"
    with pytest.raises(KeyError, match="date"):
        label("common.as_of", "fr")
    with pytest.raises(KeyError, match=r"no\.such"):
        label("no.such", "fr")
    # a company's own catalog replaces one key; a key only English has is shown in English
    (tmp_path / "fr.toml").write_text('[dunning.items]\ndays_late = "Retard (j)"\n')
    (tmp_path / "en.toml").write_text('[extra]\nonly_english = "Only in English"\n')
    monkeypatch.setenv("O2C_LABELS_DIR", str(tmp_path))
    assert label("dunning.items.days_late", "fr") == "Retard (j)"
    assert label("dunning.items.number", "fr") == "N° de pièce"
    assert label("extra.only_english", "fr") == "Only in English"


def test_a_placeholder_cannot_reach_into_a_value(monkeypatch, tmp_path):
    (tmp_path / "en.toml").write_text('[x]\ny = "{name.__class__} {name} {name[0]}"\n')
    monkeypatch.setenv("O2C_LABELS_DIR", str(tmp_path))
    # only {name} is filled; attribute and index forms stay text, and a value's own braces
    # are not read again
    assert label("x.y", "en", name="{name}") == "{name.__class__} {name} {name[0]}"
    assert label("x.y", "en", name="Acme") == "{name.__class__} Acme {name[0]}"


def test_a_broken_catalog_names_its_file_and_line(tmp_path):
    (tmp_path / "fr.toml").write_text('[a]\nb = "ok"\nc = \n')
    with pytest.raises(ValueError, match=r"fr\.toml.*line 3"):
        catalog("fr", LanguageSettings(labels_dir=tmp_path))
    (tmp_path / "fr.toml").write_text("[a]\nb = 3\n")
    with pytest.raises(ValueError, match=r"fr\.toml.*'a\.b' is int"):
        catalog("fr", LanguageSettings(labels_dir=tmp_path))


@pytest.mark.parametrize(
    ("amount", "currency", "fr", "en"),
    [
        (123_456, "EUR", f"1{NN}234,56{NB}€", "€1,234.56"),
        (-1_250, "EUR", f"-12,50{NB}€", "-€12.50"),
        (Decimal("1234.56"), "USD", f"1{NN}234,56{NB}$US", "$1,234.56"),
        (123_456, "GBP", f"1{NN}234,56{NB}£GB", "£1,234.56"),
        (123_456, "CHF", f"1{NN}234,56{NB}CHF", f"CHF{NB}1,234.56"),
    ],
)
def test_money_in_a_letter_uses_the_sign_a_reader_knows(amount, currency, fr, en):
    assert format_money(amount, currency, "fr", symbol=True) == fr
    assert format_money(amount, currency, "en", symbol=True) == en
    # reports keep the ISO code: their tables mix currencies
    assert format_money(amount, currency, "fr").endswith(f"{NB}{currency}")
