"""Reconciliation and the warehouse: what a run reads, what it writes, and finance's decisions.

A run reads the transactions that have no allocation, no decision and no resolved exception (so
the open exceptions are looked at again: a new invoice or a learned payer may settle them), and
writes allocations (append, deterministic ids) and exceptions (upsert, untouched when unchanged)
in one transaction. The engine runs to a fixpoint, so a second run in a row writes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import polars as pl

from o2c.models.bounds import MAX_AMOUNT_CENTS
from o2c.models.schemas import (
    ALLOCATION,
    BANK_TRANSACTION,
    CUSTOMER,
    OPEN_ITEM,
    OPEN_ITEM_ORDER,
    PAYER_ALIAS,
)
from o2c.tasks.common.formatting import format_money
from o2c.tasks.dunning.payment_links import link_items, with_link_documents
from o2c.tasks.reconciliation import not_customer
from o2c.tasks.reconciliation.config import ReconciliationConfig
from o2c.tasks.reconciliation.engine import (
    CLOSED_ITEM,
    DECISION,
    ReconciliationResult,
    manual_allocations,
    reconcile,
)
from o2c.tasks.reconciliation.evidence import exception_evidence
from o2c.tasks.reconciliation.payers import normalize_iban, normalize_name
from o2c.tasks.reconciliation.reversals import ORIGIN_COLUMNS
from o2c.warehouse import transaction

_CENTS = "amount_to_cents({})"  # sql/022: exact for any DECIMAL(18,2), in 64 bits where it can
_DEC = "CAST({} * 0.01::DECIMAL(18,2) AS DECIMAL(18,2))"

# One anti-join against the ids already dealt with rather than three correlated NOT EXISTS:
# DuckDB plans the union once (about a third of the read of a million lines). NOT IN is the same
# test here because no id in the union is null (filtered, whatever the catalog enforces).
_PENDING = """
    SELECT t.* FROM bank_transactions t
    WHERE t.transaction_id NOT IN (
        SELECT transaction_id FROM allocations WHERE transaction_id IS NOT NULL
        UNION ALL
        SELECT transaction_id FROM reconciliation_decisions
        WHERE undone_at IS NULL AND transaction_id IS NOT NULL
        UNION ALL
        SELECT transaction_id FROM reconciliation_exceptions
        WHERE status = 'resolved' AND transaction_id IS NOT NULL
    )
"""


def _do(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> None:
    """Run a statement to completion (DuckDB 2 refuses new work while a result is unread)."""
    con.execute(sql, params or []).fetchall()


def _frame(con: duckdb.DuckDBPyConnection, sql: str, schema: dict, params=None) -> pl.DataFrame:
    rel = con.sql(sql, params=params) if params else con.sql(sql)
    got = pl.from_arrow(rel.to_arrow_table())
    if got.height == 0:
        return pl.DataFrame(schema=schema)
    return got.cast(schema)


def _transaction_columns(prefix: str = "") -> str:
    """BANK_TRANSACTION's columns (of the table aliased `prefix`), the amount in cents."""
    return ", ".join(
        _CENTS.format(f"{prefix}amount") + " AS amount_cents" if c == "amount_cents" else prefix + c
        for c in BANK_TRANSACTION
    )


def _open_item_columns(open_amount: str) -> str:
    """OPEN_ITEM's columns, in cents, with `open_amount` as what is still open on the item."""
    return f"""invoice_id, document_type, customer_id, legal_entity, issue_date, due_date,
               currency, {_CENTS.format("amount_total")} AS amount_total_cents,
               {_CENTS.format(open_amount)} AS amount_open_cents, reference"""


