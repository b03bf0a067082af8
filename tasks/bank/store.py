"""Load parsed bank statements (files or Open Banking) into the warehouse, exactly once.

Natural key of a transaction (bank_transactions.transaction_id): the first 32 hex digits of
sha256 over

    account_iban | booking_date (YYYY-MM-DD) | currency | amount in cents | occurrence

e.g. `FR7630003012340123456789057|2024-01-13|EUR|104017|1`, where occurrence is the 1-based rank
of the line among the lines of the same statement with the same account, booking date, currency
and amount, in file order. It uses only what every source gives (a camt file, an MT940 file and
the Open Banking feed of the same account describe one payment with these same four facts), so a
transaction seen in two overlapping statements, or in a file and in the feed, is stored once;
later copies are counted as duplicates (never an update): the insert skips the keys already
stored for the same accounts and dates, in the load's transaction (sql/005 says why there is no
index).

Known limit: the occurrence is counted within one statement. An intraday statement cut in the
middle of a day that holds two identical payments (same day, same amount) may carry only the
first; the end-of-day statement then gives the second occurrence 2 and it loads, as it should,
but a cut that carries only the *second* of them makes it occurrence 1 and the end-of-day
statement's second payment then looks new while its first looks like a duplicate: the counts stay
right, the stored references of those two may be swapped. Two genuinely identical payments on one
day from different sources are kept apart only by this rank.

A file is loaded in one DuckDB transaction (batch row, statements, transactions: all or none), a
file whose sha256 was already loaded is a no-op that says so, and a statement whose balances do
not add up is refused whole unless the caller accepts it explicitly (the difference is stored).
A refused file leaves one `rejected` batch row with its reason (`record_rejection`).
Rows go in as one Arrow table (lines stay columnar from the parser): no row-by-row INSERT.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from o2c.models.bank import Statement, SubCentAmountError
from o2c.models.schemas import STATEMENT_LINE
from o2c.models.status import LoadStatus
from o2c.tasks.bank.statements.balance import BalanceCheck, check_balance
from o2c.warehouse import new_batch_id, scalar, transaction

SOURCES = ("bank_statement", "open_banking")


class UnbalancedStatementError(ValueError):
    """A statement whose opening balance plus movements is not its closing balance."""

    def __init__(self, file_name: str | None, check: BalanceCheck) -> None:
        self.file_name = file_name
        self.check = check
        super().__init__(
            f"{file_name or '<statements>'}: statement {check.statement_ref} "
            f"(account {check.account_iban}, {check.currency}) does not balance: "
            f"opening {check.opening}, movements {check.movements}, closing {check.closing}, "
            f"difference {check.difference}" + (f" ({check.reason})" if check.reason else "")
        )


class BankLoadError(ValueError):
    """A statement the warehouse cannot take as it is (amount below the cent, no account)."""


@dataclass
class BankLoadResult:
    batch_id: int | None
    status: LoadStatus  # LOADED or DUPLICATE_FILE
    statements: int
    accounts: int
    transactions_in: int
    loaded: int
    duplicates: int
    balances: list[BalanceCheck] = field(default_factory=list)
    file_name: str | None = None
    sha256: str | None = None

    @property
    def balances_checked(self) -> int:
        return sum(1 for b in self.balances if b.status != "unchecked")

    def summary(self) -> dict[str, object]:
        """Figures for a run artifact."""
        return {
            "file": self.file_name,
            "status": self.status,
            "statements": self.statements,
            "accounts": self.accounts,
            "transactions in": self.transactions_in,
            "loaded": self.loaded,
            "duplicates": self.duplicates,
            "balances checked": self.balances_checked,
            "balances unchecked": len(self.balances) - self.balances_checked,
        }


def statement_id(st: Statement) -> str:
    """sha256 of account, statement reference and dates (first 32 hex)."""
    raw = f"{st.account_iban}|{st.statement_ref}|{st.from_date}|{st.to_date}|{st.format}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _staged(statements: list[Statement], file_name: str | None, source: str) -> pl.DataFrame:
    """One frame of every line, with its statement and file order (columnar from end to end)."""
    label = file_name or "<statements>"
    frames = []
    for i, st in enumerate(statements):
        if not st.account_iban:
            raise BankLoadError(f"{label}: statement {st.statement_ref} names no account")
        try:
            table = st.line_table()
        except SubCentAmountError as exc:
            raise BankLoadError(
                f"{label}: account {st.account_iban} statement {st.statement_ref}: {exc}; "
                "file refused"
            ) from exc
        frames.append(
            table.with_columns(
                st_index=pl.lit(i, pl.Int32),
                statement_id=pl.lit(statement_id(st)),
                account_iban=pl.lit(st.account_iban),
                source=pl.lit(source if source == "open_banking" else st.format),
            )
        )
    staged = pl.concat(frames, how="vertical") if frames else _EMPTY
    return _with_occurrence(staged.with_row_index("seq"))


_SAME_FACTS = ["st_index", "account_iban", "booking_date", "currency", "amount_cents"]


def _with_occurrence(staged: pl.DataFrame) -> pl.DataFrame:
    """The key's rank: 1, or the file-order rank among lines with the same facts in a statement
    (ranked on those rows only: a window over every row cost more than the rest of the key)."""
    occurrence = pl.repeat(1, staged.height, dtype=pl.UInt32, eager=True)
    rows = staged.select(pl.struct(_SAME_FACTS).is_duplicated()).to_series().arg_true()
    if rows.len():
        ranks = staged[rows].select(pl.col("seq").rank("ordinal").over(_SAME_FACTS))
        occurrence = occurrence.scatter(rows, ranks.to_series())
    return staged.with_columns(occurrence=occurrence)


_EMPTY = pl.DataFrame(
    schema={**STATEMENT_LINE, "st_index": pl.Int32, "statement_id": pl.String,
            "account_iban": pl.String, "source": pl.String}
)  # fmt: skip


# The key computed by DuckDB over the whole staged table; keys already stored for these
# accounts and dates stay out (the date range lets DuckDB skip the rest of the table).
_INSERT = """
INSERT INTO bank_transactions (
    transaction_id, account_iban, currency, booking_date, value_date, amount,
    counterparty_name, counterparty_iban, remittance_unstructured, remittance_structured,
    end_to_end_id, bank_reference, bank_tx_code, is_reversal, statement_id, entry_ref,
    detail_index, source, external_id, remittance_documents, batch_id, loaded_at)
