"""Money, counts, days, dates and percentages as French and English readers write them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.tasks.common.formatting import (
    format_count,
    format_date,
    format_days,
    format_money,
    format_number,
    format_percent,
)

NN, NB = "\u202f", "\u00a0"  # narrow no-break space (thousands), no-break space (currency)


@pytest.mark.parametrize(
    ("amount", "fr", "en"),
    [
        (1_234_567, f"12{NN}345,67{NB}EUR", f"EUR{NB}12,345.67"),
        (5, f"0,05{NB}EUR", f"EUR{NB}0.05"),
        (0, f"0,00{NB}EUR", f"EUR{NB}0.00"),
        (-123_456_789, f"-1{NN}234{NN}567,89{NB}EUR", f"-EUR{NB}1,234,567.89"),
        (Decimal("12345.67"), f"12{NN}345,67{NB}EUR", f"EUR{NB}12,345.67"),
        (Decimal("-0.004"), f"0,00{NB}EUR", f"EUR{NB}0.00"),  # never "-0,00"
        (Decimal("2.005"), f"2,01{NB}EUR", f"EUR{NB}2.01"),  # half up, not half even
        (Decimal("1E+3"), f"1{NN}000,00{NB}EUR", f"EUR{NB}1,000.00"),
    ],
)
def test_money_in_french_and_english(amount, fr, en):
    assert format_money(amount, "EUR") == fr
    assert format_money(amount, "EUR", "en") == en


def test_int_is_cents_and_decimal_is_units():
    assert format_money(1050, "EUR") == format_money(Decimal("10.50"), "EUR")


def test_money_without_decimals_rounds_half_up_and_without_currency_is_the_figure():
    assert format_money(1_234_550, "EUR", decimals=False) == f"12{NN}346{NB}EUR"
    assert format_money(1_234_549, "EUR", decimals=False) == f"12{NN}345{NB}EUR"
    assert format_money(-123_456) == f"-1{NN}234,56"
    assert format_money(None, "EUR") == ""


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        format_money(12.5, "EUR")  # type: ignore[arg-type]


def test_languages_are_checked():
    assert format_money(100, "EUR", "fr-FR") == f"1,00{NB}EUR"
    assert format_money(100, "EUR", "EN_gb") == f"EUR{NB}1.00"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'de'"):
        format_money(100, "EUR", "de")  # type: ignore[arg-type]


def test_counts_days_and_numbers():
    assert format_count(1_234_567) == f"1{NN}234{NN}567"
    assert format_count(1_234_567, "en") == "1,234,567"
    assert format_days(83.3) == "83,3"
    assert format_days(83.3, "en") == "83.3"
    assert format_days(1234.5) == "1234,5"  # days as the aging report always wrote them
    assert format_days(None) == "–"
    assert format_days(float("nan")) == "–"
    assert format_number(Decimal("1234.5")) == f"1{NN}234,50"
    assert format_number(7, 0, "en") == "7"


@pytest.mark.parametrize(
    ("ratio", "fr", "en"),
    [
        (0.125, f"12,5{NN}%", "12.5%"),
        (Decimal("1"), f"100,0{NN}%", "100.0%"),
        (0, f"0,0{NN}%", "0.0%"),
    ],
)
def test_percentages(ratio, fr, en):
    assert format_percent(ratio) == fr
    assert format_percent(ratio, "en") == en


def test_dates():
    day = date(2026, 12, 4)
    assert format_date(day) == "04/12/2026"
    assert format_date(day, long=True) == "4 décembre 2026"
    assert format_date(date(2026, 2, 1), long=True) == "1er février 2026"
    assert format_date(day, "en") == "2026-12-04"
    assert format_date(date(2026, 8, 1), "en", long=True) == "1 August 2026"
    assert format_date(datetime(2026, 12, 4, 23, 59)) == "04/12/2026"
    assert format_date(None) == "–"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_cents_read_back_exactly(cents):
    fr = format_money(cents).replace(NN, "").replace(",", ".")
    en = format_money(cents, lang="en").replace(",", "")
    assert Decimal(fr) * 100 == cents == Decimal(en) * 100


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_same_as_the_four_report_copies_it_replaces(cents):
    """What erp/bank/reconciliation/aging reports wrote before, byte for byte."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    old = f"{sign}{f'{units:,}'.replace(',', NN)},{rest:02d}"
    assert format_money(cents) == old
    assert format_money(cents, "EUR") == f"{old}{NB}EUR"
    value = Decimal(cents).scaleb(-2)
    assert format_money(value) == f"{value:,.2f}".replace(",", NN).replace(".", ",")