def read_inputs(
    con: duckdb.DuckDBPyConnection, currency: str | None = None
) -> dict[str, pl.DataFrame]:
    """The engine's inputs, money in cents; with `currency`, only that currency's lines and open
    items (a partition: a payment is only ever matched to items in its own currency)."""
    tx_cols = _transaction_columns("t.")
    only, params = ("WHERE currency = ?", [currency]) if currency else ("", None)
    # Read straight from the query: a temporary copy of the million rows cost more than it saved.
    transactions = _frame(
        con, f"SELECT {tx_cols} FROM ({_PENDING}) t {only}", BANK_TRANSACTION, params
    )
    # A transfer made through one of our reminders' payment links names that reminder's
    # invoices, with amounts, as if the payer had listed them itself.
    transactions = with_link_documents(transactions, link_items(con))
    # Everything open now, with no date limit: the open_items view over open_items_at (sql/008).
    open_items = _frame(
        con, f"SELECT {_open_item_columns('amount_open')} FROM open_items {only}", OPEN_ITEM, params
    )
    # The buyer's order numbers (OPEN_ITEM_ORDER), read apart: most invoices have none, and a
    # join of the million items would cost more than this scan of a mostly null column.
    orders = _frame(
        con,
        "SELECT invoice_id, po_number FROM invoices WHERE po_number IS NOT NULL",
        {"invoice_id": pl.String, **OPEN_ITEM_ORDER},
    )
    if orders.height:
        open_items = open_items.join(orders, on="invoice_id", how="left")
    customers = _frame(con, "SELECT customer_id, name, iban FROM customers", CUSTOMER)
    aliases = _frame(
        con, "SELECT customer_id, payer_iban, payer_name FROM customer_payer_aliases", PAYER_ALIAS
    )
    # Only the allocations a pending reversal could undo (opposite amount), and what undid them.
    reversed_cents = transactions.filter(pl.col("is_reversal")).select(
        amount_cents=-pl.col("amount_cents")
    )
    past = pl.DataFrame(schema={**ALLOCATION, **ORIGIN_COLUMNS})
    if reversed_cents.height:
        con.register("_reversed", reversed_cents.to_arrow())
        try:
            past = _frame(
                con,
                f"""
                WITH origin AS (
                    SELECT a.* FROM allocations a JOIN bank_transactions o USING (transaction_id)
                    WHERE {_CENTS.format("o.amount")} IN (SELECT amount_cents FROM _reversed)
                )
                SELECT a.allocation_id, a.transaction_id, a.invoice_id, a.customer_id,
                       {_CENTS.format("a.amount")} AS amount_cents, a.currency, a.kind, a.rule,
                       a.confidence, a.reverses_allocation_id,
                       {_CENTS.format("o.amount")} AS tx_amount_cents,
                       o.booking_date AS tx_booking_date,
                       o.counterparty_iban AS tx_counterparty_iban,
                       o.end_to_end_id AS tx_end_to_end_id,
                       o.remittance_unstructured AS tx_remittance_unstructured
                FROM allocations a JOIN bank_transactions o USING (transaction_id)
                WHERE a.allocation_id IN (SELECT allocation_id FROM origin)
                   OR a.reverses_allocation_id IN (SELECT allocation_id FROM origin)
                """,
                {**ALLOCATION, **ORIGIN_COLUMNS},
            )
        finally:
            con.unregister("_reversed")
    # No decisions: a transaction finance decided is not pending (_PENDING), its decision was
    # written as allocations when recorded (apply_decisions).
    # Documents settled before (the engine keeps those not open): a text writing one of their
    # numbers cites it, it is no slip for an open neighbour.
    closed = _frame(
        con,
        "SELECT invoice_id, customer_id FROM invoices WHERE invoice_id IN"
        " (SELECT invoice_id FROM allocations WHERE invoice_id IS NOT NULL)",
        CLOSED_ITEM,
    )
    return dict(
        transactions=transactions,
        open_items=open_items,
        customers=customers,
        aliases=aliases,
        past_allocations=past,
        closed_items=closed,
    )


def _count_with(
    con: duckdb.DuckDBPyConnection,
    name: str,
    rows: pl.DataFrame,
    sql: str,
    params: list | None = None,
) -> int:
    """The count a statement returns (rows updated, deleted...) that reads `rows` as `name`."""
    con.register(name, rows.to_arrow())
    count = con.execute(sql, params or []).fetchall()[0][0]
    con.unregister(name)
    return count


def _insert_allocations(
    con: duckdb.DuckDBPyConnection, allocations: pl.DataFrame, flow_run_id: str | None
) -> int:
    """Append the allocations whose id the warehouse does not hold yet; how many were new.

    The key is kept here, not by an index (sql/023): a batch holding one id twice is refused
    whole, and an id already stored is not written again (a re-run, a decision recorded twice)."""
    if allocations.height == 0:
        return 0
    ids = allocations["allocation_id"]
    # The ids' 64-bit hashes first (four times cheaper at a million); a collision is checked whole.
    if ids.hash().is_duplicated().any():
        twice = ids.filter(ids.is_duplicated()).unique().sort()
        if twice.len():
            raise ValueError(
                f"allocations: {twice.len()} allocation id(s) twice in one write,"
                f" first {twice[0]!r}; nothing written"
            )
    con.register("_alloc", allocations.to_arrow())
    try:
        return con.execute(
            f"""INSERT INTO allocations
                SELECT x.allocation_id, x.transaction_id, x.invoice_id, x.customer_id,
                       {_DEC.format("x.amount_cents")}, x.currency, x.kind, x.rule,
                       x.confidence, x.reverses_allocation_id, ?, ?
                FROM _alloc x
                WHERE NOT EXISTS (SELECT 1 FROM allocations a
                                  WHERE a.allocation_id = x.allocation_id)""",
            [flow_run_id, datetime.now()],
        ).fetchall()[0][0]
    finally:
        con.unregister("_alloc")


