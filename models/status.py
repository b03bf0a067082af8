"""Statuses of a `load_batches` row: every value a loader writes, and what it means.

The CHECK constraint of sql/006_load_status.sql lists the same values (a test holds the two
together), so a writer cannot invent a status nobody reads.
"""

from __future__ import annotations

from enum import StrEnum


class LoadStatus(StrEnum):
    """What became of one file or fetch given to a loader."""

    RUNNING = "running"  # an ERP load in progress, inside its transaction: never seen committed
    LOADED = "loaded"  # its rows are in the warehouse (the ERP's quarantined rows included)
    DUPLICATE_FILE = "duplicate_file"  # a bank file with a SHA-256 already loaded: nothing written
    REJECTED = "rejected"  # a bank file refused whole (unbalanced, unreadable): the reason is kept