SELECT k.transaction_id, account_iban, currency, booking_date, value_date,
       CAST(amount_cents * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(18, 2)),
       counterparty_name, counterparty_iban, remittance_unstructured, remittance_structured,
       end_to_end_id, bank_reference, bank_tx_code, is_reversal, statement_id, entry_ref,
       detail_index, source, external_id, remittance_documents, $batch_id, $loaded_at
FROM (
    SELECT substr(sha256(concat_ws('|', account_iban, CAST(booking_date AS VARCHAR), currency,
                                   CAST(amount_cents AS VARCHAR), CAST(occurrence AS VARCHAR))),
                  1, 32) AS transaction_id,
           *
    FROM _bank_staged
) k
{skip_stored}
{dedupe}
"""
_STORED = """
FROM bank_transactions
WHERE list_contains($accounts, account_iban) AND booking_date BETWEEN $first AND $last
"""
_SKIP_STORED = f"ANTI JOIN (SELECT transaction_id {_STORED}) stored USING (transaction_id)"
# Two statements of one file that cover the same account and day may carry the same
# transaction: keep its first occurrence.
_DEDUPE = "QUALIFY row_number() OVER (PARTITION BY k.transaction_id ORDER BY seq) = 1"


def _insert(
    con: duckdb.DuckDBPyConnection, staged: pl.DataFrame, batch_id: int, now: datetime
) -> None:
    """Insert the staged lines whose key is new (the anti-join only when these accounts
    already have rows on these dates: a daily file usually brings new dates only)."""
    days = staged.get_column("booking_date")
    scope = {
        "accounts": staged.get_column("account_iban").unique().to_list(),
        "first": days.min(),
        "last": days.max(),
    }
    stored = scalar(con, f"SELECT count(*) {_STORED}", scope)
    overlapping = (
        staged.group_by("account_iban", "booking_date")
        .agg(pl.col("st_index").n_unique())
        .get_column("st_index")
        .max()
        > 1
    )
    sql = _INSERT.format(
        skip_stored=_SKIP_STORED if stored else "", dedupe=_DEDUPE if overlapping else ""
    )
    params = {"batch_id": batch_id, "loaded_at": now, **(scope if stored else {})}
    con.register("_bank_staged", staged.to_arrow())
    try:
        con.execute(sql, params)
    finally:
        con.unregister("_bank_staged")


def record_rejection(
    con: duckdb.DuckDBPyConnection,
    *,
    file_name: str,
    sha256: str | None,
    reason: str,
    source: str = "bank_statement",
    flow_run_id: str | None = None,
) -> int:
    """A `rejected` batch row: the warehouse keeps the trace of a file it refused, and why (the
    file itself goes to the inbox's rejected/ folder). Nothing else of the file is written."""
    return _closed_batch(
        con, status=LoadStatus.REJECTED, message=reason, source=source, file_name=file_name,
        sha256=sha256, flow_run_id=flow_run_id, started=datetime.now(),
    )  # fmt: skip


def _closed_batch(
    con: duckdb.DuckDBPyConnection,
    *,
    status: LoadStatus,
    message: str,
    source: str,
    file_name: str | None,
    sha256: str | None,
    flow_run_id: str | None,
    started: datetime,
    rows_in: int = 0,
    rows_unchanged: int = 0,
) -> int:
    """A batch row for a file that loads nothing (a repeat, a refusal), finished when written."""
    batch_id = new_batch_id(con)
    con.execute(
        "INSERT INTO load_batches (batch_id, source, file_name, sha256, rows_in, rows_unchanged,"
        " status, message, flow_run_id, started_at, finished_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            batch_id, source, file_name, sha256, rows_in, rows_unchanged, status, message,
            flow_run_id, started, datetime.now(),
        ],
    )  # fmt: skip
    return batch_id