def write_result(
    con: duckdb.DuckDBPyConnection, result: ReconciliationResult, *, flow_run_id: str | None
) -> dict[str, int]:
    """Append allocations, upsert exceptions, resolve those now settled: one transaction."""
    now = datetime.now()
    with transaction(con):
        inserted = _insert_allocations(con, result.allocations, flow_run_id)
        # No open exception, nothing to resolve: the million settled ids need not be shipped.
        open_exceptions = con.execute(
            "SELECT count(*) FROM reconciliation_exceptions WHERE status = 'open'"
        ).fetchall()[0][0]
        resolved = 0
        if open_exceptions:
            settled = result.allocations.select("transaction_id").unique()
            resolved = _count_with(
                con,
                "_settled",
                settled,
                """UPDATE reconciliation_exceptions SET status = 'resolved', resolved_at = ?
                   WHERE status = 'open'
                     AND transaction_id IN (SELECT transaction_id FROM _settled)""",
                [now],
            )
        # Debits now known to be nobody's payment lose the exception an earlier run gave them.
        withdrawn = 0
        if result.not_customer_debits.height:
            withdrawn = _count_with(
                con,
                "_debits",
                result.not_customer_debits,
                """DELETE FROM reconciliation_exceptions WHERE status = 'open'
                   AND transaction_id IN (SELECT transaction_id FROM _debits)""",
            )
        changed = 0
        if result.exceptions.height:
            con.register("_exc", result.exceptions.to_arrow())
            changed = con.execute(
                """SELECT count(*) FROM _exc x LEFT JOIN reconciliation_exceptions e
                   USING (transaction_id)
                   WHERE e.transaction_id IS NULL OR e.status <> 'open'
                      OR e.reason <> x.reason OR e.candidates IS DISTINCT FROM x.candidates"""
            ).fetchall()[0][0]
            _do(  # an exception that changed is reopened with its new reason; a new one added
                con,
                """UPDATE reconciliation_exceptions AS e SET
                       reason = x.reason, candidates = x.candidates, status = 'open',
                       flow_run_id = ?, resolved_at = NULL
                   FROM _exc x
                   WHERE e.transaction_id = x.transaction_id
                     AND (e.reason <> x.reason OR e.candidates IS DISTINCT FROM x.candidates
                          OR e.status <> 'open')""",
                [flow_run_id],
            )
            _do(
                con,
                """INSERT INTO reconciliation_exceptions
                   SELECT transaction_id, reason, candidates, 'open', ?, ?, NULL FROM _exc
                   WHERE transaction_id NOT IN
                         (SELECT transaction_id FROM reconciliation_exceptions)""",
                [flow_run_id, now],
            )
            con.unregister("_exc")
    return {
        "allocations_written": inserted,
        "exceptions_resolved": resolved,
        "exceptions_changed": changed,
        "exceptions_withdrawn": withdrawn,
    }


def reconcile_warehouse(
    con: duckdb.DuckDBPyConnection,
    *,
    flow_run_id: str | None = None,
    config: ReconciliationConfig | None = None,
) -> ReconciliationResult:
    """Read, set aside what is not a customer payment (not_customer.py), reconcile, write.
    ``stats`` also says what was actually written and what was left alone."""
    result = plan(con, config=config)
    result.stats.update(write_result(con, result, flow_run_id=flow_run_id))
    return result


