"""Open Banking from Bridge: transactions mapped to statement lines, cursors kept in DuckDB.

The HTTP side (auth, pages, retries, redaction) lives in o2c.tasks.connectors.bridge; the flow
runs fetch (network, no lock, no connection), stage (pure), then write (one short hold of the
warehouse writer). This module holds what the three share: the mapping of Bridge transactions to
statement lines, the withdrawn transactions, and the cursor read and write.

The incremental cursor of an account is the largest `updated_at` it has served us; the next sync
asks `since` that value. Rows are deduplicated by the loader's natural key, so fetching a
boundary row twice (or re-running after a crash) never doubles money.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import duckdb

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.statements.bounds import check_statements
from o2c.tasks.bank.store import BankLoadResult, load_statements
from o2c.tasks.connectors.bridge import (
    ACCOUNTS_PATH,
    TOKEN_PATH,
    TRANSACTIONS_PATH,
    BridgeClient,
    BridgeDataError,
    BridgeError,
)
from o2c.tasks.connectors.bridge import parse_timestamp as _parse_timestamp
from o2c.warehouse import connect, db_path, replace_row, scalar, transaction

__all__ = [
    "ACCOUNTS_PATH",
    "TOKEN_PATH",
    "TRANSACTIONS_PATH",
    "BridgeClient",
    "BridgeDataError",
    "BridgeError",
]

log = logging.getLogger(__name__)

PROVIDER = "bridge"
SOURCE = "open_banking"
FORMAT = "open_banking"
_DAY_MARGIN = 3  # days around a booking date when listing whole days by `date`

# --------------------------------------------------------------------------------------------
# Fetch: payloads to typed lines
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class AccountFeed:
    """What one account served in one fetch."""

    account_id: str
    iban: str  # the IBAN, or 'bridge:<account id>' when the provider gives none
    currency: str | None
    # Booked lines of every day this fetch touched, in (booking date, provider id) order.
    lines: list[StatementLine] = field(default_factory=list)
    changed: int = 0  # of which new or changed since the cursor
    deleted_ids: list[str] = field(default_factory=list)  # provider ids withdrawn
    future_skipped: int = 0  # announced (`future: true`) and not yet booked: fetched again later
    cursor_before: str | None = None
    cursor_after: str | None = None  # largest updated_at seen; cursor_before when nothing came


@dataclass(slots=True)
class FetchResult:
    accounts: list[AccountFeed]

    @property
    def lines_by_iban(self) -> dict[str, list[StatementLine]]:
        grouped: dict[str, list[StatementLine]] = {}
        for feed in self.accounts:
            grouped.setdefault(feed.iban, []).extend(feed.lines)
        return grouped

    @property
    def deleted_ids(self) -> list[str]:
        return [tx_id for feed in self.accounts for tx_id in feed.deleted_ids]

    @property
    def cursors(self) -> dict[str, str | None]:
        return {feed.account_id: feed.cursor_after for feed in self.accounts}

    @property
    def transaction_count(self) -> int:
        """New or changed booked transactions (not counting same-day neighbours re-listed)."""
        return sum(feed.changed for feed in self.accounts)


def fetch_transactions(
    client: BridgeClient,
    *,
    since: datetime | None,
    cursor_state: Mapping[str, str | None],
) -> FetchResult:
    """Every account's new or changed transactions since its cursor, as whole booked days.

    `cursor_state` maps a Bridge account id to its saved cursor (the `updated_at` it reached).
    An account without one is read from `since` (its booking date, sent as `min_date`), or
    its whole history when `since` is None. Nothing is kept if any page fails: the caller
    saves no cursor and the next run asks again from the same place.

    The loader knows a feed line by its provider id (tasks/bank/store.py); a line without one
    is compared with the stored lines of its day. So for every booking day the cut touches, the
    day is listed again in full and all of it is handed over: stored rows are then recognised
    by their ids (listed as already known), a whole day can be compared with a file's, and
    nothing is doubled or lost.
    """
    feeds = []
    for account in client.list_accounts():
        account_id = _text(account, "id", where="account")
        if account_id is None:
            raise BridgeDataError("Bridge account without an id")
        iban = _text(account, "iban", where=f"account {account_id}")
        feed = AccountFeed(
            account_id=account_id,
            iban=(iban.replace(" ", "").upper() if iban else f"bridge:{account_id}"),
            currency=_text(account, "currency_code", where=f"account {account_id}"),
            cursor_before=cursor_state.get(account_id),
        )
        latest: dict[str, dict[str, Any]] = {}  # a row moved across pages keeps its last state
        cursor = feed.cursor_before
        for tx_id, tx in _identified(
            client.iter_transactions(
                account_id=account_id,
                since=feed.cursor_before,
                min_date=since.date() if since and not feed.cursor_before else None,
            ),
            account_id,
        ):
            latest[tx_id] = tx
            updated = _text(tx, "updated_at", where=f"transaction {tx_id}")
            if updated and (cursor is None or _later(updated, cursor)):
                cursor = updated
        booked: dict[str, StatementLine] = {}
        for tx_id, tx in latest.items():
            if tx.get("deleted") is True:
                feed.deleted_ids.append(tx_id)
            elif tx.get("future") is True:
                feed.future_skipped += 1
            else:
                booked[tx_id] = _line(tx, tx_id, feed.currency)
        feed.changed = len(booked)
        if feed.cursor_before and booked:
            booked = {**booked, **_whole_days(client, feed, booked)}
        feed.lines = sorted(booked.values(), key=_line_order)
        feed.cursor_after = cursor
        feeds.append(feed)
    return FetchResult(feeds)


def _identified(
    rows: Iterator[dict[str, Any]], account_id: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    for tx in rows:
        tx_id = _text(tx, "id", where=f"account {account_id} transaction")
        if tx_id is None:
            raise BridgeDataError(f"Bridge account {account_id}: a transaction has no id")
        yield tx_id, tx


def _whole_days(
    client: BridgeClient, feed: AccountFeed, booked: Mapping[str, StatementLine]
) -> dict[str, StatementLine]:
    """Every booked transaction of the days in `booked`, listed by date (no cursor)."""
    days = {line.booking_date for line in booked.values()}
    # Bridge filters on `date`, which may differ from booking_date by a day or two.
    margin = timedelta(days=_DAY_MARGIN)
    found = {}
    for tx_id, tx in _identified(
        client.iter_transactions(
            account_id=feed.account_id,
            since=None,
            min_date=min(days) - margin,
            max_date=max(days) + margin,
        ),
        feed.account_id,
    ):
        if tx.get("deleted") is True or tx.get("future") is True:
            continue
        line = _line(tx, tx_id, feed.currency)
        if line.booking_date in days:
            found[tx_id] = line
    return found


def _line_order(line: StatementLine) -> tuple[date, int, str]:
    tx_id = line.external_id or ""
    return line.booking_date, len(tx_id), tx_id  # numeric ids in numeric order


def _later(a: str, b: str) -> bool:
    pa, pb = _parse_timestamp(a), _parse_timestamp(b)
    if pa is None or pb is None:
        return a > b
    return pa > pb


def _text(obj: Mapping[str, Any], key: str, *, where: str) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool | dict | list):
        raise BridgeDataError(f"Bridge {where}: field {key!r} is not a scalar ({value!r})")
    return str(value)


def _date(tx: Mapping[str, Any], key: str, tx_id: str) -> date | None:
    value = tx.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise BridgeDataError(
            f"Bridge transaction {tx_id}: field {key!r} is not a date ({value!r})"
        ) from None


def _line(tx: Mapping[str, Any], tx_id: str, account_currency: str | None) -> StatementLine:
    raw = tx.get("amount")
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        raise BridgeDataError(f"Bridge transaction {tx_id}: field 'amount' missing or not a number")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise BridgeDataError(
            f"Bridge transaction {tx_id}: 'amount' {raw!r} is not a number"
        ) from None
    if not amount.is_finite():
        raise BridgeDataError(f"Bridge transaction {tx_id}: 'amount' {raw!r} is not finite")
    booking = _date(tx, "booking_date", tx_id) or _date(tx, "date", tx_id)
    if booking is None:
        raise BridgeDataError(f"Bridge transaction {tx_id}: no 'booking_date' nor 'date'")
    currency = _text(tx, "currency_code", where=f"transaction {tx_id}") or account_currency
    if currency is None:
        raise BridgeDataError(f"Bridge transaction {tx_id}: no 'currency_code'")
    label = _text(tx, "provider_description", where=f"transaction {tx_id}")
    clean = _text(tx, "clean_description", where=f"transaction {tx_id}")
    return StatementLine(
        booking_date=booking,
        amount=amount,
        currency=currency.upper(),
        value_date=_date(tx, "value_date", tx_id),
        # The bank's own label is what a camt/MT940 file carries; the cleaned one is a fallback.
        remittance_unstructured=label or clean,
        bank_tx_code=_text(tx, "operation_type", where=f"transaction {tx_id}"),
        entry_ref=tx_id,
        external_id=tx_id,
    )


def to_statements(fetched: FetchResult) -> list[Statement]:
    """One Statement per account and currency, format 'open_banking'.

    A feed carries no balances, so opening_balance and closing_balance are None and the
    loader skips the balance check for these statements: the feed's completeness rests on the
    cursor, not on balances. The statement reference names the account and the cursor span,
    so a re-run over the same data yields the same statement.
    """
    statements = []
    for feed in fetched.accounts:
        by_currency: dict[str, list[StatementLine]] = {}
        for line in feed.lines:
            by_currency.setdefault(line.currency, []).append(line)
        for currency, lines in sorted(by_currency.items()):
            dates = [line.booking_date for line in lines]
            statements.append(
                Statement(
                    format=FORMAT,
                    account_iban=feed.iban,
                    currency=currency,
                    statement_ref=(
                        f"bridge:{feed.account_id}:{feed.cursor_before or 'start'}"
                        f"..{feed.cursor_after}"
                    ),
                    from_date=min(dates),
                    to_date=max(dates),
                    opening_balance=None,
                    closing_balance=None,
                    lines=lines,
                    entries_total=sum((line.amount for line in lines), Decimal(0)),
                    entry_count=len(lines),
                )
            )
    return statements


# --------------------------------------------------------------------------------------------
# Cursor persistence
# --------------------------------------------------------------------------------------------


def read_cursor(con: duckdb.DuckDBPyConnection, provider: str, account_id: str) -> str | None:
    return scalar(
        con,
        "SELECT cursor FROM open_banking_cursors WHERE provider = ? AND account_id = ?",
        [provider, account_id],
    )


def read_cursors(con: duckdb.DuckDBPyConnection, provider: str) -> dict[str, str | None]:
    rows = con.execute(
        "SELECT account_id, cursor FROM open_banking_cursors WHERE provider = ?", [provider]
    ).fetchall()
    return {account_id: cursor for account_id, cursor in rows}


def save_cursor(
    con: duckdb.DuckDBPyConnection,
    provider: str,
    account_id: str,
    cursor: str | None,
    *,
    now: datetime,
) -> None:
    """Upsert an account's cursor; `synced_until` is the cursor as a timestamp, for people."""
    synced = _parse_timestamp(cursor)
    replace_row(
        con,
        "open_banking_cursors",
        {"provider": provider, "account_id": account_id},
        {
            "cursor": cursor,
            "synced_until": synced.astimezone(UTC).replace(tzinfo=None) if synced else None,
            "updated_at": now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now,
        },
    )


