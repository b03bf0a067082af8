"""Late-payment penalties and the 40 EUR indemnity against figures computed by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from o2c.tasks.dunning.penalties import (
    MissingRateError,
    accrued_penalties,
    indemnity_cents,
    load_rates,
)

RATES = load_rates()


def invoices(*rows):
    return pl.DataFrame(
        rows,
        schema={"invoice_id": pl.String, "due_date": pl.Date, "amount_total_cents": pl.Int64},
        orient="row",
    )


def payments(*rows):
    return pl.DataFrame(
        rows,
        schema={"invoice_id": pl.String, "amount_cents": pl.Int64, "pay_date": pl.Date},
        orient="row",
    )


def penalties(inv, pay, as_of):
    out = accrued_penalties(inv, pay, as_of=as_of, rates=RATES)
    return dict(out.iter_rows())


def test_the_table_applies_mro_plus_ten_or_the_floor_when_higher():
    assert RATES.rate_bp("2025-H1") == 1315  # 3.15 + 10 (floor 3 x 3.71 = 11.13)
    assert RATES.rate_bp("2025-H2") == 1215  # 2.15 + 10 (floor 8.28)
    assert RATES.rate_bp("2024-H1") == 1521  # 3 x 5.07 beats 4.50 + 10
    assert RATES.rate_bp("2022-H2") == 1000  # MRO 0.00 + 10 (floor 3 x 0.77 = 2.31)


def test_partial_payment_across_the_first_of_july():
    # 10,000.00 EUR due 31 May 2025; 4,000.00 paid 15 July; seen on 31 August.
    #   10,000 x 13.15 % x 30/365 (1-30 June)            = 108.0822
    #   10,000 x 12.15 % x 15/365 (1-15 July)            =  49.9315
    #    6,000 x 12.15 % x 47/365 (16 July - 31 August)  =  93.8712
    #                                                     = 251.8849 -> 251.88
    got = penalties(
        invoices(("F1", date(2025, 5, 31), 1_000_000)),
        payments(("F1", 400_000, date(2025, 7, 15))),
        date(2025, 8, 31),
    )
    assert got == {"F1": 25188}


def test_floor_rate_and_payments_before_due_date():
    # 1,200.00 due 31 Dec 2023, 200.00 paid before (20 Dec): 1,000 x 15.21 % x 31/365 = 12.918
    # -> 12.92 (at 14.50 % it would have been 12.32). Nothing accrues on a paid invoice
    # after its payment day: F3 paid in full on 10 January, 9 days x 15.21 % on 500.00 = 1.875.
    got = penalties(
        invoices(("F2", date(2023, 12, 31), 120_000), ("F3", date(2024, 1, 1), 50_000)),
        payments(("F2", 20_000, date(2023, 12, 20)), ("F3", 50_000, date(2024, 1, 10))),
        date(2024, 1, 31),
    )
    assert got == {"F2": 1292, "F3": 188}


def test_not_yet_due_and_credit_notes_accrue_nothing():
    got = penalties(
        invoices(("F4", date(2025, 8, 31), 100_000), ("AV1", date(2025, 1, 1), -5_000)),
        payments(),
        date(2025, 8, 31),
    )
    assert got == {}


def test_a_missing_half_year_stops_with_its_name():
    with pytest.raises(MissingRateError, match=r"no late-payment rate for 2026 H2 .*1 July 2026"):
        penalties(invoices(("F5", date(2026, 6, 1), 100_000)), payments(), date(2026, 7, 15))
    # and a table with a hole is not bridged either
    holed = load_rates()
    del holed.penalty_bp["2024-H2"]
    with pytest.raises(MissingRateError, match="2024 H2"):
        accrued_penalties(
            invoices(("F6", date(2024, 5, 1), 100_000)),
            payments(),
            as_of=date(2025, 2, 1),
            rates=holed,
        )


def test_a_bad_rate_row_is_refused_naming_it(tmp_path: Path):
    bad = tmp_path / "rates.toml"
    bad.write_text('[[half_year]]\nperiod = "2025-H2"\nmro = 2.15\nlegal = ""\n')
    with pytest.raises(ValueError, match=r"half_year #1: mro = 2.15 is not a percentage string"):
        load_rates(bad)


def test_indemnity_only_for_business_customers_late_in_euros():
    frame = pl.DataFrame(
        {
            "currency": ["EUR", "EUR", "USD", "EUR"],
            "kind": ["business", "consumer", "business", "business"],
            "late": [3, 3, 3, 0],
        }
    )
    got = frame.select(indemnity_cents(pl.col("currency"), pl.col("kind"), pl.col("late")))
    assert got.to_series().to_list() == [4000, 0, 0, 0]


def test_a_company_adds_a_half_year_in_its_own_file_and_may_not_contradict_the_shipped_one(
    tmp_path, monkeypatch
):
    from o2c.tasks.dunning.penalties import RATES_ENV, MissingRateError, load_rates

    with pytest.raises(MissingRateError, match=f"2030 H1.*{RATES_ENV}"):
        load_rates().rate_bp("2030-H1")
    own = tmp_path / "our_rates.toml"
    own.write_text('[[half_year]]\nperiod = "2030-H1"\nmro = "1.50"\nlegal = "2.00"\n')
    monkeypatch.setenv(RATES_ENV, str(own))
    table = load_rates()
    assert table.rate_bp("2030-H1") == 1150  # 1.50 + 10, above 3 x 2.00
    assert table.rate_bp("2025-H2") == 1215  # the shipped rows stay
    own.write_text('[[half_year]]\nperiod = "2025-H2"\nmro = "2.40"\nlegal = "2.76"\n')
    with pytest.raises(ValueError, match=r"2025-H2 gives 12\.40 %, the shipped table 12\.15 %"):
        load_rates()


def test_the_demo_rate_row_is_only_used_when_named(monkeypatch):
    from o2c.tasks.demo.company import DEMO_RATES
    from o2c.tasks.dunning.penalties import RATES_ENV, MissingRateError, load_rates

    assert (
        "ASSUMPTION" in DEMO_RATES.read_text() and "NOT a published rate" in DEMO_RATES.read_text()
    )
    monkeypatch.delenv(RATES_ENV, raising=False)
    with pytest.raises(MissingRateError):
        load_rates().rate_bp("2026-H2")
    monkeypatch.setenv(RATES_ENV, str(DEMO_RATES))
    assert load_rates().rate_bp("2026-H2") == 1215