def pending_currencies(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The currencies of the lines waiting for reconciliation: the partitions of a run."""
    rows = con.execute(f"SELECT DISTINCT currency FROM ({_PENDING}) t ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def plan(
    con: duckdb.DuckDBPyConnection,
    *,
    currency: str | None = None,
    config: ReconciliationConfig | None = None,
) -> ReconciliationResult:
    """What a run would write (nothing written): read only, so partitions plan side by side and
    then write one at a time. Partitions by currency are disjoint (no item reachable from two),
    so one partition's write never makes another's plan stale."""
    inputs = read_inputs(con, currency)
    inputs["transactions"], left = not_customer.set_aside(
        inputs["transactions"], not_customer.remembered_keys(con), not_customer.load_codes()
    )
    result = with_evidence(reconcile(**inputs, config=config), inputs, config)
    result.stats["transactions"] = int(result.stats.get("transactions", 0)) + left.height
    result.stats.update(not_customer.left_alone_stats(left))
    result.stats["by_rule_currency"] = by_rule_and_currency(result.allocations)
    if left.height:
        # An exception an earlier run gave a line now left alone is withdrawn.
        result.not_customer_debits = pl.concat(
            [result.not_customer_debits.select("transaction_id"), left.select("transaction_id")]
        )
    return result


def by_rule_and_currency(allocations: pl.DataFrame) -> list[dict]:
    """What each rule allocated, one row per rule and currency (never two currencies added):
    rule, currency, transactions, amount_cents."""
    if allocations.height == 0:
        return []
    return (
        allocations.group_by("rule", "currency")
        .agg(
            transactions=pl.col("transaction_id").n_unique(),
            amount_cents=pl.col("amount_cents").sum(),
        )
        .sort("currency", "rule")
        .to_dicts()
    )


def with_evidence(
    result: ReconciliationResult,
    inputs: dict[str, pl.DataFrame],
    config: ReconciliationConfig | None = None,
) -> ReconciliationResult:
    """The result with each exception's candidates and what points to each (what finance clicks)."""
    result.exceptions = exception_evidence(
        result.exceptions,
        inputs["transactions"],
        inputs["open_items"],
        inputs["customers"],
        inputs["aliases"],
        allocations=result.allocations,
        config=config,
    )
    return result


# --------------------------------------------------------------------------------------------
# Finance's decisions
# --------------------------------------------------------------------------------------------

DECISION_CSV_COLUMNS = ("transaction_id", "invoice_id", "amount", "note")
_AMOUNT = re.compile(r"^-?\d+(?:[.,]\d{1,2})?$")
# "candidate 2" (or "candidat 2", "cand. #2") in the invoice_id field: the exception's second
# candidate as the artifact numbers them, from 1.
_CANDIDATE = re.compile(
    r"^\s*cand(?:idate?)?\.?\s*(?:n[o°]?\.?\s*)?#?\s*(-?\d+)\s*$", re.IGNORECASE
)


def candidate_number(invoice_id: str | None) -> int | None:
    """N when the invoice_id field says "candidate N", else None."""
    match = _CANDIDATE.match(invoice_id or "")
    return int(match.group(1)) if match else None


def _candidates_of(con: duckdb.DuckDBPyConnection, transaction_ids: list[str]) -> dict[str, list]:
    """The candidates each open exception shows finance, in their order."""
    if not transaction_ids:
        return {}
    found = con.execute(
        """SELECT transaction_id, candidates FROM reconciliation_exceptions
           WHERE status = 'open' AND list_contains(?, transaction_id)""",
        [transaction_ids],
    ).fetchall()
    return {tx: json.loads(raw or "[]") for tx, raw in found}


def _candidate_rows(r: dict, listed: list | None, source: str) -> list[dict]:
    """A row whose invoice_id says "candidate N" as that candidate's invoices and amounts (one
    row per invoice, the same line); refused naming the line and field when N is not one of the
    transaction's candidates."""
    n = candidate_number(r["invoice_id"])
    if n is None:
        return [r]
    where = f"decisions ({source}) line {r['line']}: invoice_id {r['invoice_id']!r}"
    if listed is None:
        raise ValueError(
            f"{where}: transaction {r['transaction_id']!r} has no open exception to pick a"
            " candidate from; give the invoice_id"
        )
    if not 1 <= n <= len(listed):
        have = f"candidates 1 to {len(listed)}" if listed else "no candidate"
        raise ValueError(f"{where}: transaction {r['transaction_id']!r} has {have}")
    chosen = listed[n - 1]
    invoices = chosen.get("invoice_ids") or []
    if not invoices or any(i.startswith("customer:") for i in invoices):
        raise ValueError(
            f"{where}: candidate {n} names a customer ({', '.join(invoices)}), not"
            " invoices; give the invoice_id"
        )
    amounts = chosen.get("amounts_cents") or [None] * len(invoices)
    if r["amount_cents"] is not None:
        if len(invoices) > 1:
            raise ValueError(
                f"{where}: candidate {n} settles {len(invoices)} invoices with their own"
                " amounts; leave amount empty or give the invoices one by one"
            )
        amounts = [r["amount_cents"]]
    # An invoice the payment does not reach (a set paid in part) gets no allocation of 0.
    chosen_rows = [
        {**r, "invoice_id": invoice_id, "amount_cents": cents}
        for invoice_id, cents in zip(invoices, amounts, strict=True)
    ]
    return [c for c in chosen_rows if c["amount_cents"] != 0] or chosen_rows[:1]


def read_decisions_csv(path: str | Path) -> pl.DataFrame:
    """finance's CSV (transaction_id, invoice_id, amount, note; ',' or ';'), all as text, with
    each row's line in the file. invoice_id may say "candidate N" (apply_decisions resolves it)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    dialect = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    rows = list(csv.DictReader(io.StringIO(text), delimiter=dialect))
    header = [h.strip() for h in (rows[0].keys() if rows else text.splitlines()[0].split(dialect))]
    missing = [c for c in DECISION_CSV_COLUMNS[:3] if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    return pl.DataFrame(
        [{c: (r.get(c) or "").strip() or None for c in DECISION_CSV_COLUMNS} for r in rows],
        schema={c: pl.String for c in DECISION_CSV_COLUMNS},
    ).with_columns(line=pl.int_range(2, pl.len() + 2))


def _to_cents(value: object, where: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    else:
        text = str(value).strip().replace(" ", "").replace("\u00a0", "")
        if not _AMOUNT.match(text):
            raise ValueError(f"{where}: amount {value!r} is not a decimal with 2 places at most")
        try:
            amount = Decimal(text.replace(",", "."))
        except InvalidOperation as exc:  # pragma: no cover - the regex already guards
            raise ValueError(f"{where}: amount {value!r} is not a number") from exc
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{where}: amount {value!r} has more than 2 decimals")
    if abs(cents) > MAX_AMOUNT_CENTS:  # beyond it, Int64 cents and DECIMAL(18,2) overflow
        raise ValueError(f"{where}: amount {value!r} is beyond the bound of models/bounds.py")
    return int(cents)


# "undo" (or "annuler") in the invoice_id field: this transaction's counterparty is a customer
# after all; forget "not a customer payment" for it (not_customer.forget).
_UNDO = re.compile(r"^\s*(?:undo|annuler)\s*$", re.IGNORECASE)


def _refuse(refused: dict[int, str], line: int, reason: str) -> None:
    refused.setdefault(line, reason)


def _check_lines(
    con: duckdb.DuckDBPyConnection, rows: list[dict], source: str, refused: dict[int, str]
) -> list[dict]:
    """The rows (candidates resolved) whose line the warehouse accepts; each refused line's
    reason goes to ``refused`` (line -> reason). A transaction is decided whole: when one line
    of a split is refused, its other lines are too."""
    known = _candidates_of(
        con,
        sorted(
            {r["transaction_id"] for r in rows if candidate_number(r["invoice_id"]) is not None}
        ),
    )
    resolved = []
    for r in rows:
        try:
            resolved += _candidate_rows(r, known.get(r["transaction_id"]), source)
        except ValueError as why:
            _refuse(refused, r["line"], str(why))
    schema = {**DECISION, "line": pl.Int64, "i": pl.Int64}
    numbered = [{**r, "i": i} for i, r in enumerate(resolved)]
    frame = pl.DataFrame(numbered, schema=schema, orient="row")
    con.register("_dec", frame.to_arrow())
    try:
        checked = con.execute(
            f"""SELECT d.line, d.transaction_id, d.invoice_id,
                      t.transaction_id IS NULL AS no_tx,
                      d.invoice_id IS NOT NULL AND i.invoice_id IS NULL AS no_invoice,
                      EXISTS (SELECT 1 FROM allocations a
                              WHERE a.transaction_id = d.transaction_id) AS allocated,
                      EXISTS (SELECT 1 FROM reconciliation_decisions r
                              WHERE r.transaction_id = d.transaction_id
                                AND r.undone_at IS NULL) AS decided,
                      COALESCE(d.amount_cents, {_CENTS.format("o.amount_open")}) AS cents,
                      {_CENTS.format("t.amount")} AS tx_cents, t.currency, i.currency
               FROM _dec d
               LEFT JOIN bank_transactions t USING (transaction_id)
               LEFT JOIN invoices i ON i.invoice_id = d.invoice_id
               LEFT JOIN open_items o ON o.invoice_id = d.invoice_id
               ORDER BY d.i"""
        ).fetchall()
    finally:
        con.unregister("_dec")
    out = []
    for checks, r in zip(checked, resolved, strict=True):
        line, tx_id, inv_id, no_tx, no_invoice, allocated, decided = checks[:7]
        cents, tx_cents, tx_cur, inv_cur = checks[7:]
        where = f"decisions ({source}) line {line}"
        if no_tx:
            _refuse(refused, line, f"{where}: unknown transaction_id {tx_id!r}")
        elif no_invoice:
            _refuse(refused, line, f"{where}: unknown invoice_id {inv_id!r}")
        elif allocated:
            _refuse(refused, line, f"{where}: transaction {tx_id!r} is already allocated")
        elif decided:
            _refuse(refused, line, f"{where}: transaction {tx_id!r} is already decided")
        elif inv_id is not None and cents is None:
            _refuse(refused, line, f"{where}: no amount given and nothing open on {inv_id!r}")
        elif inv_id is not None and inv_cur != tx_cur:
            _refuse(refused, line, f"{where}: invoice {inv_id!r} is in {inv_cur}, the payment"
                    f" in {tx_cur}")  # fmt: skip
        else:
            out.append({**r, "amount_cents": cents if inv_id is not None else r["amount_cents"],
                        "tx_cents": tx_cents})  # fmt: skip
    # Decided whole: a transaction allocating more than it brought, or both "not a customer
    # payment" and invoices, is refused on all its lines.
    by_tx: dict[str, list[dict]] = {}
    for r in out:
        by_tx.setdefault(r["transaction_id"], []).append(r)
    for tx_id, lines in by_tx.items():
        numbers = sorted({r["line"] for r in lines})
        what = f"decisions ({source}) line {', '.join(map(str, numbers))}"
        invoices = [r for r in lines if r["invoice_id"] is not None]
        given = sum(r["amount_cents"] for r in invoices)
        if invoices and len(invoices) < len(lines):
            reason = f"{what}: transaction {tx_id!r} is both a customer payment and not one"
        elif invoices and lines[0]["tx_cents"] > 0 and given > lines[0]["tx_cents"]:
            reason = (
                f"{what}: allocates {format_money(given)} to invoices, more than the payment of"
                f" {format_money(lines[0]['tx_cents'])}"
            )
        elif any(r["line"] in refused for r in _all_lines(rows, tx_id)):
            reason = f"{what}: another line of transaction {tx_id!r} was refused"
        else:
            continue
        for n in numbers:
            _refuse(refused, n, reason)
    return [r for r in out if r["line"] not in refused]


def _all_lines(rows: list[dict], tx_id: str) -> list[dict]:
    return [r for r in rows if r["transaction_id"] == tx_id]


def apply_decisions(
    con: duckdb.DuckDBPyConnection,
    decisions: pl.DataFrame,
    source: str,
    *,
    decided_by: str | None = None,
    flow_run_id: str | None = None,
) -> dict[str, int]:
    """All or nothing: ``record_decisions`` when every line is accepted (its counts), else
    refused as a whole naming the first bad line, nothing written (for callers that want it)."""
    done = record_decisions(
        con, decisions, source, decided_by=decided_by, flow_run_id=flow_run_id, whole=True
    )
    return {k: done[k] for k in ("decisions", "allocations_written", "exceptions_resolved",
                                 "aliases_learned")}  # fmt: skip


def record_decisions(
    con: duckdb.DuckDBPyConnection,
    decisions: pl.DataFrame,
    source: str,
    *,
    decided_by: str | None = None,
    flow_run_id: str | None = None,
    whole: bool = False,
) -> dict:
    """Record finance's decisions line by line: the lines the warehouse accepts are applied
    (allocations with rule 'manual', exceptions resolved, the payer's IBAN and name learned for
    the customer of the invoice chosen, the counterparty of a "not a customer payment"
    remembered), the others are refused with their reason, and nothing typed is lost: every
    line comes back in ``lines`` with its outcome.

    ``decisions``: transaction_id, invoice_id (empty: not a customer payment; "candidate N":
    the N-th candidate of the transaction's open exception, its invoices and amounts; "undo":
    the transaction's counterparty is a customer after all), amount (Decimal or text; empty with
    an invoice: what is open on it), note, line. Several lines of one transaction split it.
    ``whole``: refuse everything, naming the first bad line, when any line is refused.
    """
    if "line" not in decisions.columns:
        decisions = decisions.with_columns(line=pl.int_range(1, pl.len() + 1))
    for col in ("transaction_id", "invoice_id", "amount"):
        if col not in decisions.columns:
            raise ValueError(f"decisions ({source}): missing column {col!r}")
    if "note" not in decisions.columns:
        decisions = decisions.with_columns(note=pl.lit(None, pl.String))
    typed = list(decisions.iter_rows(named=True))
    refused: dict[int, str] = {}
    rows, undo = [], []
    for r in typed:
        where = f"decisions ({source}) line {r['line']}"
        tx_id = str(r["transaction_id"] or "").strip()
        invoice_id = str(r["invoice_id"] or "").strip() or None
        if not tx_id:
            _refuse(refused, r["line"], f"{where}: transaction_id is empty")
            continue
        if r.get("problem"):  # the form's answer said nothing that can be applied
            _refuse(refused, r["line"], r["problem"])
            continue
        if invoice_id and _UNDO.match(invoice_id):
            undo.append((r["line"], tx_id))
            continue
        try:
            cents = _to_cents(r["amount"], where)
        except ValueError as why:
            _refuse(refused, r["line"], str(why))
            continue
        rows.append(
            {"transaction_id": tx_id, "invoice_id": invoice_id, "amount_cents": cents,
             "note": r["note"], "line": r["line"]}
        )  # fmt: skip
    accepted = _check_lines(con, rows, source, refused)
    if whole and refused:
        # The first line refused for itself, not for sharing a transaction with it.
        first = min(refused, key=lambda n: ("another line of" in refused[n], n))
        raise ValueError(refused[first])
    frame = (
        pl.DataFrame(accepted, orient="row").select(*DECISION).cast(DECISION)
        if accepted
        else pl.DataFrame(schema=DECISION)
    )
    inputs = read_inputs_for(con, frame["transaction_id"].unique().to_list())
    allocations = manual_allocations(frame, inputs["transactions"], inputs["open_items"])
    now = datetime.now()
    written = resolved = learned = remembered = 0
    forgotten: dict[str, list[str]] = {"forgotten": [], "unknown": []}
    with transaction(con):
        if undo:
            forgotten = not_customer.forget(con, [t for _, t in undo], by=decided_by, now=now)
            for line, tx_id in undo:
                if tx_id in forgotten["unknown"]:
                    why = f"transaction {tx_id!r} has no counterparty remembered as not a customer"
                    _refuse(refused, line, f"decisions ({source}) line {line}: {why}")
        if frame.height:
            con.register("_dec", frame.to_arrow())
            _do(
                con,
                f"""INSERT INTO reconciliation_decisions
                    SELECT transaction_id, invoice_id, {_DEC.format("amount_cents")}, ?, ?, note,
                           ?, NULL
                    FROM _dec""",
                [decided_by, source, now],
            )
            written = _insert_allocations(con, allocations, flow_run_id)
            resolved = con.execute(
                """UPDATE reconciliation_exceptions SET status = 'resolved', resolved_at = ?
                   WHERE status = 'open'
                     AND transaction_id IN (SELECT transaction_id FROM _dec)""",
                [now],
            ).fetchall()[0][0]
            learned = _learn_payers(con, now)
            con.unregister("_dec")
            remembered = not_customer.remember(
                con,
                frame.filter(pl.col("invoice_id").is_null())["transaction_id"].to_list(),
                decided_by=decided_by,
                source=source,
                now=now,
            )
    return {
        "decisions": frame["transaction_id"].n_unique(),
        "allocations_written": written,
        "exceptions_resolved": resolved,
        "aliases_learned": learned,
        "not_customer_remembered": remembered,
        "not_customer_forgotten": len(forgotten["forgotten"]),
        "refused": len(refused),
        "lines": _outcomes(typed, refused),
    }


def _outcomes(typed: list[dict], refused: dict[int, str]) -> list[dict]:
    """Each line as typed with its outcome: applied, or refused and why."""
    return [
        {
            "line": r["line"],
            "transaction_id": r["transaction_id"],
            "invoice_id": r["invoice_id"],
            "amount": None if r["amount"] is None else str(r["amount"]),
            "note": r["note"],
            "outcome": "refused" if r["line"] in refused else "applied",
            "reason": refused.get(r["line"]),
        }
        for r in typed
    ]


def payer_aliases_to_learn(
    decided: pl.DataFrame, customers: pl.DataFrame, aliases: pl.DataFrame
) -> pl.DataFrame:
    """What confirmed decisions teach (customer_id, payer_iban, payer_name, learned_from): the
    payer's IBAN, else its normalised name (legal forms, accents and punctuation dropped), as an
    alias of the customer it paid for; nothing already known (the customer's own IBAN or an
    alias), nor a name too short to tell anyone apart.

    ``decided``: transaction_id, customer_id, counterparty_iban, counterparty_name."""
    iban = normalize_iban(pl.col("counterparty_iban"))
    name = normalize_name(pl.col("counterparty_name"))
    learned = decided.select(
        "customer_id",
        payer_iban=pl.when(iban.str.len_chars() > 0).then(iban),
        payer_name=pl.when(iban.fill_null("").str.len_chars() == 0).then(name),
        learned_from="transaction_id",
    ).filter(pl.col("payer_iban").is_not_null() | (pl.col("payer_name").str.len_chars() >= 3))
    known = pl.concat(
        [
            customers.select(
                "customer_id",
                payer_iban=normalize_iban(pl.col("iban")),
                payer_name=pl.lit(None, pl.String),
            ),
            aliases.select(
                "customer_id",
                payer_iban=pl.when(normalize_iban(pl.col("payer_iban")).str.len_chars() > 0).then(
                    normalize_iban(pl.col("payer_iban"))
                ),
                payer_name=normalize_name(pl.col("payer_name")),
            ),
        ]
    ).cast(pl.String)
    by_iban = known.filter(pl.col("payer_iban").is_not_null()).select("customer_id", "payer_iban")
    by_name = known.filter(pl.col("payer_name").is_not_null()).select("customer_id", "payer_name")
    return (
        learned.join(by_iban, on=["customer_id", "payer_iban"], how="anti")
        .join(by_name, on=["customer_id", "payer_name"], how="anti")
        .unique(["customer_id", "payer_iban", "payer_name"], keep="first", maintain_order=True)
        .sort("customer_id", "learned_from")
    )


def _learn_payers(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Record what the decisions in ``_dec`` teach about payers (payer_aliases_to_learn)."""
    decided = _frame(
        con,
        """SELECT DISTINCT d.transaction_id, i.customer_id, t.counterparty_iban,
                  t.counterparty_name
           FROM _dec d JOIN bank_transactions t USING (transaction_id)
           JOIN invoices i ON i.invoice_id = d.invoice_id""",
        {
            "transaction_id": pl.String,
            "customer_id": pl.String,
            "counterparty_iban": pl.String,
            "counterparty_name": pl.String,
        },
    )
    customers = _frame(con, "SELECT customer_id, name, iban FROM customers", CUSTOMER)
    aliases = _frame(
        con, "SELECT customer_id, payer_iban, payer_name FROM customer_payer_aliases", PAYER_ALIAS
    )
    learned = payer_aliases_to_learn(decided, customers, aliases)
    if learned.height == 0:
        return 0
    con.register("_learned", learned.to_arrow())
    try:
        _do(
            con,
            """INSERT INTO customer_payer_aliases
               SELECT customer_id, payer_iban, payer_name, learned_from, ? FROM _learned""",
            [now],
        )
    finally:
        con.unregister("_learned")
    return learned.height


def read_inputs_for(
    con: duckdb.DuckDBPyConnection, transaction_ids: list[str]
) -> dict[str, pl.DataFrame]:
    """The transactions named and the invoices (whose customer a decision's allocation carries)."""
    transactions = _frame(
        con,
        f"SELECT {_transaction_columns()} FROM bank_transactions"
        " WHERE list_contains(?, transaction_id)",
        BANK_TRANSACTION,
        [transaction_ids],
    )
    invoices = _frame(con, f"SELECT {_open_item_columns('amount_total')} FROM invoices", OPEN_ITEM)
    return {"transactions": transactions, "open_items": invoices}


def merge_stats(parts: list[dict]) -> dict:
    """One run's stats from its partitions': counts add up, per-key tables merge, lists join
    (sorted again where they are by currency and rule)."""
    merged: dict = {}
    for part in parts:
        _merge_into(merged, part)
    if "by_rule_currency" in merged:
        merged["by_rule_currency"].sort(key=lambda r: (r["currency"], r["rule"]))
    return merged


def _merge_into(into: dict, part: dict) -> None:
    for key, value in part.items():
        have = into.get(key)
        if isinstance(value, bool) or have is None:
            into[key] = (
                dict(value) if isinstance(value, dict) else list(value)
                if isinstance(value, list) else value
            )  # fmt: skip
        elif isinstance(value, dict) and isinstance(have, dict):
            _merge_into(have, value)
        elif isinstance(value, list) and isinstance(have, list):
            have.extend(value)
        elif isinstance(value, int | float) and isinstance(have, int | float):
            into[key] = have + value
        else:
            into[key] = value


def partition_stamp(con: duckdb.DuckDBPyConnection, currency: str) -> tuple:
    """What a partition's plan was read against: its currency's allocations, decisions and
    resolved exceptions. Another run's write in between changes it; this run's other
    currencies do not."""
    row = con.execute(
        """SELECT (SELECT count(*) FROM allocations WHERE currency = $c),
                  (SELECT max(created_at) FROM allocations WHERE currency = $c),
                  (SELECT count(*) FROM reconciliation_decisions d JOIN bank_transactions t
                   USING (transaction_id) WHERE t.currency = $c),
                  (SELECT count(*) FROM reconciliation_exceptions e JOIN bank_transactions t
                   USING (transaction_id) WHERE e.status = 'resolved' AND t.currency = $c)""",
        {"c": currency},
    ).fetchall()[0]
    return tuple(row)


def write_planned(
    con: duckdb.DuckDBPyConnection,
    currency: str,
    stamp: tuple,
    result: ReconciliationResult,
    *,
    flow_run_id: str | None,
) -> ReconciliationResult:
    """Write a plan made outside the writer, inside it: if another run wrote this currency's
    allocations or a decision meanwhile, the plan may be stale, so it is made again here."""
    with transaction(con):
        if partition_stamp(con, currency) != stamp:
            result = plan(con, currency=currency)
        result.stats.update(write_result(con, result, flow_run_id=flow_run_id))
    return result
