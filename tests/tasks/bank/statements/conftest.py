"""Shared fixtures of the statement parser tests: where the public sample files are."""

from __future__ import annotations

from pathlib import Path

import pytest

from o2c.models.bank import Statement
from o2c.tasks.bank.statements import camt_columns
from tests import locations

SAMPLES = locations.SAMPLES


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(
            f"sample statements not found at {SAMPLES} (CI puts ../shared beside the clone)"
        )
    return SAMPLES


def line_totals(statements) -> tuple[int, object, object]:
    """(lines, credits, debits) of parsed statements, as the warehouse would store them."""
    lines = [x for st in statements for x in st.line_rows()]
    credits = sum((x.amount for x in lines if x.amount > 0), 0)
    debits = sum((x.amount for x in lines if x.amount < 0), 0)
    return len(lines), credits, debits


@pytest.fixture
def totals():
    return line_totals


def same_statements(a: list[Statement], b: list[Statement]) -> bool:
    """Statement fields, then every line, whatever shape (rows or table) each side holds."""
    fields = [f for f in Statement.__slots__ if f not in ("lines", "table")]
    return len(a) == len(b) and all(
        [getattr(x, f) for f in fields] == [getattr(y, f) for f in fields]
        and x.line_rows() == y.line_rows()
        for x, y in zip(a, b, strict=True)
    )


@pytest.fixture
def columnar_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The columnar reader must read the file itself, not hand it whole to the element reader."""

    def refuse(*args: object) -> None:
        raise AssertionError("the whole file went to the element reader")

    monkeypatch.setattr(camt_columns, "parse_camt", refuse)
