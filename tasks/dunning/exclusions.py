"""Dunning exclusions: who or what is not chased, why, by whose decision, until when.

Set from the CLI, from a file, or by the approval form (`add_exclusion`); read by the plan
(`active_exclusions`). Each is a fact in the warehouse (sql/013) written with its audit row in
the same transaction; none is deleted or rewritten: ending one early is a new fact
(`end_exclusion`), and one whose `until` has passed stops applying by itself (a promise to pay
resumes dunning the day after the promised date). The kinds a person sets:
- dispute: one invoice, until a date;
- payment_plan: the customer (or one invoice) is not chased, only its missed instalments are
  (`missed_instalments`); until the last instalment unless said otherwise;
- promise_to_pay: the customer (or one invoice), until the promised date;
- opt_out: the customer is never dunned automatically, until a date or for good.
"Balance under threshold" and "net credit" are computed by the plan each day, never stored.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import polars as pl

from o2c.models.bounds import CONTROL_CHARACTERS_STRICT
from o2c.models.dunning import (
    ACTIVE_EXCLUSION,
    EXCLUSION_ROW,
    MISSED_INSTALMENT,
    AuditEvent,
    ExclusionKind,
)
from o2c.tasks.dunning import audit
from o2c.tasks.dunning.instalments import INSTALMENT, instalments_due
from o2c.warehouse import first_row, next_number, scalar, transaction

# The kinds a person sets; the plan computes the others.
SETTABLE = (
    ExclusionKind.DISPUTE,
    ExclusionKind.PAYMENT_PLAN,
    ExclusionKind.PROMISE_TO_PAY,
    ExclusionKind.OPT_OUT,
)
_CONTROL = re.compile(CONTROL_CHARACTERS_STRICT)
_AMOUNT = re.compile(r"^\d+(?:[.,]\d{1,2})?$")


class ExclusionError(ValueError):
    """An exclusion that cannot be recorded; the message names the field (and the file line)."""


@dataclass(frozen=True)
class Instalment:
    due_date: date
    amount_cents: int


@dataclass(frozen=True)
class Exclusion:
    """One exclusion as asked for (by the CLI, a file line or the approval form)."""

    customer_id: str
    kind: ExclusionKind
    reason: str
    by: str
    until: date | None = None
    invoice_id: str | None = None
    instalments: tuple[Instalment, ...] = ()
    currency: str | None = None  # of the instalments; default the customer's open items'
    starts_on: date | None = None  # default: today


def parse_instalment(text: str) -> Instalment:
    """'2026-05-31:1500.00' (or 1500,00) -> an Instalment; the error says what is wrong."""
    day, sep, amount = text.strip().partition(":")
    if not sep:
        raise ExclusionError(f"instalment {text!r}: write it DATE:AMOUNT, e.g. 2026-05-31:1500.00")
    try:
        due = date.fromisoformat(day.strip())
    except ValueError:
        raise ExclusionError(f"instalment {text!r}: {day.strip()!r} is not a date") from None
    amount = amount.strip().replace(" ", "").replace("\u202f", "")
    if not _AMOUNT.match(amount):
        raise ExclusionError(f"instalment {text!r}: {amount!r} is not an amount like 1500.00")
    try:
        cents = int(Decimal(amount.replace(",", ".")) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only numbers
        raise ExclusionError(f"instalment {text!r}: {amount!r} is not an amount") from None
    if cents <= 0:
        raise ExclusionError(f"instalment {text!r}: the amount must be positive")
    return Instalment(due, cents)


def _text(value: str | None, name: str, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ExclusionError(f"{name} is required")
        return None
    if _CONTROL.search(text):
        raise ExclusionError(f"{name} holds a control character")
    return text


def _checked(con: duckdb.DuckDBPyConnection, ask: Exclusion, today: date) -> Exclusion:
    """The request with its defaults filled in, or an error naming the field."""
    try:
        kind = ExclusionKind(ask.kind)
    except ValueError:
        kind = None
    if kind not in SETTABLE:
        names = ", ".join(k.value for k in SETTABLE)
        raise ExclusionError(
            f"kind {str(ask.kind)!r}: use one of {names} (below_threshold and net_credit are"
            " computed by the plan)"
        )
    customer = _text(ask.customer_id, "customer", required=True)
    invoice = _text(ask.invoice_id, "invoice", required=False)
    reason = _text(ask.reason, "reason", required=True)
    by = _text(ask.by, "by", required=True)
    if scalar(con, "SELECT count(*) FROM customers WHERE customer_id = ?", [customer]) == 0:
        raise ExclusionError(f"customer {customer!r} is not in the warehouse")
    if invoice is not None:
        owner = scalar(con, "SELECT customer_id FROM invoices WHERE invoice_id = ?", [invoice])
        if owner is None:
            raise ExclusionError(f"invoice {invoice!r} is not in the warehouse")
        if owner != customer:
            raise ExclusionError(f"invoice {invoice!r} is customer {owner!r}'s, not {customer!r}'s")
    if kind == ExclusionKind.DISPUTE and invoice is None:
        raise ExclusionError("a dispute is about one invoice: give the invoice")
    instalments = tuple(sorted(ask.instalments, key=lambda i: i.due_date))
    if kind == ExclusionKind.PAYMENT_PLAN and not instalments:
        raise ExclusionError("a payment plan needs its instalments (DATE:AMOUNT)")
    if kind != ExclusionKind.PAYMENT_PLAN and instalments:
        raise ExclusionError("instalments belong to a payment plan only")
    if len({i.due_date for i in instalments}) != len(instalments):
        raise ExclusionError("two instalments fall on the same day")
    starts_on = ask.starts_on or today
    until = ask.until or (instalments[-1].due_date if instalments else None)
    if until is None and kind != ExclusionKind.OPT_OUT:
        raise ExclusionError(
            f"until is required for {kind.value} (only an opt-out may have no end)"
        )
    if until is not None and until < starts_on:
        raise ExclusionError(f"until {until} is before the exclusion starts ({starts_on})")
    if instalments and until is not None and until < instalments[-1].due_date:
        raise ExclusionError(f"until {until} is before the last instalment")
    currency = None
    if kind == ExclusionKind.PAYMENT_PLAN:
        currency = (ask.currency or "").strip().upper() or _customer_currency(con, customer)
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise ExclusionError(f"currency {currency!r} is not an ISO 4217 code")
    return Exclusion(customer, kind, reason, by, until, invoice, instalments, currency, starts_on)


def _customer_currency(con: duckdb.DuckDBPyConnection, customer_id: str) -> str:
    """The currency most of the customer's invoices are in (EUR when it has none)."""
    found = scalar(
        con,
        "SELECT currency FROM invoices WHERE customer_id = ? GROUP BY currency"
        " ORDER BY count(*) DESC, currency LIMIT 1",
        [customer_id],
    )
    return found or "EUR"


