"""Benchmark: the dunning plan for 1 000 000 open invoices, beside the same plan as one SQL query.

The inputs are generated in memory first (not timed): 100 000 customers (a tenth of them key
accounts, a twentieth consumers, 2 % without an email address), EUR mostly with some USD, 5 %
credit notes and 1 % overpayment credits, a third of the invoices partly paid (their payments
feed the penalties), due dates from 60 days ahead to 200 days ago; an outbox history of the
levels already sent for a quarter of the overdue invoices; disputes on 1 % of the invoices,
opt-outs and promises to pay on 1 % of the customers. The shipped policy (business days with
French holidays, two segments) plans them.

Timed: `plan` (the Polars frames, penalties included, then the Communication objects the outbox
reads), and the baseline: the same plan (levels, previous level required, exclusions,
thresholds, net credit, minimum days since the last action, already reminded, no email) as
one DuckDB SQL statement over the registered frames, business days through a calendar table.
Both plans are compared communication by communication (customer, currency, level, overdue and
credit amounts, number of items) and skipped item by skipped item; penalties are Polars only
(the SQL twin would need the rate table's half-year arithmetic again).

    .venv/bin/python benchmarks/dunning.py [--rows 1000000] [--emails 10000] [--batch 500]

Then the email part, in the same run: benchmarks/dunning_email.py (the outbox's own benchmark):
that many reminders sent through the outbox to a local SMTP server (aiosmtpd in its own
process), in batches, beside raw smtplib over one connection. `--emails 0` skips it.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from o2c.models.dunning import ACTION_HISTORY, DUNNING_CUSTOMER, EXCLUSION
from o2c.models.dunning_policy import DunningPolicy, cents_for
from o2c.models.schemas import OPEN_ITEM
from o2c.tasks.dunning.plan import communications, plan_frames
from o2c.tasks.dunning.policy import holidays_between, load_policy

TARGET_SECONDS = 5.0
AS_OF = date(2026, 6, 15)


def generate(rows: int, seed: int = 17) -> dict[str, pl.DataFrame]:
    """Open items, payments, customers, history and exclusions for `rows` open items."""
    rng = np.random.default_rng(seed)
    n_customers = max(rows // 10, 10)
    ids = pl.Series([f"C{n:06d}" for n in range(n_customers)])
    kind = rng.random(rows)
    credit_note, overpayment = kind < 0.05, (kind >= 0.05) & (kind < 0.06)
    total = rng.integers(2_000, 2_000_000, rows, dtype=np.int64)
    paid = np.where(rng.random(rows) < 0.33, total * rng.integers(1, 90, rows) // 100, 0)
    open_ = np.where(credit_note | overpayment, -total // 10, total - paid)
    total = np.where(credit_note | overpayment, -total // 10, total)
    due = np.datetime64(AS_OF) - rng.integers(-60, 200, rows).astype("timedelta64[D]")
    doc = np.where(credit_note, "credit_note", np.where(overpayment, "overpayment", "invoice"))
    customer = ids.gather(rng.integers(0, n_customers, rows))
    items = pl.DataFrame(
        {
            "invoice_id": pl.int_range(rows, eager=True).cast(pl.String),
            "document_type": doc,
            "customer_id": customer,
            "legal_entity": "FR01",
            "issue_date": due - np.timedelta64(30, "D"),
            "due_date": due,
            "currency": np.where(rng.random(rows) < 0.95, "EUR", "USD"),
            "amount_total_cents": total,
            "amount_open_cents": open_,
            "reference": pl.Series([None] * rows, dtype=pl.String),
        }
    ).cast(OPEN_ITEM)
    partly = items.filter(pl.col("amount_total_cents") > pl.col("amount_open_cents"))
    payments = partly.select(
        "invoice_id",
        amount_cents=pl.col("amount_total_cents") - pl.col("amount_open_cents"),
        pay_date=pl.min_horizontal(
            pl.col("due_date") + pl.duration(days=10), pl.lit(AS_OF - timedelta(days=1))
        ),
    )
    r = rng.random(n_customers)
    customers = pl.DataFrame(
        {
            "customer_id": ids,
            "name": ids,
            "language": np.where(rng.random(n_customers) < 0.8, "fr", "en"),
            "customer_kind": np.where(r < 0.05, "consumer", "business"),
            "segment": pl.Series(np.where((r >= 0.05) & (r < 0.15), "key_accounts", "")).replace(
                "", None
            ),
            "emails": pl.Series(
                [[] if x < 0.02 else [f"ap{n}@example.com"] for n, x in enumerate(r[::-1])],
                dtype=pl.List(pl.String),
            ),
        }
    ).cast(DUNNING_CUSTOMER)
    overdue = items.filter(
        (pl.col("due_date") < AS_OF - timedelta(days=10)) & (pl.col("amount_open_cents") > 0)
    )
    sent = overdue.sample(fraction=0.25, seed=seed).with_columns(
        level=pl.lit(2, pl.Int32),
        acted=pl.lit(AS_OF) - pl.duration(days=pl.int_range(pl.len()) % 20 + 1),
    )
    history = sent.select(
        key=pl.format("k{}{}", "customer_id", "currency"),
        customer_id="customer_id",
        currency="currency",
        invoice_id="invoice_id",
        level="level",
        channel=pl.lit("email"),
        status=pl.lit("sent"),
        acted_on="acted",
    ).cast(ACTION_HISTORY)
    disputes = items.sample(fraction=0.01, seed=seed + 1).select(
        "customer_id", "invoice_id", kind=pl.lit("dispute"), until=pl.lit(None, pl.Date)
    )
    chosen = customers.sample(fraction=0.01, seed=seed + 2).select("customer_id")
    whole = chosen.with_columns(
        invoice_id=pl.lit(None, pl.String),
        kind=pl.when(pl.int_range(pl.len()) % 2 == 0)
        .then(pl.lit("opt_out"))
        .otherwise(pl.lit("promise_to_pay")),
        until=pl.when(pl.int_range(pl.len()) % 2 == 0)
        .then(pl.lit(None, pl.Date))
        .otherwise(pl.lit(AS_OF + timedelta(days=7))),
    )
    exclusions = pl.concat([disputes, whole]).with_columns(reason=pl.lit("benchmark"))
    return {
        "items": items,
        "payments": payments,
        "customers": customers,
        "history": history,
        "exclusions": exclusions.cast(EXCLUSION),
    }


def _case(policy: DunningPolicy, value) -> str:
    """A SQL CASE over the segment column worth value(segment_policy)."""
    whens = " ".join(f"WHEN '{n}' THEN {value(s)}" for n, s in policy.segments.items())
    return f"(CASE segment {whens} END)"


def baseline_sql(policy: DunningPolicy, as_of: date, currencies: list[str]) -> str:
    """The plan's communications and skipped items as one SQL statement (see plan.py)."""

    def reached(seg) -> str:
        n_courtesy = sum(lv.courtesy for lv in seg.levels)
        over = " + ".join(f"(elapsed >= {lv.days})::INT" for lv in seg.levels if not lv.courtesy)
        cour = " + ".join(f"(elapsed >= {lv.days})::INT" for lv in seg.levels if lv.courtesy)
        return (
            f"CASE WHEN elapsed >= {seg.grace_days} AND ({over or 0}) > 0 "
            f"THEN ({over or 0}) + {n_courtesy} WHEN elapsed <= 0 THEN ({cour or 0}) ELSE 0 END"
        )

    def highest_free(seg) -> str:
        free = [i for i, lv in enumerate(seg.levels, 1) if not lv.requires_previous]
        whens = " ".join(
            f"WHEN {t} THEN {max(f for f in free if f <= t)}" for t in range(1, len(seg.levels) + 1)
        )
        return f"CASE top {whens} END"

    level_rows = ", ".join(
        f"('{n}', {i}, '{cur}', '{lv.channel.value}', {lv.courtesy}, {lv.min_days_since_last}, "
        f"{cents_for(lv.min_open, cur)})"
        for n, seg in policy.segments.items()
        for i, lv in enumerate(seg.levels, 1)
        for cur in currencies
    )
    n_courtesy = _case(policy, lambda s: sum(lv.courtesy for lv in s.levels))
    return f"""
    WITH levels(segment, level, currency, channel, courtesy, min_days, min_open) AS (
        VALUES {level_rows}
    ),
    ex_c AS (SELECT customer_id, MIN(kind) FILTER (WHERE kind = 'opt_out') AS opt,
                    MIN(kind) AS any_kind
             FROM exclusions WHERE invoice_id IS NULL AND (until IS NULL OR until >= $as_of)
             GROUP BY ALL),
    ex_i AS (SELECT invoice_id, MIN(kind) AS kind FROM exclusions
             WHERE invoice_id IS NOT NULL AND (until IS NULL OR until >= $as_of) GROUP BY ALL),
    base AS (
        SELECT i.*, COALESCE(c.segment, 'default') AS segment, c.customer_kind,
               COALESCE(len(c.emails), 0) AS n_emails,
               $as_of - i.due_date AS days_late,
               (SELECT idx FROM cal WHERE day = $as_of) - cal.idx AS elapsed,
               COALESCE(ex_c.opt, ex_c.any_kind) AS customer_exclusion, ex_i.kind AS invoice_ex
        FROM items i
        LEFT JOIN customers c USING (customer_id)
        JOIN cal ON cal.day = i.due_date
        LEFT JOIN ex_c USING (customer_id)
        LEFT JOIN ex_i USING (invoice_id)
    ),
    leveled AS (
        SELECT *, CASE segment {
        " ".join(f"WHEN '{n}' THEN {reached(s)}" for n, s in policy.segments.items())
    } END AS reached,
               COALESCE(customer_exclusion, invoice_ex) AS exclusion
        FROM base
    ),
    candidates AS (
        SELECT * FROM leveled
        WHERE amount_open_cents > 0 AND document_type NOT IN ('credit_note', 'overpayment')
          AND (reached > 0 OR days_late > 0)
    ),
    active AS (
        SELECT *, MAX(reached) OVER (PARTITION BY customer_id, currency) AS top
        FROM candidates WHERE exclusion IS NULL
    ),
    listed AS (
        SELECT a.*, COALESCE(h.done, 0) AS done FROM active a
        LEFT JOIN (SELECT invoice_id, MAX(level) AS done FROM history
                   WHERE status IN ('sent', 'pending', 'unknown') AND acted_on <= $as_of
                   GROUP BY ALL) h
               USING (invoice_id)
        WHERE top > 0 AND CASE WHEN top <= {n_courtesy} THEN reached > 0 ELSE days_late > 0 END
    ),
    groups AS (
        SELECT customer_id, currency, ANY_VALUE(segment) AS segment, ANY_VALUE(top) AS top,
               ANY_VALUE(n_emails) AS n_emails, MAX(done) AS done_max, MIN(done) AS done_min,
               SUM(amount_open_cents) AS overdue_cents, COUNT(*) AS n_items
        FROM listed GROUP BY ALL
    ),
    planned AS (
        SELECT g.*, GREATEST(LEAST(top, done_max + 1), CASE segment {
        " ".join(f"WHEN '{n}' THEN {highest_free(s)}" for n, s in policy.segments.items())
    } END)
            AS level
        FROM groups g
    ),
    judged AS (
        SELECT p.*, COALESCE(cr.credits, 0) AS credits_cents,
               CASE
                 WHEN b.balance <= 0 THEN 'net_credit'
                 WHEN p.overdue_cents + COALESCE(cr.credits, 0) < GREATEST(l.min_open, 1)
                   THEN 'below_threshold'
                 WHEN done_min >= p.level THEN 'already_reminded'
                 WHEN (SELECT idx FROM cal WHERE day = $as_of) - lc.idx < l.min_days
                   THEN 'too_soon'
                 WHEN l.channel = 'email' AND n_emails = 0 THEN 'no_email'
               END AS skip
        FROM planned p
        JOIN levels l USING (segment, level, currency)
        LEFT JOIN (SELECT customer_id, currency, SUM(amount_open_cents) AS credits
                   FROM leveled WHERE amount_open_cents < 0 AND customer_exclusion IS NULL
                   GROUP BY ALL) cr USING (customer_id, currency)
        LEFT JOIN (SELECT customer_id, currency, SUM(amount_open_cents) AS balance
                   FROM items GROUP BY ALL) b USING (customer_id, currency)
        LEFT JOIN (SELECT customer_id, currency, MAX(acted_on) AS last_action FROM history
                   WHERE status IN ('sent', 'pending', 'unknown') AND acted_on <= $as_of
                   GROUP BY ALL) la
               USING (customer_id, currency)
        LEFT JOIN cal lc ON lc.day = la.last_action
    )
    SELECT 'plan' AS part, customer_id, currency, level, overdue_cents, credits_cents,
           n_items, NULL AS invoice_id, NULL AS reason
    FROM judged WHERE skip IS NULL
    UNION ALL
    SELECT 'skip', customer_id, currency, reached, NULL, NULL, NULL, invoice_id, exclusion
    FROM candidates WHERE exclusion IS NOT NULL AND reached > 0
    UNION ALL
    SELECT 'skip', l.customer_id, l.currency, j.level, NULL, NULL, NULL, l.invoice_id, j.skip
    FROM listed l JOIN judged j USING (customer_id, currency) WHERE j.skip IS NOT NULL
    """


