"""What finance may tune in reconciliation, with defaults that favour precision."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReconciliationConfig:
    # A payment short of the invoices by at most this much (bank charges) settles them; the gap is
    # written off under its own rule.
    short_payment_tolerance_cents: int = 500
    # rapidfuzz token_sort_ratio (0-100) a payer name must reach to identify a customer...
    name_similarity_threshold: float = 90.0
    # ...and by how much it must beat the next customer; closer than this is an exception.
    name_similarity_margin: float = 5.0
    # Sums of open items: sets of at most this many items, among the customer's oldest ones; a
    # customer with more open items than that is a search that hit its bound (never a guess).
    max_set_size: int = 4
    max_set_items: int = 12
    # Rounds of a rule when several transfers claim the same invoice (earliest wins each round).
    max_rounds: int = 10