def already_loaded(con: duckdb.DuckDBPyConnection, sha256: str) -> int | None:
    """The batch that loaded this file, if any."""
    row = con.execute(
        "SELECT batch_id FROM load_batches WHERE sha256 = ? AND status = ? "
        "ORDER BY batch_id LIMIT 1",
        [sha256, LoadStatus.LOADED],
    ).fetchall()
    return int(row[0][0]) if row else None


def load_statements(
    con: duckdb.DuckDBPyConnection,
    parsed: list[Statement],
    *,
    file_name: str | None,
    sha256: str | None,
    source: str,
    flow_run_id: str | None = None,
    accept_unbalanced: bool = False,
) -> BankLoadResult:
    """Load statements in one transaction; see the module docstring for the rules."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    started = datetime.now()
    accounts = len({st.account_iban for st in parsed})
    lines_in = sum(st.line_count() for st in parsed)
    checks = [check_balance(st) for st in parsed]
    if sha256 and (previous := already_loaded(con, sha256)) is not None:
        batch_id = _closed_batch(
            con, status=LoadStatus.DUPLICATE_FILE,
            message=f"same file as batch {previous}: nothing loaded", source=source,
            file_name=file_name, sha256=sha256, flow_run_id=flow_run_id,
            started=started, rows_in=lines_in, rows_unchanged=lines_in,
        )  # fmt: skip
        return BankLoadResult(
            batch_id, LoadStatus.DUPLICATE_FILE, len(parsed), accounts, lines_in, 0, lines_in,
            checks, file_name, sha256,
        )  # fmt: skip
    for check in checks:
        if check.status == "unbalanced" and not accept_unbalanced:
            raise UnbalancedStatementError(file_name, check)
    staged = _staged(parsed, file_name, source)
    with transaction(con):
        batch_id = new_batch_id(con)
        con.execute(
            "INSERT INTO load_batches (batch_id, source, file_name, sha256, rows_in, status,"
            " flow_run_id, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id, source, file_name, sha256, lines_in, LoadStatus.LOADED, flow_run_id,
                started,
            ],
        )  # fmt: skip
        now = datetime.now()
        for st, check in zip(parsed, checks, strict=True):
            difference = check.difference if check.status == "unbalanced" else None
            con.execute(
                "INSERT INTO bank_statements (statement_id, batch_id, file_name, format,"
                " account_iban, currency, statement_ref, from_date, to_date, opening_balance,"
                " closing_balance, entries, balance_difference, loaded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    statement_id(st), batch_id, file_name, st.format, st.account_iban,
                    st.currency, st.statement_ref, st.from_date, st.to_date,
                    st.opening_balance, st.closing_balance, st.entry_count, difference, now,
                ],
            )  # fmt: skip
        before = con.execute("SELECT count(*) FROM bank_transactions").fetchall()[0][0]
        if staged.height:
            _insert(con, staged, batch_id, now)
        after = con.execute("SELECT count(*) FROM bank_transactions").fetchall()[0][0]
        loaded = int(after - before)
        con.execute(
            "UPDATE load_batches SET rows_loaded = ?, rows_unchanged = ?, finished_at = ?,"
            " message = ? WHERE batch_id = ?",
            [
                loaded,
                lines_in - loaded,
                datetime.now(),
                f"{len(parsed)} statements, {lines_in - loaded} duplicate transactions",
                batch_id,
            ],
        )
    return BankLoadResult(
        batch_id, LoadStatus.LOADED, len(parsed), accounts, lines_in, loaded, lines_in - loaded,
        checks, file_name, sha256,
    )  # fmt: skip