def _same_in_force(con: duckdb.DuckDBPyConnection, ex: Exclusion) -> int | None:
    """An exclusion saying the same, not ended: asking twice (a file loaded again) adds nothing."""
    row = first_row(
        con,
        """SELECT e.exclusion_id FROM dunning_exclusions e
        LEFT JOIN dunning_exclusion_ends x USING (exclusion_id)
        WHERE x.exclusion_id IS NULL AND e.customer_id = ? AND e.invoice_id IS NOT DISTINCT FROM ?
          AND e.kind = ? AND e.until IS NOT DISTINCT FROM ? AND e.reason = ?
        ORDER BY e.exclusion_id LIMIT 1""",
        [ex.customer_id, ex.invoice_id, ex.kind.value, ex.until, ex.reason],
    )
    return int(row[0]) if row else None


def _insert(
    con: duckdb.DuckDBPyConnection, ex: Exclusion, origin: str, flow_run_id: str | None
) -> int:
    exclusion_id = next_number(con, "dunning_exclusion")
    con.execute(
        "INSERT INTO dunning_exclusions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            exclusion_id,
            ex.customer_id,
            ex.invoice_id,
            ex.kind.value,
            ex.starts_on,
            ex.until,
            ex.currency,
            ex.reason,
            ex.by,
            origin,
            datetime.now(),
        ],
    )
    if ex.instalments:
        con.executemany(
            "INSERT INTO dunning_instalments VALUES (?, ?, ?, ?)",
            [
                [exclusion_id, seq, i.due_date, i.amount_cents]
                for seq, i in enumerate(ex.instalments, start=1)
            ],
        )
    payload = {
        "action": "add",
        "exclusion_id": exclusion_id,
        "customer_id": ex.customer_id,
        "invoice_id": ex.invoice_id,
        "kind": ex.kind.value,
        "starts_on": ex.starts_on.isoformat(),
        "until": ex.until.isoformat() if ex.until else None,
        "reason": ex.reason,
        "by": ex.by,
        "origin": origin,
    }
    if ex.instalments:
        payload["currency"] = ex.currency
        payload["instalments"] = [
            {"due_date": i.due_date.isoformat(), "amount_cents": i.amount_cents}
            for i in ex.instalments
        ]
    audit.record(con, AuditEvent.EXCLUSION, ex.customer_id, payload, flow_run_id=flow_run_id)
    return exclusion_id


