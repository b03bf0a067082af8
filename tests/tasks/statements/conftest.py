"""Shared fixtures of the statement parser tests: where the public sample files are."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[3] / ".." / "shared" / "samples"


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
