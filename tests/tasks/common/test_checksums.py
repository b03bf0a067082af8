"""Check digits agree with python-stdnum and schwifty, the references, on valid and altered values."""

from __future__ import annotations

import polars as pl
import pytest
from schwifty import IBAN
from stdnum import iso11649
from stdnum.be import ogm_vcs
from stdnum.fr import siren, tva

from o2c.tasks.common.checksums import (
    fr_vat_ok,
    iban_ok,
    ogm_ok,
    payment_reference,
    payment_reference_ok,
    rf_ok,
    siren_ok,
)

IBANS = [
    "FR7630006000011234567890189",
    "FR76 3000 6000 0112 3456 7890 189",
    "DE89370400440532013000",
    "GB82WEST12345698765432",
    "CH9300762011623852957",
    "FR7630006000011234567890188",  # last digit changed
    "DE89370400440532013001",
    "XX00",
]
RFS = ["RF18539007547034", "RF18 5390 0754 7034", "RF712348231", "RF19539007547034", "RF1"]
SIRENS = ["732829320", "552100554", "732829321", "12345678", "ABCDEFGHI"]
VATS = ["FR44732829320", "FR45732829320", "FR40303265045"]
# Belgian structured communications: printed, bare, a wrong check, mod 97 = 0 (check 97), short.
# (Some banks frame it with *** instead of +++: python-stdnum does not read that; see below.)
OGMS = [
    "+++010/8068/17183+++",
    "010806817183",
    "+++010/8068/17184+++",
    "+++000/0000/09797+++",
    "01080681718",
]


def _check(expr, values):
    return pl.DataFrame({"v": values}).select(expr(pl.col("v"))).to_series().to_list()


def _schwifty_ok(value: str) -> bool:
    try:
        IBAN(value)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    ("expr", "values", "reference"),
    [
        (iban_ok, IBANS, _schwifty_ok),
        (rf_ok, RFS, iso11649.is_valid),
        (siren_ok, SIRENS, siren.is_valid),
        (fr_vat_ok, VATS, tva.is_valid),
        (ogm_ok, OGMS, ogm_vcs.is_valid),
    ],
)
def test_agrees_with_the_reference_libraries(expr, values, reference):
    assert _check(expr, values) == [reference(v) for v in values]


def test_absent_values_are_neither_valid_nor_invalid():
    assert _check(iban_ok, [None, "FR7630006000011234567890189"]) == [None, True]


def test_a_payment_reference_is_an_rf_or_a_belgian_ogm_stored_in_its_printed_form():
    values = [
        "rf18 5390 0754 7034",
        "010 8068 17183",
        "***010/8068/17183***",
        "+++010/8068/17184+++",
    ]
    assert _check(payment_reference_ok, values) == [True, True, True, False]
    assert _check(payment_reference, values) == [
        "RF18539007547034",
        "+++010/8068/17183+++",
        "+++010/8068/17183+++",
        "+++010/8068/17184+++",
    ]