def add_exclusion(
    con: duckdb.DuckDBPyConnection,
    exclusion: Exclusion,
    *,
    origin: str = "api",
    flow_run_id: str | None = None,
    today: date | None = None,
) -> int:
    """Record one exclusion with its audit row, in one transaction; return its id.

    The approval form, the CLI and file loads all come here. The same exclusion asked for again
    while in force (same customer, invoice, kind, until and reason) returns the existing id and
    writes nothing. Raises ExclusionError naming the field that is wrong.
    """
    with transaction(con):
        checked = _checked(con, exclusion, today or date.today())
        existing = _same_in_force(con, checked)
        if existing is not None:
            return existing
        return _insert(con, checked, origin, flow_run_id)


def end_exclusion(
    con: duckdb.DuckDBPyConnection,
    exclusion_id: int,
    *,
    by: str,
    reason: str,
    on: date | None = None,
    flow_run_id: str | None = None,
) -> None:
    """End an exclusion from `on` (default today): a new fact, audited; the exclusion stays."""
    by_text = _text(by, "by", required=True)
    why = _text(reason, "reason", required=True)
    day = on or date.today()
    with transaction(con):
        row = first_row(
            con,
            "SELECT e.customer_id, x.ended_on FROM dunning_exclusions e"
            " LEFT JOIN dunning_exclusion_ends x USING (exclusion_id) WHERE e.exclusion_id = ?",
            [exclusion_id],
        )
        if row is None:
            raise ExclusionError(f"exclusion {exclusion_id} does not exist")
        if row[1] is not None:
            raise ExclusionError(f"exclusion {exclusion_id} was already ended on {row[1]}")
        con.execute(
            "INSERT INTO dunning_exclusion_ends VALUES (?, ?, ?, ?, ?)",
            [exclusion_id, day, by_text, why, datetime.now()],
        )
        audit.record(
            con,
            AuditEvent.EXCLUSION,
            row[0],
            {
                "action": "end",
                "exclusion_id": exclusion_id,
                "ended_on": day.isoformat(),
                "by": by_text,
                "reason": why,
            },
            flow_run_id=flow_run_id,
        )


_STATE = """
    CASE WHEN x.ended_on IS NOT NULL AND x.ended_on <= $as_of THEN 'ended'
         WHEN e.until IS NOT NULL AND e.until < $as_of THEN 'expired'
         WHEN e.starts_on > $as_of THEN 'future'
         ELSE 'active' END
"""


