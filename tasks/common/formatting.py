"""Numbers, money, dates and percentages as a French or English reader writes them.

One place for what every report, artifact, email and letter shows, so that "12 345,67 EUR" is
written the same way everywhere (and a dunning letter in English says "EUR 12,345.67"). Plain
functions over single values, no Polars: a template can call them.

French follows the usual typography (and CLDR): thousands apart by a narrow no-break space
(U+202F), decimal comma, a no-break space (U+00A0) before the currency code, "12,5 %" with a
narrow no-break space before the sign, "1er décembre 2026". English follows the usual business
form: "EUR 12,345.67", "-EUR 12.50" (the CLDR order for a currency code), "12.5%", ISO dates.

Reports and artifacts name a currency by its ISO code: their tables mix currencies, and "$" alone
could be any dollar. Letters and emails to a customer (`symbol=True`) use the sign a reader
recognises where it cannot be mistaken, as CLDR writes it: "1 234,56 €" / "€1,234.56",
"1 234,56 $US" / "$1,234.56", "1 234,56 £GB" / "£1,234.56"; any other currency keeps its code
("1 234,56 CHF" / "CHF 1,234.56").

Money is Decimal (units) or int (cents), never float: a float is refused rather than rounded.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

Lang = Literal["fr", "en"]

NNBSP = "\u202f"  # narrow no-break space: French thousands separator, before % ; ! ?
NBSP = "\u00a0"  # no-break space: between an amount and its currency
MISSING = "–"  # what a report shows for a value that is not known

_SEPARATORS = {"fr": (NNBSP, ","), "en": (",", ".")}
# Currency signs for letters (CLDR fr and en): French puts the sign after the figure and tells
# the dollar and the pound apart; English puts it before, with no space.
_SYMBOLS = {
    "fr": {"EUR": "€", "USD": "$US", "GBP": "£GB"},
    "en": {"EUR": "€", "USD": "$", "GBP": "£"},
}
_MONTHS = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def _lang(lang: str) -> str:
    """'fr' or 'en'; 'FR', 'fr-FR', 'en_GB' are understood, anything else is an error."""
    code = (lang or "").replace("_", "-").split("-")[0].lower()
    if code not in _SEPARATORS:
        raise ValueError(f"language {lang!r}: o2c writes 'fr' or 'en'")
    return code


def group(units: int, lang: Lang = "fr") -> str:
    """1234567 -> "1 234 567" (fr, narrow no-break spaces) or "1,234,567" (en)."""
    thousands, _ = _SEPARATORS[_lang(lang)]
    return f"{int(units):,}".replace(",", thousands)


format_count = group  # a count of rows, invoices, transactions: grouped, no decimals


def format_number(
    value: Decimal | int | float | None, places: int = 2, lang: Lang = "fr", *, grouped: bool = True
) -> str:
    """A plain figure: 1234.5 -> "1 234,50" (fr) or "1,234.50" (en); None -> "–".

    Rounded half up (half away from zero). Floats are accepted here (days, ratios) and go
    through their shortest repr, so 83.25 rounds to 83.3 as a person expects.
    """
    if value is None:
        return MISSING
    if isinstance(value, bool):
        raise TypeError(f"{value!r}: not a number")
    code = _lang(lang)
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not exact.is_finite():
        return MISSING
    exact = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if exact < 0 else ""  # never "-0,00"
    units, _, fraction = f"{abs(exact):f}".partition(".")
    whole = group(int(units), code) if grouped else units  # type: ignore[arg-type]
    return f"{sign}{whole}{_SEPARATORS[code][1]}{fraction}" if places > 0 else f"{sign}{whole}"


def format_money(
    amount: Decimal | int | None,
    currency: str | None = None,
    lang: Lang = "fr",
    *,
    decimals: bool = True,
    symbol: bool = False,
) -> str:
    """An amount with its currency: int is cents, Decimal is units; None -> "".

    1234567, "EUR" -> "12 345,67 EUR" (fr) or "EUR 12,345.67" (en); no break inside. Without
    `decimals`, rounded half up to the unit ("12 346 EUR"). Without a currency, the figure only.
    With `symbol` (letters to customers): "12 345,67 €" (fr) or "€12,345.67" (en) where the
    currency has an unmistakable sign, its code otherwise.
    """
    if amount is None:
        return ""
    if isinstance(amount, float | bool):
        raise TypeError(f"{amount!r}: money is Decimal or integer cents, never float")
    units = Decimal(amount).scaleb(-2) if isinstance(amount, int) else Decimal(amount)
    code = _lang(lang)
    figure = format_number(units, 2 if decimals else 0, code)
    if not currency:
        return figure
    sign_of = _SYMBOLS[code].get(currency) if symbol else None
    if code == "fr":
        return f"{figure}{NBSP}{sign_of or currency}"
    sign, figure = ("-", figure[1:]) if figure.startswith("-") else ("", figure)
    return f"{sign}{sign_of}{figure}" if sign_of else f"{sign}{currency}{NBSP}{figure}"


def format_percent(ratio: Decimal | int | float | None, lang: Lang = "fr", places: int = 1) -> str:
    """A share given as a fraction: 0.125 -> "12,5 %" (fr) or "12.5%" (en); None -> "–"."""
    if ratio is None:
        return MISSING
    if isinstance(ratio, bool):
        raise TypeError(f"{ratio!r}: not a ratio")
    hundred = (Decimal(repr(ratio)) if isinstance(ratio, float) else Decimal(ratio)) * 100
    code = _lang(lang)
    figure = format_number(hundred, places, code)
    return f"{figure}{NNBSP}%" if code == "fr" else f"{figure}%"


def format_date(day: date | None, lang: Lang = "fr", *, long: bool = False) -> str:
    """04/12/2026 or "4 décembre 2026" (fr, "1er" on the first); 2026-12-04 or "4 December 2026".

    A datetime is shown by its date. None -> "–".
    """
    if day is None:
        return MISSING
    if isinstance(day, datetime):
        day = day.date()
    code = _lang(lang)
    if not long:
        return f"{day:%d/%m/%Y}" if code == "fr" else day.isoformat()
    month = _MONTHS[code][day.month - 1]
    number = "1er" if code == "fr" and day.day == 1 else str(day.day)
    return f"{number} {month} {day.year}"


def format_days(days: float | None, lang: Lang = "fr") -> str:
    """83.3 -> "83,3" (fr) or "83.3" (en): a number of days with one decimal; None -> "–"."""
    return format_number(days, 1, lang, grouped=False)
