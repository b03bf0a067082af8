"""What o2c accepts at the door: the bounds every amount, currency, date and text must keep.

One documented place, read by the bank statement parsers (`tasks/bank/statements/bounds.py`,
which refuses a whole file) and by the ERP side (`expectations/*.json` and the computed columns
of `tasks/erp/normalise.py`, which quarantine a row). Why bounds at all: a value far outside
them is a typo or a hostile file, and one such value stored in the warehouse used to break every
later run (an amount of 10^15 overflowed the DECIMAL(18,2) cents arithmetic of reconciliation).

- Amounts: at most 10^12 currency units either way (10^14 cents), far inside Int64 cents and
  DECIMAL(18,2) (whose cents, times 100, still fit a BIGINT), and never below the cent.
- Currencies: the active ISO 4217 codes (the list below, the same as `expectations/invoices.json`;
  a test keeps them equal). A bank statement may also name a currency the euro replaced (DEM,
  FRF...): archives from before 2002 are still imported.
- Dates of a statement's entries: within ten years either side of its period, and always within
  1990-01-01..2100-12-31 (invoices: 2000-01-01..2099-12-31, in the suite). Ten, not one: real
  bank test files (the genkgo camt samples) book 2014 entries in a statement of 2007; the margin
  is there to catch a wrong century or a swapped year (9999-12-31, 0001-01-01, 2204), not a
  late booking.
- Text: no control character (NUL or another C0) but tab; bank free text may also hold line
  breaks (MT940 `:86:` and camt `Ustrd` are multi-line).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

MAX_AMOUNT = Decimal(10) ** 12  # currency units, either sign
MAX_AMOUNT_CENTS = 10**14

# Active ISO 4217 codes of currencies (funds, metals, SDR and test codes left out).
_ISO_4217_CODES = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN
    BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
    MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
    RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP
    TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XOF XPF YER ZAR
    ZMW ZWG
"""
ISO_4217 = frozenset(_ISO_4217_CODES.split())
# Currencies the euro replaced: still on old statements a bank archive holds.
_EURO_LEGACY_CODES = "ATS BEF CYP DEM EEK ESP FIM FRF GRD HRK IEP ITL LTL LUF LVL MTL NLG PTE"
_EURO_LEGACY_CODES += " SIT SKK"
EURO_LEGACY = frozenset(_EURO_LEGACY_CODES.split())
STATEMENT_CURRENCIES = ISO_4217 | EURO_LEGACY

DATE_FLOOR = date(1990, 1, 1)
DATE_CEILING = date(2100, 12, 31)
DATE_MARGIN = timedelta(days=3653)  # ten years around a statement's period
INVOICE_DATE_FLOOR = date(2000, 1, 1)
INVOICE_DATE_CEILING = date(2099, 12, 31)

# Regexes (Rust and Python alike) of a forbidden control character.
CONTROL_CHARACTERS = r"[\x00-\x08\x0b-\x1f\x7f]"  # bank free text: tab, LF, CR allowed
CONTROL_CHARACTERS_STRICT = r"[\x00-\x08\x0a-\x1f\x7f]"  # ERP fields: tab only


def amount_problem(amount: Decimal) -> str | None:
    """Why an amount cannot be stored (beyond the bound, below the cent), or None."""
    if not amount.is_finite():
        return f"amount {amount} is not a number"
    if abs(amount) > MAX_AMOUNT:
        return f"amount {amount} is beyond the bound of ±{MAX_AMOUNT} (see models/bounds.py)"
    if amount != amount.quantize(Decimal("0.01"), rounding=ROUND_DOWN):
        return f"amount {amount} has a fraction of a cent"
    return None


def date_window(start: date | None, end: date | None) -> tuple[date, date]:
    """The dates a statement's entries may carry: its period widened by DATE_MARGIN on each side
    (whichever order the bank wrote the two dates in), inside DATE_FLOOR..DATE_CEILING."""
    known = [d for d in (start, end) if d is not None]
    if not known:
        return DATE_FLOOR, DATE_CEILING
    low, high = min(known), max(known)
    low = low - DATE_MARGIN if low > DATE_FLOOR + DATE_MARGIN else DATE_FLOOR
    high = high + DATE_MARGIN if high < DATE_CEILING - DATE_MARGIN else DATE_CEILING
    return low, high
