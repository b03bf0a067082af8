"""Load parsed bank statements (files or Open Banking) into the warehouse, exactly once.

Identity of a bank line (issue 15). A line is who the bank says it is:

- **Bank reference**, scoped by account: `bank:<ref>` from `bank_reference` (camt AcctSvcrRef /
  NtryRef / TxDtls Refs, MT940 reference after `//`, CFONB reference), with `#<detail index>`
  for the details of a batch entry (they may share the entry's reference); for the Open Banking
  feed `ob:<provider transaction id>`. A reference counts only when it is usable: not a
  placeholder (`usable_ref`: empty, NONREF, NOTPROVIDED, NONE, N/A, all zeros...) and unique
  among the load's lines of the account. The same reference twice in one load, once in each of
  two statements, same day and amount, is one line seen twice (overlapping statements of one
  file): the later copy is "already known". Any other repeat makes the reference unusable for
  those lines. Kept in `bank_transactions.identity_ref`; `transaction_id` = first 32 hex of
  sha256(`ref|<account>|<identity_ref>`).
- **Fallback**, for a line without a usable reference: sha256(`account | booking date | currency
  | cents | occurrence`), occurrence ranking the line among the load's new lines with the same
  facts over the whole load (all pages and statements of the account, not one statement),
  after the rows already stored with those facts (so a key is never reused).

"Already known" only when proven (each one is listed with the stored line it matched, in the
result's `known` frame and in the load's report):

1. same account and same usable reference as a stored line, same booking date, currency and
   amount. Same reference and day with another amount is a *conflict*: the line is stored as
   new (fallback key) and listed under conflicts, for a person to look at. Same reference on
   another day (a customer reference a standing order repeats) proves nothing: the line goes
   on without it;
2. an incoming line with a usable reference that no stored line carries, on a day where stored
   lines of the same kind of file (camt, MT940/MT942, CFONB, Open Banking...) carry references:
   proven new (the bank numbers its lines; a different number is a different line);
3. the rest of an account-day (lines without a usable reference, or whose references cannot be
   compared with the stored ones: an MT940 against a camt, a feed against a file):
   - a line of a statement already stored (same account, currency, dates, opening and closing
     balances: another rendering of it, or a file that sends it again) is known when the stored
     day has a line of its amount (paired in order);
   - a line of a statement that continues a stored one (its opening balance is the closing
     balance of a stored statement of the account that ends the day this one starts, and that
     moved money), on that first day: new, even when amounts repeat (morning, then evening);
   - what is left of the day is compared with the stored lines of that day not claimed above,
     as amounts with their multiplicity: no stored line that day: new; same amounts, same count
     (so same sum): known, each incoming line paired with a stored one; incoming a superset of
     what an intraday or partial source stored (camt.052, camt.054, MT942, Open Banking): the
     paired are known, the others new (intraday, then the final statement); an intraday or
     partial incoming that is a subset of the stored day: known;
   - anything else cannot be proven either way. Safe behaviour chosen for a credit controller:
     **the line is stored** (a payment is never lost, so nobody is chased for money they paid)
     **and listed as "stored, possibly already known"** with the stored line it may repeat,
     in the load result (`unproven`), the batch message and the report: a doubled credit shows
     up as unapplied cash to review, a dropped one would never show up again. An incoming line
     whose amount has no stored counterpart left that day is new whatever the case.

A file is loaded in one DuckDB transaction (batch row, statements, transactions: all or none), a
file whose sha256 was already loaded is a no-op that says so, and a statement whose balances do
not add up is refused whole unless the caller accepts it explicitly (the difference is stored).
A refused file leaves one `rejected` batch row with its reason (`record_rejection`).
Rows go in as one Arrow table (lines stay columnar from the parser): no row-by-row INSERT; the
decisions above are Polars expressions over the staged lines and the stored lines of the same
accounts and days (read only when the accounts already have rows). sql/005 says why there is no
primary-key index; sql/010 set `identity_ref` on the rows stored before it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from o2c.models.bank import Statement, SubCentAmountError
from o2c.models.schemas import STATEMENT_LINE
from o2c.models.status import LoadStatus
from o2c.tasks.bank.statements.balance import BalanceCheck, check_balance
from o2c.warehouse import first_row, new_batch_id, scalar, transaction

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
    # Each line met in the warehouse, with the stored line (MATCH_SCHEMA): already known (not
    # stored again), stored but possibly known, and stored with a reference conflict.
    known: pl.DataFrame = field(default_factory=lambda: _EMPTY_MATCH)
    unproven: pl.DataFrame = field(default_factory=lambda: _EMPTY_MATCH)
    conflicts: pl.DataFrame = field(default_factory=lambda: _EMPTY_MATCH)

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
            "stored, possibly already known": self.unproven.height,
            "stored, bank reference conflict": self.conflicts.height,
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
    return _with_identity_ref(staged.with_row_index("seq"))


_EMPTY = pl.DataFrame(
    schema={**STATEMENT_LINE, "st_index": pl.Int32, "statement_id": pl.String,
            "account_iban": pl.String, "source": pl.String}
)  # fmt: skip

# What banks write where they have no reference (compared trimmed, upper case).
PLACEHOLDER_REFS = ("NONREF", "NOTPROVIDED", "NOT PROVIDED", "NONE", "NULL", "N/A", "NA", "-")
# Formats that may hold part of a day only (intraday reports, notifications, the live feed).
PARTIAL_SOURCES = ("camt.052", "camt.054", "mt942", "open_banking")
_DAY = ["account_iban", "currency", "booking_date"]
_FACTS = [*_DAY, "amount_cents"]


# One pass over the text: a placeholder, or nothing but zeros, blanks and separators.
_PLACEHOLDER = (
    "(?i)^\\s*(?:" + "|".join(re.escape(p) for p in PLACEHOLDER_REFS) + "|[0\\s./-]*)\\s*$"
)


def usable_ref(ref: pl.Expr) -> pl.Expr:
    """The reference trimmed, or null when it is a placeholder (sql/010's bank_usable_ref)."""
    return pl.when(ref.str.contains(_PLACEHOLDER)).then(None).otherwise(ref.str.strip_chars())


def _family(source: pl.Expr) -> pl.Expr:
    """The kind of file whose references can be compared with each other."""
    return (
        pl.when(source.str.starts_with("camt"))
        .then(pl.lit("camt"))
        .when(source.is_in(["mt940", "mt942"]))
        .then(pl.lit("mt"))
        .when(source.str.starts_with("cfonb"))
        .then(pl.lit("cfonb"))
        .otherwise(source)
    )


def _with_identity_ref(staged: pl.DataFrame) -> pl.DataFrame:
    """`identity_ref` where the line's reference is usable; `repeat_of` (the seq of the first
    copy) for a line seen again in another statement of the same load."""
    bank = pl.lit("bank:") + usable_ref(pl.col("bank_reference"))
    if staged.get_column("detail_index").max() or 0:
        bank = bank + pl.when(pl.col("detail_index") > 0).then(
            pl.lit("#") + pl.col("detail_index").cast(pl.String)
        ).otherwise(pl.lit(""))
    ref = bank
    if staged.get_column("source").eq("open_banking").any():
        feed = pl.lit("ob:") + usable_ref(pl.col("external_id"))
        ref = pl.when(pl.col("source") == "open_banking").then(feed).otherwise(bank)
    staged = staged.with_columns(identity_ref=ref, repeat_of=pl.lit(None, pl.UInt32))
    # Candidates by hash (a third of the cost of comparing the text); the groups below are
    # exact, so a hash collision only sends a unique reference through them unchanged.
    same_ref = pl.struct("account_iban", "identity_ref").hash().is_duplicated()
    shared = staged.select(same_ref & pl.col("identity_ref").is_not_null()).to_series()
    if not shared.any():
        return staged
    groups = pl.col("seq").over("account_iban", "identity_ref")
    again = (
        staged.filter(shared)
        .with_columns(
            first=groups.min(),
            n=groups.len(),
            statements=pl.col("st_index").n_unique().over("account_iban", "identity_ref"),
            facts=pl.struct("booking_date", "currency", "amount_cents")
            .n_unique()
            .over("account_iban", "identity_ref"),
        )
        .with_columns(same_line=(pl.col("n") == pl.col("statements")) & (pl.col("facts") == 1))
        .select(
            "seq",
            identity_ref=pl.when("same_line").then("identity_ref"),
            repeat_of=pl.when(pl.col("same_line") & (pl.col("seq") != pl.col("first"))).then(
                pl.col("first").cast(pl.UInt32)
            ),
        )
    )
    return staged.update(again, on="seq", include_nulls=True)


# ---------------------------------------------------------------------------------------------
# What is already stored for the accounts and days of the load
# ---------------------------------------------------------------------------------------------

_STORED_LINES = """
SELECT t.transaction_id, t.account_iban, t.currency, t.booking_date,
       amount_to_cents(t.amount) AS amount_cents, t.identity_ref, t.source,
       coalesce(t.bank_reference, t.external_id) AS reference, t.batch_id,
       coalesce(b.file_name, s.file_name) AS file_name, t.rowid AS rid
FROM bank_transactions t
LEFT JOIN load_batches b USING (batch_id)
LEFT JOIN bank_statements s USING (statement_id)
WHERE list_contains($accounts, t.account_iban)
  AND (t.booking_date BETWEEN $first AND $last
       OR t.identity_ref IN (SELECT identity_ref FROM _bank_refs))
"""
_STORED_SCHEMA = {
    "transaction_id": pl.String, "account_iban": pl.String, "currency": pl.String,
    "booking_date": pl.Date, "amount_cents": pl.Int64, "identity_ref": pl.String,
    "source": pl.String, "reference": pl.String, "batch_id": pl.Int64, "file_name": pl.String,
    "rid": pl.Int64,
}  # fmt: skip


def _stored(con: duckdb.DuckDBPyConnection, staged: pl.DataFrame) -> pl.DataFrame | None:
    """Stored rows of the load's accounts on its days, or sharing one of its references; None
    when these accounts have no row at all (a first load reads nothing more)."""
    accounts = staged.get_column("account_iban").unique().to_list()
    if not scalar(
        con,
        "SELECT count(*) FROM (SELECT 1 FROM bank_transactions"
        " WHERE list_contains($accounts, account_iban) LIMIT 1)",
        {"accounts": accounts},
    ):
        return None
    days = staged.get_column("booking_date")
    refs = staged.select(pl.col("identity_ref").drop_nulls().unique())
    params = {"accounts": accounts, "first": days.min(), "last": days.max()}
    con.register("_bank_refs", refs.to_arrow())
    try:
        return con.sql(_STORED_LINES, params=params).pl().cast(_STORED_SCHEMA)
    finally:
        con.unregister("_bank_refs")


def _continuing(con: duckdb.DuckDBPyConnection, statements: list[Statement]) -> pl.DataFrame:
    """Per statement of the load: does it continue a stored statement (opens at its close, on
    the day it ends, after it moved money) without being one already stored? Is it one already
    stored (same account, currency, dates and balances: another rendering of it)?"""
    accounts = sorted({st.account_iban for st in statements if st.account_iban})
    stored = con.execute(
        "SELECT account_iban, currency, from_date, to_date, opening_balance, closing_balance"
        " FROM bank_statements WHERE list_contains(?, account_iban)",
        [accounts],
    ).fetchall()
    flags = []
    for st in statements:
        same = [t for t in stored if (t[0], t[1]) == (st.account_iban, st.currency)]
        balanced = st.opening_balance is not None and st.closing_balance is not None
        known = balanced and any(
            t[2:] == (st.from_date, st.to_date, st.opening_balance, st.closing_balance)
            for t in same
        )
        follows = st.opening_balance is not None and any(
            t[3] == st.from_date and t[5] == st.opening_balance and t[4] != t[5] for t in same
        )
        flags.append((follows and not known, known))
    return pl.DataFrame(
        {
            "st_index": pl.Series(range(len(statements)), dtype=pl.Int32),
            "continues": [f[0] for f in flags],
            "restates": [f[1] for f in flags],
            "st_from": [st.from_date for st in statements],
        },
        schema=_NO_STATEMENTS.schema,
    )


_NO_STATEMENTS = pl.DataFrame(
    schema={"st_index": pl.Int32, "continues": pl.Boolean, "restates": pl.Boolean,
            "st_from": pl.Date}
)  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Known, new, or not provable
# ---------------------------------------------------------------------------------------------

# A known / possibly known / conflicting line and the stored line it met.
MATCH_SCHEMA = {
    "account_iban": pl.String, "booking_date": pl.Date, "currency": pl.String,
    "amount_cents": pl.Int64, "reference": pl.String, "how": pl.String,
    "stored_transaction_id": pl.String, "stored_amount_cents": pl.Int64,
    "stored_booking_date": pl.Date, "stored_reference": pl.String, "stored_batch_id": pl.Int64,
    "stored_file": pl.String,
}  # fmt: skip
_EMPTY_MATCH = pl.DataFrame(schema=MATCH_SCHEMA)


@dataclass
class Identified:
    """The staged lines to insert (with `occurrence`), and the lines met in the warehouse."""

    new: pl.DataFrame
    known: pl.DataFrame
    unproven: pl.DataFrame  # stored as new, may repeat a stored line
    conflicts: pl.DataFrame  # stored as new, same reference as a stored line with other facts


def _matched(lines: pl.DataFrame, how: str | pl.Expr) -> pl.DataFrame:
    """Incoming lines joined to their stored line (columns suffixed _s) as MATCH_SCHEMA."""
    return lines.select(
        "account_iban", "booking_date", "currency", "amount_cents",
        reference=pl.coalesce("bank_reference", "external_id"),
        how=how if isinstance(how, pl.Expr) else pl.lit(how),
        stored_transaction_id="transaction_id", stored_amount_cents="amount_cents_s",
        stored_booking_date="booking_date_s", stored_reference="reference_s",
        stored_batch_id="batch_id", stored_file="file_name",
    ).cast(MATCH_SCHEMA)  # fmt: skip


def identify(
    staged: pl.DataFrame,
    stored: pl.DataFrame | None,
    continuing: pl.DataFrame,
    *,
    file_name: str | None,
) -> Identified:
    """Split the staged lines into new, known, unproven and conflicting (module docstring)."""
    repeats = staged.filter(pl.col("repeat_of").is_not_null())
    known = [_repeats_in_load(staged, repeats, file_name)] if repeats.height else []
    lines = staged.filter(pl.col("repeat_of").is_null()) if repeats.height else staged
    if stored is None or stored.height == 0:
        return Identified(_occurrence(lines, None), _concat(known), _EMPTY_MATCH, _EMPTY_MATCH)
    stored = stored.with_columns(family=_family(pl.col("source")))
    lines = lines.with_columns(family=_family(pl.col("source")))
    renamed = {c: f"{c}_s" for c in ("booking_date", "currency", "amount_cents", "reference")}
    # 1. Same usable reference as a stored line.
    hits = lines.filter(pl.col("identity_ref").is_not_null()).join(
        stored.filter(pl.col("identity_ref").is_not_null())
        .drop("source", "family")
        .rename(renamed),
        on=["account_iban", "identity_ref"],
    )
    same = (
        (pl.col("booking_date") == pl.col("booking_date_s"))
        & (pl.col("currency") == pl.col("currency_s"))
        & (pl.col("amount_cents") == pl.col("amount_cents_s"))
    )
    by_ref = hits.filter(same)
    same_day = (pl.col("booking_date") == pl.col("booking_date_s")) & (
        pl.col("currency") == pl.col("currency_s")
    )
    clash = hits.filter(~same & same_day)
    known.append(_matched(by_ref, "same bank reference"))
    conflicts = _matched(clash, "same bank reference and day, other amount: stored as new")
    # A reference met on another day (a standing order's customer reference): not this line,
    # and not usable as its identity either; the day proof below decides.
    elsewhere = hits.filter(~same_day).get_column("seq").implode()
    clashing = lines.join(clash.select("seq"), on="seq", how="semi").with_columns(
        identity_ref=pl.lit(None, pl.String)
    )
    lines = lines.join(
        pl.concat([by_ref.select("seq"), clash.select("seq")]), on="seq", how="anti"
    ).with_columns(
        identity_ref=pl.when(pl.col("seq").is_in(elsewhere)).then(None).otherwise("identity_ref")
    )
    free = stored.join(by_ref.select("transaction_id"), on="transaction_id", how="anti")
    # 2. A reference the same kind of file numbers otherwise that day: a different line.
    ref_days = stored.filter(pl.col("identity_ref").is_not_null()).select(*_DAY, "family").unique()
    referenced = pl.col("identity_ref").is_not_null()
    lines = lines.join(ref_days.with_columns(ref_day=pl.lit(True)), on=[*_DAY, "family"],
                       how="left")  # fmt: skip
    proven_new = lines.filter(referenced & pl.col("ref_day").fill_null(False))
    pool = lines.filter(~(referenced & pl.col("ref_day").fill_null(False)))
    compared = pool.filter(referenced).select(*_DAY, "family").unique()
    stored_pool = free.join(
        free.filter(pl.col("identity_ref").is_not_null()).join(compared, on=[*_DAY, "family"])
        .select("transaction_id"),
        on="transaction_id", how="anti",
    )  # fmt: skip
    # 3. The day proof.
    decided = _day_proof(pool, stored_pool, continuing)
    known.append(_matched(decided.filter(pl.col("decision") == "known"), pl.col("how")))
    unproven = _matched(
        decided.filter(pl.col("decision") == "unproven"),
        "not provable either way: stored, may repeat this stored line",
    )
    new = pl.concat(
        [
            clashing.select(staged.columns),
            proven_new.select(staged.columns),
            decided.filter(pl.col("decision") != "known").select(staged.columns),
        ]
    )
    return Identified(_occurrence(new, stored), _concat(known), unproven, conflicts)


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(frames) if frames else _EMPTY_MATCH


def _repeats_in_load(
    staged: pl.DataFrame, repeats: pl.DataFrame, file_name: str | None
) -> pl.DataFrame:
    """Second copies of a referenced line in another statement of the same load."""
    first = staged.select(
        repeat_of=pl.col("seq").cast(pl.UInt32),
        booking_date_s="booking_date", amount_cents_s="amount_cents",
        reference_s=pl.coalesce("bank_reference", "external_id"),
    )  # fmt: skip
    return _matched(
        repeats.join(first, on="repeat_of").with_columns(
            transaction_id=pl.lit(None, pl.String),
            batch_id=pl.lit(None, pl.Int64),
            file_name=pl.lit(f"{file_name or '<statements>'} (an earlier statement of this load)"),
        ),
        "same bank reference, earlier in this load",
    )


def _pair(lines: pl.DataFrame, stored_pool: pl.DataFrame) -> pl.DataFrame:
    """Each line with the stored line of the same facts and rank (file order against stored
    order), its columns suffixed _s; null when the stored day has fewer such lines."""
    stored_side = (
        stored_pool.sort("batch_id", "rid")
        .with_columns(rank=pl.int_range(pl.len()).over(_FACTS).cast(pl.UInt32) + 1)
        .select(
            *_FACTS, "rank", "transaction_id", "batch_id", "file_name",
            booking_date_s="booking_date", amount_cents_s="amount_cents",
            reference_s="reference",
        )
    )  # fmt: skip
    return lines.with_columns(rank=pl.col("seq").rank("ordinal").over(_FACTS)).join(
        stored_side, on=[*_FACTS, "rank"], how="left"
    )


def _day_proof(
    pool: pl.DataFrame, stored_pool: pl.DataFrame, continuing: pl.DataFrame
) -> pl.DataFrame:
    """Each pooled line with `decision` (new / known / unproven), `how`, and its stored line."""
    pool = pool.join(continuing, on="st_index", how="left").with_columns(
        pl.col("restates", "continues").fill_null(False)
    )
    # a. A statement already stored: each of its lines is one of the stored lines of its day.
    restated = (
        _pair(pool.filter("restates"), stored_pool)
        .filter(pl.col("transaction_id").is_not_null())
        .with_columns(
            decision=pl.lit("known"),
            how=pl.lit("statement already stored (same dates and balances)"),
        )
    )
    pool = pool.join(restated.select("seq"), on="seq", how="anti")
    stored_pool = stored_pool.join(restated.select("transaction_id"), on="transaction_id",
                                   how="anti")  # fmt: skip
    # b. A statement that opens where a stored one closed: its first day's lines are new.
    follows = pl.col("continues") & (pl.col("booking_date") == pl.col("st_from"))
    continued = pool.filter(follows).with_columns(
        decision=pl.lit("new"), how=pl.lit("continues a stored statement")
    )
    pool = pool.filter(~follows)
    # c. The rest of the day, compared as a whole with the stored day.
    counts = (
        pool.group_by(_FACTS)
        .len("n_in")
        .join(stored_pool.group_by(_FACTS).len("n_st"), on=_FACTS, how="full", coalesce=True)
        .join(pool.select(_DAY).unique(), on=_DAY, how="semi")
        .with_columns(pl.col("n_in", "n_st").fill_null(0))
    )
    partial = pl.col("source").is_in(PARTIAL_SOURCES)
    days = (
        counts.group_by(_DAY)
        .agg(
            stored=pl.col("n_st").sum() > 0,
            equal=(pl.col("n_in") == pl.col("n_st")).all(),
            superset=(pl.col("n_in") >= pl.col("n_st")).all(),
            subset=(pl.col("n_in") <= pl.col("n_st")).all(),
        )
        .join(stored_pool.group_by(_DAY).agg(stored_partial=partial.all()), on=_DAY, how="left")
        .join(pool.group_by(_DAY).agg(incoming_partial=partial.all()), on=_DAY)
        .with_columns(
            how=pl.when(~pl.col("stored"))
            .then(pl.lit("new"))
            .when(pl.col("equal"))
            .then(pl.lit("same day, same count and sum as a stored statement"))
            .when(pl.col("superset") & pl.col("stored_partial").fill_null(False))
            .then(pl.lit("stored from a partial report (intraday, feed) of this day"))
            .when(pl.col("subset") & pl.col("incoming_partial"))
            .then(pl.lit("partial report (intraday, feed) of a stored day"))
            .otherwise(pl.lit("unproven"))
        )
        .select(*_DAY, "how")
    )
    compared = (
        _pair(pool, stored_pool)
        .join(days, on=_DAY, how="left")
        .with_columns(
            decision=pl.when((pl.col("how") == "new") | pl.col("transaction_id").is_null())
            .then(pl.lit("new"))
            .when(pl.col("how") == "unproven")
            .then(pl.lit("unproven"))
            .otherwise(pl.lit("known"))
        )
    )
    return pl.concat([restated, continued, compared], how="diagonal_relaxed")


def _occurrence(new: pl.DataFrame, stored: pl.DataFrame | None) -> pl.DataFrame:
    """The fallback key's rank: after the stored rows with the same facts, then the file-order
    rank among the load's new lines with the same facts and no usable reference (ranked on
    those rows only: a window over every row cost more than the rest of the key)."""
    fallback = pl.col("identity_ref").is_null()
    occurrence = pl.repeat(1, new.height, dtype=pl.UInt32, eager=True)
    # candidates by hash, ranked exactly: a collision only ranks a unique line 1
    rows = new.select(pl.struct(_FACTS).hash().is_duplicated() & fallback).to_series().arg_true()
    if rows.len():
        ranks = new[rows].select(pl.col("seq").rank("ordinal").over(_FACTS))
        occurrence = occurrence.scatter(rows, ranks.to_series())
    new = new.with_columns(occurrence=occurrence)
    if stored is not None and stored.height:
        before = (
            stored.group_by(_FACTS).len("before").with_columns(pl.col("before").cast(pl.UInt32))
        )
        new = (
            new.join(before, on=_FACTS, how="left")
            .with_columns(occurrence=pl.col("occurrence") + pl.col("before").fill_null(0))
            .drop("before")
            .sort("seq")  # the pieces of identify(), back in file order
        )
    return new


# The key computed by DuckDB over the lines found new; the check before it says so if a key is
# taken already (it never should be: sql/005 has no index to refuse it).
_KEYED = """
SELECT substr(sha256(CASE WHEN identity_ref IS NOT NULL
                          THEN concat_ws('|', 'ref', account_iban, identity_ref)
                          ELSE concat_ws('|', account_iban, CAST(booking_date AS VARCHAR),
                                         currency, CAST(amount_cents AS VARCHAR),
                                         CAST(occurrence AS VARCHAR)) END), 1, 32)
           AS transaction_id, *
FROM _bank_staged
"""
_INSERT = f"""
INSERT INTO bank_transactions (
    transaction_id, account_iban, currency, booking_date, value_date, amount,
    counterparty_name, counterparty_iban, remittance_unstructured, remittance_structured,
    end_to_end_id, bank_reference, bank_tx_code, is_reversal, statement_id, entry_ref,
    detail_index, source, external_id, remittance_documents, identity_ref, batch_id, loaded_at)
SELECT transaction_id, account_iban, currency, booking_date, value_date,
       CAST(amount_cents * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(18, 2)),
       counterparty_name, counterparty_iban, remittance_unstructured, remittance_structured,
       end_to_end_id, bank_reference, bank_tx_code, is_reversal, statement_id, entry_ref,
       detail_index, source, external_id, remittance_documents, identity_ref, $batch_id,
       $loaded_at
FROM ({_KEYED}) k
"""
_TAKEN = f"""
SELECT k.transaction_id, k.account_iban, k.booking_date FROM ({_KEYED}) k
JOIN (SELECT transaction_id FROM bank_transactions WHERE list_contains($accounts, account_iban))
    USING (transaction_id) LIMIT 1
"""


def _insert(
    con: duckdb.DuckDBPyConnection,
    new: pl.DataFrame,
    batch_id: int,
    now: datetime,
    *,
    checked: bool,
) -> None:
    """Insert the lines found new, in one statement (a taken key refuses the load)."""
    con.register("_bank_staged", new.to_arrow())
    try:
        accounts = {"accounts": new.get_column("account_iban").unique().to_list()}
        if checked and (taken := first_row(con, _TAKEN, accounts)):
            raise BankLoadError(
                f"account {taken[1]} {taken[2]}: key {taken[0]} is taken by a stored line"
                " that was not recognised as this one; nothing loaded"
            )
        con.execute(_INSERT, {"batch_id": batch_id, "loaded_at": now})
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
        stored = _stored(con, staged) if staged.height else None
        continuing = _continuing(con, parsed) if stored is not None else _NO_STATEMENTS
        found = identify(staged, stored, continuing, file_name=file_name)
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
                " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
                " WHERE ? NOT IN (SELECT statement_id FROM bank_statements)",
                [
                    statement_id(st), batch_id, file_name, st.format, st.account_iban,
                    st.currency, st.statement_ref, st.from_date, st.to_date,
                    st.opening_balance, st.closing_balance, st.entry_count, difference, now,
                    statement_id(st),
                ],
            )  # fmt: skip
        if found.new.height:
            _insert(con, found.new, batch_id, now, checked=stored is not None)
        loaded = found.new.height
        known = found.known.with_columns(
            stored_batch_id=pl.col("stored_batch_id").fill_null(batch_id)
        )
        message = f"{len(parsed)} statements, {lines_in - loaded} already known"
        if found.unproven.height:
            message += f", {found.unproven.height} stored but possibly already known (check)"
        if found.conflicts.height:
            message += f", {found.conflicts.height} stored with a bank reference conflict (check)"
        con.execute(
            "UPDATE load_batches SET rows_loaded = ?, rows_unchanged = ?, finished_at = ?,"
            " message = ? WHERE batch_id = ?",
            [loaded, lines_in - loaded, datetime.now(), message, batch_id],
        )
    return BankLoadResult(
        batch_id, LoadStatus.LOADED, len(parsed), accounts, lines_in, loaded, lines_in - loaded,
        checks, file_name, sha256, known, found.unproven, found.conflicts,
    )  # fmt: skip
