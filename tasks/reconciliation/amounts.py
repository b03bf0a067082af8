"""Rules 4 and 6: amounts. Which open items a known payer's amount settles, and how an amount is
spread over the invoices a transfer names (partial, overpayment, short payment within tolerance)."""

from __future__ import annotations

import polars as pl

from o2c.models.reconciliation import Rule
from o2c.models.schemas import ALLOCATION
from o2c.tasks.reconciliation.config import ReconciliationConfig
from o2c.tasks.reconciliation.exceptions import (
    REASON_AMBIGUOUS_AMOUNT,
    REASON_REFERENCE_AMOUNT_MISMATCH,
    exception_rows,
)

_ALLOC_COLS = [c for c in ALLOCATION if c != "allocation_id"]
# An exception lists at most this many of the sums that fit.
MAX_LISTED_SETS = 10


def settle_claims(
    claims: pl.DataFrame,
    transactions: pl.DataFrame,
    open_items: pl.DataFrame,
    config: ReconciliationConfig,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Spread each transfer's amount over the invoices it claims: credit notes
    first, then oldest due.

    Equal to the open total: each invoice paid in full. Short by at most the tolerance:
    paid in full, the gap written off on the last invoice. Short by more: a partial
    payment of the one invoice, the rest stays open; of several, an exception. More than the
    total: the surplus is an unapplied credit for the customer, when one invoice is named or the
    surplus is within the tolerance; beyond it, of several, an exception.
    Returns (allocations without allocation_id, exceptions); the items' row number ``i``, when
    open_items carry one, and the transactions' ``t``, when they carry one, are kept beside (the
    engine's bookkeeping; ``i`` null for a credit).
    """
    tol = config.tolerance(pl.col("currency"))
    row = ["i"] if "i" in open_items.columns else []
    # The row number t, when transactions carry one, stands for the transaction in sorts and
    # windows: one per transaction as the id is, and an integer is cheaper to sort and hash.
    tkey = ["t"] if "t" in transactions.columns else []
    key = (tkey or ["transaction_id"])[0]
    rows = (
        claims.join(
            transactions.select("transaction_id", *tkey, "amount_cents", "currency"),
            on="transaction_id",
        )
        .join(
            open_items.select(
                "invoice_id",
                "customer_id",
                "due_date",
                pl.col("currency").alias("item_currency"),
                "amount_open_cents",
                *row,
            ),
            on="invoice_id",
        )
        .filter(pl.col("currency") == pl.col("item_currency"))
        .with_columns(s=pl.col("amount_cents").sign())
        .with_columns(
            a=pl.col("amount_cents") * pl.col("s"), o=pl.col("amount_open_cents") * pl.col("s")
        )
        .with_columns(neg=pl.col("o") < 0, pos=pl.col("o") > 0)
    )
    # Credit notes (o < 0) first, then invoices by oldest due date. Most transfers claim one
    # invoice: only those claiming several need the four-column sort, the rest one on the key.
    several = pl.col(key).is_duplicated()
    rows = pl.concat(
        [
            rows.filter(~several),
            rows.filter(several).sort(
                [key, "neg", "due_date", "invoice_id"],
                descending=[False, True, False, False],
                nulls_last=True,
            ),
        ]
    ).sort(key, maintain_order=True)
    # Sums and running sums per transaction without windows: the rows are sorted by the key, so
    # a transaction's rows are a run and its sums are differences of running sums over the frame.
    start = pl.col(key).ne_missing(pl.col(key).shift(1))
    end = pl.col(key).ne_missing(pl.col(key).shift(-1))

    def before_run(cum: pl.Expr, value: pl.Expr) -> pl.Expr:
        return pl.when(start).then(cum - value).forward_fill()

    def at_run_end(cum: pl.Expr) -> pl.Expr:
        return pl.when(end).then(cum).backward_fill()

    o, n_pos = pl.col("o"), pl.col("pos").cast(pl.Int64)
    rows = rows.with_columns(
        total=at_run_end(o.cum_sum()) - before_run(o.cum_sum(), o),
        cum_before=o.cum_sum() - o - before_run(o.cum_sum(), o),
        is_last_pos=pl.col("pos")
        & (
            n_pos.cum_sum() - before_run(n_pos.cum_sum(), n_pos)
            == at_run_end(n_pos.cum_sum()) - before_run(n_pos.cum_sum(), n_pos)
        ),
    )
    short = pl.col("total") - pl.col("a")
    # Several invoices named and less paid than they owe (beyond the charges): which of them
    # the payer meant to pay, and how much of each, is finance's question, not oldest first.
    # More than they owe (beyond the charges): the list may be longer than the text (a bank
    # field cut it), so what the rest pays is finance's question too, not the customer's credit.
    split = (n_pos.sum().over(key) > 1) & (short.abs() > tol)
    bad = rows.filter((pl.col("total") <= 0) | (pl.col("a") <= 0) | split)
    rows = rows.filter((pl.col("total") > 0) & (pl.col("a") > 0) & ~split)
    last_open = pl.col("o").filter(pl.col("is_last_pos")).first().over(key)
    rows = rows.with_columns(
        write_off=(short > 0) & (short <= tol) & (last_open >= short),
        gap=short,
    ).with_columns(target=pl.when(pl.col("write_off")).then(pl.col("total")).otherwise(pl.col("a")))
    rows = rows.with_columns(
        pay=pl.when(pl.col("o") < 0)
        .then(pl.col("o"))
        .otherwise((pl.col("target") - pl.col("cum_before")).clip(0, pl.col("o")))
    ).with_columns(
        pay=pl.when(pl.col("write_off") & pl.col("is_last_pos"))
        .then(pl.col("pay") - pl.col("gap"))
        .otherwise(pl.col("pay"))
    )
    base = dict(reverses_allocation_id=pl.lit(None, pl.String))

    def allocated(rows: pl.DataFrame, cents: str, kind: str, rule: pl.Expr) -> pl.DataFrame:
        """Each row's `cents` to its invoice, signed back, as an allocation of `kind`."""
        return rows.select(
            *row,
            *tkey,
            "transaction_id",
            "invoice_id",
            "customer_id",
            amount_cents=pl.col(cents) * pl.col("s"),
            currency=pl.col("currency"),
            kind=pl.lit(kind),
            rule=rule,
            confidence=pl.col("confidence"),
            **base,
        )

    payments = allocated(rows.filter(pl.col("pay") != 0), "pay", "payment", pl.col("rule"))
    write_offs = allocated(
        rows.filter(pl.col("write_off") & pl.col("is_last_pos")),
        "gap",
        "write_off",
        pl.lit(Rule.SHORT_PAYMENT_WRITE_OFF),
    )
    credits = (
        rows.group_by("transaction_id")
        .agg(
            pl.col("customer_id").min(),
            pl.col("currency").first(),
            pl.col("s").first(),
            pl.col("confidence").min(),
            *(pl.col(c).first() for c in tkey),
            surplus=pl.col("a").first() - pl.col("pay").sum(),
            write_off=pl.col("write_off").any(),
        )
        .filter((pl.col("surplus") > 0) & ~pl.col("write_off"))
        .select(
            *(pl.lit(None, pl.UInt32).alias(c) for c in row),
            *tkey,
            "transaction_id",
            invoice_id=pl.lit(None, pl.String),
            customer_id=pl.col("customer_id"),
            amount_cents=pl.col("surplus") * pl.col("s"),
            currency=pl.col("currency"),
            kind=pl.lit("unapplied_credit"),
            rule=pl.lit(Rule.OVERPAYMENT_CREDIT),
            confidence=pl.col("confidence"),
            **base,
        )
    )
    allocations = pl.concat([payments, write_offs, credits], how="vertical_relaxed").cast(
        {k: v for k, v in ALLOCATION.items() if k != "allocation_id"}
    )
    exceptions = exception_rows(
        bad.group_by("transaction_id").agg(
            invoice_ids=pl.col("invoice_id").sort(),
            amount_cents=pl.col("amount_open_cents").sum(),
            rule=pl.col("rule").first(),
            score=pl.col("confidence").min(),
        ),
        REASON_REFERENCE_AMOUNT_MISMATCH,
    )
    return allocations.select(*_ALLOC_COLS, *row, *tkey), exceptions


def amount_matches(
    payers: pl.DataFrame,
    open_items: pl.DataFrame,
    config: ReconciliationConfig,
    *,
    rule_single: str,
    rule_set: str,
    confidence: float,
    settled_later: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rule 4 (and 5 once the payer is known by name): the customer is known, the amount
    says which items.

    ``payers``: transaction_id, customer_id (one row per customer the payer may stand for),
    amount_cents, currency. Exactly one open item of that amount, else exactly one set of at most
    ``max_set_size`` among the oldest ``max_set_items``, else exactly one item short by no more than
    the tolerance. Several equal answers are an exception. Returns (claims, exceptions).
    """
    # Pairs in the order transaction, due date, invoice id, nulls last. A three-column sort of
    # (payer x customer's items) rows costs ten times a sort on one integer: the items are ranked
    # once by (due date, invoice id) and the pairs sorted on t x (number of items) + rank. The row
    # number t (or, without one, the rank of transaction_id) stands for the transaction.
    if "t" not in payers.columns:
        payers = payers.with_columns(t=pl.col("transaction_id").rank("dense"))
    if "issue_date" not in open_items.columns:
        open_items = open_items.with_columns(issue_date=pl.lit(None, pl.Date))
    cols = ["invoice_id", "customer_id", "currency", "due_date", "issue_date", "amount_open_cents"]
    keys = payers.select("customer_id", "currency").unique()
    ranked = (
        open_items.select(cols)
        .join(keys, on=["customer_id", "currency"], how="semi")
        .with_columns(phantom=pl.lit(False))
    )
    # Items this run paid with money booked after a payment were open when it arrived, for what
    # transfers booked before it had left: they count as answers (a sum they make is a second
    # answer), never as claims.
    if settled_later is not None and settled_later.height:
        paid = settled_later.join(keys, on=["customer_id", "currency"], how="semi")
        # (transfer, item) where a transfer booked later paid the item: the few that matter,
        # found on integers before the item's columns are brought back.
        moves = paid.select("customer_id", "currency", "invoice_id", "alloc_t", "alloc_cents")
        later = (
            payers.select("transaction_id", "t", "customer_id", "currency")
            .join(moves.drop("alloc_cents"), on=["customer_id", "currency"])
            .filter(pl.col("alloc_t") > pl.col("t"))
            .select("transaction_id", "t", "invoice_id")
            .unique()
        )
        before = (
            later.join(moves.select("invoice_id", "alloc_t", "alloc_cents"), on="invoice_id")
            .filter(pl.col("alloc_t") < pl.col("t"))
            .group_by("transaction_id", "invoice_id")
            .agg(before=pl.col("alloc_cents").sum())
        )
        then_open = (
            later.join(paid.select(cols).unique("invoice_id"), on="invoice_id")
            .join(before, on=["transaction_id", "invoice_id"], how="left")
            .with_columns(
                amount_open_cents=pl.col("amount_open_cents") - pl.col("before").fill_null(0)
            )
            .filter(pl.col("amount_open_cents") != 0)
            .select("transaction_id", *cols, phantom=pl.lit(True))
        )
    else:
        then_open = pl.DataFrame(schema={"transaction_id": pl.String, **ranked.schema})
    # Ranks by (due date, invoice id) over both.
    rank = (
        pl.concat(
            [ranked.select("invoice_id", "due_date"), then_open.select("invoice_id", "due_date")]
        )
        .unique("invoice_id")
        .sort("due_date", "invoice_id", nulls_last=True)
        .select("invoice_id", rank=pl.int_range(pl.len(), dtype=pl.Int64))
    )
    # Only what the searches below read is carried through the reordering. An invoice issued
    # after the money arrived is not what a payment without reference paid.
    pairs = pl.concat(
        [
            payers.join(ranked, on=["customer_id", "currency"]),
            payers.join(then_open.drop("customer_id", "currency"), on="transaction_id").select(
                payers.columns + [c for c in ranked.columns if c not in payers.columns]
            ),
        ],
        how="vertical_relaxed",
    ).join(rank, on="invoice_id")
    if "booking_date" in pairs.columns:
        pairs = pairs.filter(
            pl.col("issue_date").is_null()
            | pl.col("booking_date").is_null()
            | (pl.col("issue_date") <= pl.col("booking_date"))
        )
    pairs = pairs.select(
        "transaction_id",
        "t",
        "currency",
        "amount_cents",
        "invoice_id",
        "amount_open_cents",
        "phantom",
        order=pl.col("t").cast(pl.Int64) * max(rank.height, 1) + pl.col("rank"),
    )
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    # Sorted by t: a transaction's first row is where t changes.
    first = pl.when(pl.col("t").ne_missing(pl.col("t").shift(1))).then(row).forward_fill()
    items = pairs[pairs["order"].arg_sort()].with_columns(idx=row - first)
    singles = items.filter(pl.col("amount_open_cents") == pl.col("amount_cents"))
    single_solutions = singles.select(
        "transaction_id", "phantom", invoice_ids=pl.concat_list("invoice_id"), size=pl.lit(1)
    )
    # Sets are sought among the oldest max_set_items, even where one item fits: a sum proves
    # nothing unless it is the only way to make the amount (a single item of that amount and
    # two others adding up to it are two answers). A payer with more items than that is a search
    # that hit its bound: a set found then is not proven the only one.
    pool = items.filter(pl.col("idx") < config.max_set_items).with_columns(
        # What credit notes could still take off a running total: a total above the amount by
        # more than that can never come back to it (the search prunes it).
        slack=(-pl.col("amount_open_cents").clip(upper_bound=0)).sum().over("transaction_id")
        if (items["amount_open_cents"] < 0).any()
        else pl.lit(0, pl.Int64)
    )
    # (items are numbered from 0 per transaction: one at rank max_set_items means more.)
    bound_hit = items.filter(pl.col("idx") == config.max_set_items).select("transaction_id")
    # An item alone above the amount by more than the slack is in no set.
    ones = pool.filter(
        pl.col("amount_open_cents") - pl.col("slack") <= pl.col("amount_cents")
    ).select(
        "transaction_id",
        "amount_cents",
        "slack",
        "phantom",
        "idx",
        "invoice_id",
        total="amount_open_cents",
    )
    set_solutions = _set_solutions(ones, config.max_set_size)
    # Everything the payer has open ("SOLDE COMPTE"), however many items: when its credit notes
    # together take off less than its smallest invoice, no other set of them can make the same
    # total (the items left out would have to sum to zero, and any invoice among them outweighs
    # every credit note), so it is proven without a search. (Sums first; the list of ids only for
    # the few transfers whose sum it is.)
    whole_paid = (
        items.group_by("transaction_id")
        .agg(
            pl.col("phantom").any(),
            size=pl.len(),
            total=pl.col("amount_open_cents").sum(),
            amount_cents=pl.col("amount_cents").first(),
            credit=(-pl.col("amount_open_cents").clip(upper_bound=0)).sum(),
            smallest=pl.col("amount_open_cents").filter(pl.col("amount_open_cents") > 0).min(),
        )
        .filter(
            (pl.col("total") == pl.col("amount_cents"))
            & (pl.col("credit") < pl.col("smallest"))
            & ~pl.col("phantom")
            & (pl.col("size") > config.max_set_size)
        )
    )
    whole = (
        items.join(whole_paid.select("transaction_id"), on="transaction_id", how="semi")
        .group_by("transaction_id", maintain_order=True)
        .agg(invoice_ids=pl.col("invoice_id"), size=pl.len())
        .select("transaction_id", phantom=pl.lit(False), invoice_ids="invoice_ids", size="size")
    )
    sets = pl.concat([set_solutions, whole.cast(set_solutions.schema)])
    solved = pl.concat([single_solutions, sets.cast(single_solutions.schema)])
    # Short payment within tolerance, only where nothing exact exists.
    tol = config.tolerance(pl.col("currency"))
    gap = pl.col("amount_open_cents") - pl.col("amount_cents")
    near = (
        items.join(solved.select("transaction_id").unique(), on="transaction_id", how="anti")
        .filter((pl.col("amount_cents") > 0) & (gap > 0) & (gap <= tol))
        .select(
            "transaction_id", "phantom", invoice_ids=pl.concat_list("invoice_id"), size=pl.lit(1)
        )
    )
    solutions = pl.concat(
        [
            solved.with_columns(is_near=pl.lit(False)),
            near.cast(solved.schema).with_columns(is_near=pl.lit(True)),
        ]
    ).with_columns(n=pl.len().over("transaction_id"), is_set=pl.col("size") > 1)
    # One answer, but a set found (or an item near the amount, where no exact answer was found)
    # by a search that did not see all the payer's items, or an item a later transfer paid:
    # unproven ("Solde compte", 0,91 short of one invoice, is six documents exactly).
    proven_whole = whole.select("transaction_id")
    unproven = (
        solutions.filter(
            (pl.col("n") == 1) & (pl.col("is_set") | pl.col("is_near") | pl.col("phantom"))
        )
        .join(proven_whole, on="transaction_id", how="anti")
        .join(bound_hit, on="transaction_id", how="left")
        .filter(
            pl.col("phantom")
            | pl.col("transaction_id").is_in(bound_hit["transaction_id"].implode())
        )
        .select("transaction_id")
    )
    solutions = solutions.with_columns(
        n=pl.when(pl.col("transaction_id").is_in(unproven["transaction_id"].implode()))
        .then(2)
        .otherwise(pl.col("n"))
    )
    unique = solutions.filter(pl.col("n") == 1)
    claims = unique.explode("invoice_ids").select(
        "transaction_id",
        invoice_id=pl.col("invoice_ids"),
        rule=pl.when(pl.col("is_set")).then(pl.lit(rule_set)).otherwise(pl.lit(rule_single)),
        confidence=pl.lit(confidence),
    )
    # An exception lists the first few answers (a payer with many equal items has hundreds).
    # (n is the same on all of a transaction's rows: the window is counted on the few kept.)
    ambiguous = (
        solutions.filter(pl.col("n") > 1)
        .filter(pl.int_range(pl.len()).over("transaction_id") < MAX_LISTED_SETS)
        .join(payers.select("transaction_id", "amount_cents").unique(), on="transaction_id")
    )
    exceptions = exception_rows(
        ambiguous.select(
            "transaction_id",
            invoice_ids=pl.col("invoice_ids").list.sort(),
            amount_cents="amount_cents",
            rule=pl.when(pl.col("is_set")).then(pl.lit(rule_set)).otherwise(pl.lit(rule_single)),
            score=pl.lit(confidence),
        ),
        REASON_AMBIGUOUS_AMOUNT,
    )
    return claims, exceptions


def _set_solutions(ones: pl.DataFrame, max_size: int) -> pl.DataFrame:
    """transaction_id, phantom, invoice_ids, size: every set of 2 to ``max_size`` of a
    transaction's items (``ones``: one row per item, ``idx`` its rank, ``total`` its amount,
    ``invoice_id``, ``slack`` what credit notes could take off) whose amounts add up to
    ``amount_cents``.

    Sets are met in the middle: pairs are built once, and a set of three (an item and a pair)
    or four (two pairs) is an equality join on the amount still needed, so only sets that make
    the amount are ever formed. Each set is formed once, its items in rank order. The ids ride
    along as plain strings (a list per candidate pair cost more than the search): only the sets
    that make the amount get their list."""
    fits = pl.col("total") - pl.col("slack") <= pl.col("amount_cents")
    pairs = (
        ones.join(
            ones.select("transaction_id", "idx", "total", "invoice_id", "phantom"),
            on="transaction_id",
            suffix="_b",
        )
        .filter(pl.col("idx") < pl.col("idx_b"))
        .select(
            "transaction_id",
            "amount_cents",
            "slack",
            lo="idx",
            hi="idx_b",
            total=pl.col("total") + pl.col("total_b"),
            id_1="invoice_id",
            id_2="invoice_id_b",
            phantom=pl.col("phantom") | pl.col("phantom_b"),
        )
        .filter(fits)
    )
    hit = pl.col("total") == pl.col("amount_cents")
    found = [
        pairs.filter(hit).select(
            "transaction_id", "phantom", invoice_ids=pl.concat_list("id_1", "id_2"), size=pl.lit(2)
        )
    ]
    right = pairs.select(
        "transaction_id", "lo", "hi", "phantom", need="total", id_b1="id_1", id_b2="id_2"
    )
    need = (pl.col("amount_cents") - pl.col("total")).alias("need")

    def met(left: pl.DataFrame, in_order: pl.Expr, ids: list[str], size: int) -> pl.DataFrame:
        """Sets of `size`: `left` (one item or a pair, its ids in `ids`) with a pair making up
        what it needs."""
        return (
            left.with_columns(need)
            .join(right, on=["transaction_id", "need"], suffix="_b")
            .filter(in_order)
            .select(
                "transaction_id",
                phantom=pl.col("phantom") | pl.col("phantom_b"),
                invoice_ids=pl.concat_list(*ids, "id_b1", "id_b2"),
                size=pl.lit(size),
            )
        )

    if max_size >= 3:
        found.append(met(ones, pl.col("idx") < pl.col("lo"), ["invoice_id"], 3))
    if max_size >= 4:
        found.append(met(pairs, pl.col("hi") < pl.col("lo_b"), ["id_1", "id_2"], 4))
    # Larger sets (a configuration above four): grown one item at a time from the fours.
    if max_size > 4:
        level = (
            pairs.with_columns(last="hi", invoice_ids=pl.concat_list("id_1", "id_2"))
            .join(
                pairs.select(
                    "transaction_id",
                    lo2="lo",
                    hi2="hi",
                    t2="total",
                    i2=pl.concat_list("id_1", "id_2"),
                    p2="phantom",
                ),
                on="transaction_id",
            )
            .filter(pl.col("last") < pl.col("lo2"))
            .select(
                "transaction_id",
                "amount_cents",
                "slack",
                last="hi2",
                total=pl.col("total") + pl.col("t2"),
                invoice_ids=pl.col("invoice_ids").list.concat("i2"),
                phantom=pl.col("phantom") | pl.col("p2"),
            )
            .filter(fits)
        )
        for size in range(5, max_size + 1):
            level = (
                level.join(
                    ones.select(
                        "transaction_id",
                        "idx",
                        t1="total",
                        i1=pl.concat_list("invoice_id"),
                        p1="phantom",
                    ),
                    on="transaction_id",
                )
                .filter(pl.col("idx") > pl.col("last"))
                .select(
                    "transaction_id",
                    "amount_cents",
                    "slack",
                    last="idx",
                    total=pl.col("total") + pl.col("t1"),
                    invoice_ids=pl.col("invoice_ids").list.concat("i1"),
                    phantom=pl.col("phantom") | pl.col("p1"),
                )
                .filter(fits)
            )
            found.append(
                level.filter(hit).select(
                    "transaction_id", "phantom", "invoice_ids", size=pl.lit(size)
                )
            )
    return pl.concat([f.cast(found[0].schema) for f in found])