# --------------------------------------------------------------------------------------------
# Sync: fetch -> load -> cursor
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WithdrawnTransaction:
    """A transaction already in the warehouse that the provider has since withdrawn."""

    external_id: str
    transaction_id: str
    account_iban: str
    booking_date: date
    amount: Decimal
    currency: str


@dataclass(slots=True)
class SyncResult:
    accounts: int
    transactions_in: int  # new or changed since the cursors
    deleted_ids: list[str]
    withdrawn_stored: list[WithdrawnTransaction]  # to surface: stored rows the bank took back
    future_skipped: int
    statements: int
    # The loader's figures count the same-day neighbours re-listed with the new rows too
    # (as duplicates); None when nothing was to load.
    load: BankLoadResult | None
    cursors: dict[str, str | None]

    def summary(self) -> dict[str, object]:
        """Figures for a run artifact."""
        return {
            "accounts": self.accounts,
            "transactions in (new or changed)": self.transactions_in,
            "statements": self.statements,
            "loaded": self.load.loaded if self.load else 0,
            "duplicates": self.load.duplicates if self.load else 0,
            "stored, possibly already known (to check)": self.load.unproven.height
            if self.load
            else 0,
            "withdrawn by the provider": len(self.deleted_ids),
            "withdrawn but already stored": len(self.withdrawn_stored),
            "announced, not yet booked": self.future_skipped,
        }