def list_exclusions(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """EXCLUSION_ROW of every exclusion ever recorded, with its state on `as_of`."""
    sql = f"""
        SELECT e.exclusion_id, e.customer_id, e.invoice_id, e.kind, e.starts_on, e.until,
               e.reason, e.created_by, e.origin, e.created_at, x.ended_on, x.ended_by,
               x.reason AS end_reason, {_STATE} AS state
        FROM dunning_exclusions e LEFT JOIN dunning_exclusion_ends x USING (exclusion_id)
        ORDER BY e.exclusion_id
    """
    return _frame(con, sql, {"as_of": as_of}, EXCLUSION_ROW)


def active_exclusions(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """ACTIVE_EXCLUSION rows in force on `as_of` (the plan's EXCLUSION, plus the fact's id)."""
    sql = f"""
        SELECT e.customer_id, e.invoice_id, e.kind, e.until, e.reason, e.exclusion_id
        FROM dunning_exclusions e LEFT JOIN dunning_exclusion_ends x USING (exclusion_id)
        WHERE {_STATE} = 'active'
        ORDER BY e.customer_id, e.invoice_id NULLS FIRST, e.exclusion_id
    """
    return _frame(con, sql, {"as_of": as_of}, ACTIVE_EXCLUSION)


def missed_instalments(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """MISSED_INSTALMENT rows: what each payment plan in force on `as_of` lets dunning chase.

    Payments toward a plan are the allocations dated from its start to `as_of` on the invoice
    it covers, or on any invoice of the customer for a plan over the whole account."""
    from o2c.tasks.aging import store as aging_store

    plans = _frame(
        con,
        f"""SELECT e.exclusion_id, e.customer_id, e.invoice_id, e.currency, e.starts_on
        FROM dunning_exclusions e LEFT JOIN dunning_exclusion_ends x USING (exclusion_id)
        WHERE e.kind = 'payment_plan' AND {_STATE} = 'active'""",
        {"as_of": as_of},
        {
            "exclusion_id": pl.Int64,
            "customer_id": pl.String,
            "invoice_id": pl.String,
            "currency": pl.String,
            "starts_on": pl.Date,
        },
    )
    if plans.is_empty():
        return pl.DataFrame(schema=MISSED_INSTALMENT)
    instalments = instalments_of(con, plans["exclusion_id"].to_list())
    owners = _frame(
        con,
        "SELECT invoice_id, customer_id FROM invoices WHERE list_contains($c, customer_id)",
        {"c": plans["customer_id"].unique().to_list()},
        {"invoice_id": pl.String, "customer_id": pl.String},
    )
    payments = aging_store.read_payments(con, as_of=as_of).join(owners, on="invoice_id")
    paid = (
        plans.join(payments, on="customer_id", suffix="_paid")
        .filter(
            (pl.col("pay_date") >= pl.col("starts_on"))
            & (pl.col("invoice_id").is_null() | (pl.col("invoice_id") == pl.col("invoice_id_paid")))
        )
        .group_by("exclusion_id")
        .agg(paid_cents=pl.col("amount_cents").sum())
    )
    due = instalments_due(instalments, paid, as_of)
    return (
        due.join(plans.drop("starts_on"), on="exclusion_id")
        .select(list(MISSED_INSTALMENT))
        .cast(MISSED_INSTALMENT)
        .sort("customer_id", "exclusion_id", "seq")
    )


# A file of exclusions: one per line, these columns (invoice_id, until, instalments, currency
# and by may be empty; `by` then comes from the command line).
FILE_COLUMNS = (
    "customer_id",
    "invoice_id",
    "kind",
    "until",
    "reason",
    "by",
    "instalments",
    "currency",
)
FILE_REQUIRED = ("customer_id", "kind", "reason")


@dataclass
class FileLoad:
    """What a file of exclusions did: the ids added, those already in force, or the errors."""

    added: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "file line N: field: why"


def _rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    return header, [(reader.line_num, row) for row in reader]


def _from_line(row: dict[str, str], by: str | None) -> Exclusion:
    def cell(name: str) -> str:
        value = row.get(name)
        return value.strip() if isinstance(value, str) else ""

    until_text = cell("until")
    try:
        until = date.fromisoformat(until_text) if until_text else None
    except ValueError:
        raise ExclusionError(f"until {until_text!r} is not a date like 2026-06-30") from None
    instalments = tuple(parse_instalment(t) for t in re.split(r"[\s|]+", cell("instalments")) if t)
    return Exclusion(
        customer_id=cell("customer_id"),
        kind=cell("kind").lower(),  # type: ignore[arg-type]  # checked in add_exclusion
        reason=cell("reason"),
        by=cell("by") or (by or ""),
        until=until,
        invoice_id=cell("invoice_id") or None,
        instalments=instalments,
        currency=cell("currency") or None,
    )


def load_exclusions_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    by: str | None = None,
    today: date | None = None,
    flow_run_id: str | None = None,
) -> FileLoad:
    """Record every line of a CSV of exclusions, all or nothing: one bad line and nothing is
    written, and `errors` names each bad line and what is wrong. Lines already in force are
    counted, not added again (the same file loaded twice adds nothing)."""
    path = Path(path)
    header, rows = _rows(path)
    missing = [c for c in FILE_REQUIRED if c not in header]
    if missing:
        return FileLoad(errors=[f"{path.name}: missing column(s) {', '.join(missing)}"])
    result = FileLoad()
    day = today or date.today()
    try:
        with transaction(con):
            for line, row in rows:
                try:
                    checked = _checked(con, _from_line(row, by), day)
                    existing = _same_in_force(con, checked)
                    if existing is not None:
                        result.already.append(existing)
                    else:
                        origin = f"file {path.name} line {line}"
                        result.added.append(_insert(con, checked, origin, flow_run_id))
                except ExclusionError as exc:
                    result.errors.append(f"{path.name} line {line}: {exc}")
            if result.errors:
                raise _Rollback
    except _Rollback:
        result.added.clear()
        result.already.clear()
    return result


class _Rollback(Exception):
    """Raised inside the file's transaction to undo its lines when one of them is wrong."""


def instalments_of(con: duckdb.DuckDBPyConnection, exclusion_ids: Sequence[int]) -> pl.DataFrame:
    """A payment plan's instalments as stored (exclusion_id, seq, due_date, amount_cents)."""
    return _frame(
        con,
        "SELECT exclusion_id, seq, due_date, amount_cents FROM dunning_instalments"
        " WHERE list_contains($ids, exclusion_id) ORDER BY exclusion_id, seq",
        {"ids": list(exclusion_ids)},
        INSTALMENT,
    )


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict, schema: dict) -> pl.DataFrame:
    return pl.DataFrame(con.execute(sql, params).fetchall(), schema=schema, orient="row")
