"""What the dunning plan reads from the warehouse, as of a date.

Open items are the warehouse's one definition (open_items_at, sql/008, with allocations dated
by allocations_at, sql/011) read through aging's store, so dunning never chases an amount that
aging does not show open: the open invoices and credit notes, and the overpayment credits
(unapplied_credits_at) the plan nets. Payments feed the penalties (interest on what is left).
Exclusions, contacts and the outbox history belong to their own modules (exclusions.py,
customers.py, outbox.py): the readers below call them, so the plan's inputs are read in one
place. Nothing here writes.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from o2c.models.status import LoadStatus
from o2c.tasks.aging import store as aging_store
from o2c.tasks.bank.store import SOURCES as BANK_SOURCES
from o2c.tasks.dunning.customers import dunning_contacts
from o2c.tasks.dunning.exclusions import active_exclusions, missed_instalments
from o2c.tasks.dunning.outbox import history
from o2c.warehouse import scalar


def read_items(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pl.DataFrame:
    """OPEN_ITEM rows open on `as_of`: invoices, credit notes and overpayment credits."""
    return pl.concat(
        [
            aging_store.read_open_items(con, as_of=as_of),
            aging_store.read_unapplied_credits(con, as_of=as_of),
        ]
    )


def read_payments(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pl.DataFrame:
    """Allocations to invoices dated by `as_of`: invoice_id, allocation_id, amount_cents,
    pay_date (what penalties need to run on what is left)."""
    return aging_store.read_payments(con, as_of=as_of)


def last_bank_data(con: duckdb.DuckDBPyConnection, *, as_of: date) -> date | None:
    """The day the bank data reaches on `as_of`: the later of the last bank load's day and the
    last booking date, neither after `as_of` (a backfill judges the data as it stood then).
    None when no bank data was ever loaded."""
    return scalar(
        con,
        """
        SELECT GREATEST(
            (SELECT MAX(CAST(COALESCE(finished_at, started_at) AS DATE)) FROM load_batches
             WHERE source IN $sources AND status IN $statuses
               AND CAST(COALESCE(finished_at, started_at) AS DATE) <= $as_of),
            (SELECT MAX(booking_date) FROM bank_transactions WHERE booking_date <= $as_of))
        """,
        {
            "sources": list(BANK_SOURCES),
            "statuses": [LoadStatus.LOADED.value, LoadStatus.DUPLICATE_FILE.value],
            "as_of": as_of,
        },
    )


def read_customers(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """DUNNING_CUSTOMER rows (and more): contacts by role, language, kind, segment
    (tasks/dunning/customers.py)."""
    return dunning_contacts(con)


def read_exclusions(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pl.DataFrame:
    """EXCLUSION rows in force on `as_of` (tasks/dunning/exclusions.py)."""
    return active_exclusions(con, as_of)


def read_missed_instalments(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pl.DataFrame:
    """MISSED_INSTALMENT rows on `as_of`: what payment plans let dunning chase."""
    return missed_instalments(con, as_of)


def read_history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """ACTION_HISTORY rows of the outbox (tasks/dunning/outbox.py)."""
    return history(con)