def business_calendar(policy: DunningPolicy, first: date, last: date) -> pl.DataFrame:
    """Every day from `first` to `last` with the number of business days up to it."""
    days = pl.date_range(first, last, eager=True)
    off = set(holidays_between(policy.calendar, first, last))
    business = (
        [d.weekday() < 5 and d not in off for d in days]
        if policy.calendar.business_days
        else [True] * len(days)
    )
    return pl.DataFrame({"day": days, "idx": np.cumsum(business)})


def run_baseline(
    data: dict[str, pl.DataFrame], policy: DunningPolicy
) -> tuple[float, float, pl.DataFrame]:
    """Wall and CPU seconds of the SQL twin, and its result."""
    con = duckdb.connect()
    items = data["items"]
    first = min(items["due_date"].min(), data["history"]["acted_on"].min()) - timedelta(days=1)
    last = max(items["due_date"].max(), AS_OF) + timedelta(days=1)
    con.register("cal", business_calendar(policy, first, last))
    for name in ("items", "customers", "history", "exclusions"):
        con.register(name, data[name])
    currencies = sorted(items["currency"].unique().to_list())
    sql = baseline_sql(policy, AS_OF, currencies)
    start, cpu = time.perf_counter(), time.process_time()
    result = con.sql(sql, params={"as_of": AS_OF}).pl()
    return time.perf_counter() - start, time.process_time() - cpu, result