def withdrawn_already_stored(
    con: duckdb.DuckDBPyConnection, external_ids: list[str]
) -> list[WithdrawnTransaction]:
    """Stored feed rows among the withdrawn ids: reported, never deleted behind finance's back."""
    if not external_ids:
        return []
    rows = con.execute(
        "SELECT external_id, transaction_id, account_iban, booking_date, amount, currency"
        " FROM bank_transactions WHERE list_contains(?, external_id)"
        " ORDER BY booking_date, external_id",
        [external_ids],
    ).fetchall()
    return [WithdrawnTransaction(*row) for row in rows]


def fingerprint(fetched: FetchResult, statements: list[Statement]) -> str:
    """SHA-256 of what a fetch brought, standing in for a file hash in load_batches."""
    digest = hashlib.sha256()
    for feed in sorted(fetched.accounts, key=lambda f: f.account_id):
        digest.update(f"{feed.account_id}|{feed.cursor_before}|{feed.cursor_after}\n".encode())
    for st in statements:
        digest.update(f"{st.account_iban}|{st.currency}|{st.statement_ref}\n".encode())
        for line in st.lines:
            digest.update(f"{line.external_id}|{line.booking_date}|{line.amount}\n".encode())
    return digest.hexdigest()


@dataclass(slots=True)
class StagedSync:
    """What one fetch will write, ready before the writer lock is taken."""

    statements: list[Statement]
    sha256: str  # stands in for a file hash in load_batches
    file_name: str
    accounts: int
    transactions_in: int
    deleted_ids: list[str]
    future_skipped: int
    cursors: dict[str, str | None]  # every account's cursor after this fetch
    cursor_moves: dict[str, str]  # only the accounts whose cursor moved


def stage(fetched: FetchResult, *, user: str) -> StagedSync:
    """Statements, fingerprint and cursor moves of a fetch: pure, no I/O.

    The feed is held to the same bounds as a file (amounts, currencies, dates): a bank API can
    send nonsense too, and one poisoned amount would stop every later reconciliation.
    """
    statements = to_statements(fetched)
    check_statements(f"bridge:{user}", statements)
    return StagedSync(
        statements=statements,
        sha256=fingerprint(fetched, statements),
        file_name=f"bridge:{user}",
        accounts=len(fetched.accounts),
        transactions_in=fetched.transaction_count,
        deleted_ids=fetched.deleted_ids,
        future_skipped=sum(feed.future_skipped for feed in fetched.accounts),
        cursors=fetched.cursors,
        cursor_moves={
            feed.account_id: feed.cursor_after
            for feed in fetched.accounts
            if feed.cursor_after and feed.cursor_after != feed.cursor_before
        },
    )


def stored_cursors(db: str | os.PathLike[str] | None) -> dict[str, str | None]:
    """The saved cursors, read in a short read-only connection (none before the first sync)."""
    if not db_path(db).exists():
        return {}
    with connect(db, read_only=True) as con:
        try:
            return read_cursors(con, PROVIDER)
        except duckdb.CatalogException:  # a warehouse older than the cursor table
            return {}


def write(
    con: duckdb.DuckDBPyConnection,
    staged: StagedSync,
    *,
    now: datetime,
    flow_run_id: str | None = None,
) -> SyncResult:
    """Load the staged statements with source 'open_banking', then move the cursors.

    Rows and cursor moves are one transaction (the loader's joins it): a crash leaves both or
    neither, so a cursor never moves past rows that were not stored.
    """
    withdrawn = withdrawn_already_stored(con, staged.deleted_ids)
    load = None
    with transaction(con):
        if staged.statements:
            load = load_statements(
                con,
                staged.statements,
                file_name=staged.file_name,
                sha256=staged.sha256,
                source=SOURCE,
                flow_run_id=flow_run_id,
            )
        for account_id, cursor in staged.cursor_moves.items():
            save_cursor(con, PROVIDER, account_id, cursor, now=now)
    for item in withdrawn:
        log.warning(
            "Bridge withdrew transaction %s (%s %s %s on %s), already stored as %s",
            item.external_id,
            item.amount,
            item.currency,
            item.account_iban,
            item.booking_date,
            item.transaction_id,
        )
    return SyncResult(
        accounts=staged.accounts,
        transactions_in=staged.transactions_in,
        deleted_ids=staged.deleted_ids,
        withdrawn_stored=withdrawn,
        future_skipped=staged.future_skipped,
        statements=len(staged.statements),
        load=load,
        cursors=staged.cursors,
    )