def compare(frames, baseline: pl.DataFrame) -> None:
    """The SQL twin plans the same communications and skips the same items for the same reasons."""
    ours = (
        frames.communications.join(
            frames.items.group_by("customer_id", "currency").agg(n_items=pl.len()),
            on=["customer_id", "currency"],
        )
        .select("customer_id", "currency", "level", "overdue_cents", "credits_cents", "n_items")
        .sort("customer_id", "currency")
    )
    theirs = (
        baseline.filter(pl.col("part") == "plan")
        .select(ours.columns)
        .cast(ours.schema)
        .sort("customer_id", "currency")
    )
    if not ours.equals(theirs):
        raise SystemExit(f"plans differ:\n{ours.join(theirs, on=ours.columns, how='anti')}")
    skip_cols = ["customer_id", "currency", "invoice_id", "level", "reason"]
    ours_skip = frames.skipped.select(skip_cols).sort(skip_cols)
    theirs_skip = (
        baseline.filter(pl.col("part") == "skip")
        .select(skip_cols)
        .cast(ours_skip.schema)
        .sort(skip_cols)
    )
    if not ours_skip.equals(theirs_skip):
        raise SystemExit(f"skipped items differ: {ours_skip.height} vs {theirs_skip.height}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--emails", type=int, default=10_000, help="0: no email part")
    parser.add_argument("--batch", type=int, default=500, help="emails per batch")
    args = parser.parse_args()
    policy = load_policy()
    data = generate(args.rows)
    overdue = (
        data["items"]
        .filter((pl.col("amount_open_cents") > 0) & (pl.col("due_date") < AS_OF))
        .height
    )
    print(f"{args.rows:,} open items ({overdue:,} overdue), {data['customers'].height:,} customers")

    start, cpu = time.perf_counter(), time.process_time()
    frames = plan_frames(
        AS_OF,
        data["items"],
        data["exclusions"],
        data["history"],
        data["customers"],
        policy,
        payments=data["payments"],
    )
    framed = time.perf_counter() - start
    planned = communications(AS_OF, frames)
    polars_seconds = time.perf_counter() - start
    polars_cpu = time.process_time() - cpu
    sql_seconds, sql_cpu, baseline = run_baseline(data, policy)
    compare(frames, baseline)

    items = sum(len(c.items) for c in planned)
    # CPU seconds beside wall seconds: on a shared machine the wall clock also counts the others
    print(
        f"plan (Polars):     {polars_seconds:6.2f} s wall, {polars_cpu:5.2f} s CPU  ({framed:.2f} s"
        f" frames, penalties included, {polars_seconds - framed:.2f} s objects):"
        f" {len(planned):,} communications, {items:,} items, {frames.skipped.height:,} skipped"
    )
    print(
        f"baseline (DuckDB): {sql_seconds:6.2f} s wall, {sql_cpu:5.2f} s CPU  (one SQL statement,"
        " no penalties, no objects)"
    )
    print("results identical: communications (level, amounts, items) and skipped items")
    verdict = "OK" if polars_seconds < TARGET_SECONDS else "OVER"
    print(f"target < {TARGET_SECONDS:.0f} s for {args.rows:,} open items: {verdict}")
    if args.emails:
        print()
        email_part(args.emails, args.batch)


def email_part(count: int, batch: int) -> None:
    """benchmarks/dunning_email.py's own run (its figures, its baseline, its verdict), with
    its arguments given here."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import dunning_email

    argv = sys.argv
    sys.argv = [dunning_email.__file__, "--count", str(count), "--batch", str(batch)]
    try:
        dunning_email.main()
    finally:
        sys.argv = argv


if __name__ == "__main__":
    main()
