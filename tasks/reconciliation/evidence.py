"""What finance needs to decide an exception in one step: the invoices the payment points to and
why, ranked best first.

The engine stops at the first doubt and lists only what its rule saw ("no_match" often lists
nothing). After the run, for each exception, this module gathers every hint at once:
- the invoices its references name (structured field, end-to-end id, an RF creditor reference or
  a Belgian structured communication anywhere in the text), its invoice numbers in the text, and
  the documents of its structured remittance (``remittance_documents``);
- the payer's open items (payer known by IBAN or learned alias, else by name) whose open amount,
  or the sum of a small set of them, equals the payment or exceeds it within the short-payment
  tolerance.
Each candidate carries what points to it (``why``: reference, name, amount, date), a score, and
``amounts_cents``: what each of its invoices would receive, so "candidate N" in finance's decision
is the whole allocation. The engine's own candidates are kept (merged when they name the same
invoices). Plain Polars in and out; only the exception transactions are looked at.
"""

from __future__ import annotations

import polars as pl

from o2c.models.reconciliation import Rule
from o2c.models.schemas import (
    BANK_TRANSACTION,
    CUSTOMER,
    OPEN_ITEM,
    PAYER_ALIAS,
    RECONCILIATION_EXCEPTION,
    conform,
)
from o2c.tasks.reconciliation.config import ReconciliationConfig, load_config
from o2c.tasks.reconciliation.payers import name_candidates, payers_by_iban
from o2c.tasks.reconciliation.references import (
    invoice_keys,
    invoice_numbers,
    normalize_reference,
    reference_keys,
    structured_pairs,
    text_chains,
    text_keys,
)

MAX_CANDIDATES = 10  # a person reads them; beyond ten the list hides the good one
_POOL = 20  # of a payer's open items, the oldest this many are combined into sets

# How much each kind of hint weighs in a candidate's score (hints of one kind count once).
WEIGHTS = {
    "reference": 0.6,
    "document": 0.6,
    "number": 0.5,
    "number_weak": 0.2,
    "payer_iban": 0.25,
    "payer_name": 0.15,
    "amount_exact": 0.3,
    "amount_short": 0.2,
    "amount_partial": 0.05,
    "amount_over": 0.05,
}
_MAX_SCORE = 0.99  # an exception is by definition not certain

# A candidate as stored in reconciliation_exceptions.candidates (JSON), engine's fields first.
ENGINE_CANDIDATE = pl.Struct(
    {
        "invoice_ids": pl.List(pl.String),
        "amount_cents": pl.Int64,
        "rule": pl.String,
        "score": pl.Float64,
    }
)
_HINT = {
    "transaction_id": pl.String,
    "ids": pl.List(pl.String),
    "kind": pl.String,
    "why": pl.String,
    "rule": pl.String,
    "engine_score": pl.Float64,
    "engine_amount": pl.Int64,
}


def _money(cents: pl.Expr) -> pl.Expr:
    """Cents as "1200,50" (no thousands separator: a token in a sentence)."""
    a = cents.abs()
    return pl.concat_str(
        pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (a // 100).cast(pl.String),
        pl.lit(","),
        (a % 100).cast(pl.String).str.zfill(2),
    )


def _conform(frame: pl.DataFrame, schema: dict, what: str) -> pl.DataFrame:
    """Only `schema`'s columns, cast (the evidence joins on them by name)."""
    return conform(frame, schema, f"exception_evidence: {what}").select(list(schema))


def _hints(
    tx: pl.DataFrame, ids: pl.Expr, kind: str, why: pl.Expr, rule: str | pl.Expr
) -> pl.DataFrame:
    rule_expr = pl.lit(str(rule)) if isinstance(rule, str) else rule
    return tx.select(
        "transaction_id",
        ids=ids,
        kind=pl.lit(kind),
        why=why,
        rule=rule_expr,
        engine_score=pl.lit(None, pl.Float64),
        engine_amount=pl.lit(None, pl.Int64),
    ).cast(_HINT)


def _one(col: str) -> pl.Expr:
    return pl.concat_list(pl.col(col))


def _nonzero_digits(expr: pl.Expr) -> pl.Expr:
    """The digits 1-9 of a text in order: every way an invoice number or reference is written
    (letters or not, separators, leading zeros dropped) keeps them, so they block the search."""
    return expr.str.replace_all(r"[^1-9]+", "")


def _maybe_named(items: pl.DataFrame, tx: pl.DataFrame) -> pl.DataFrame:
    """The items a transfer's text, references or documents may name: those whose id or
    reference has the non-zero digits of one of the transfers' number runs or references."""
    up = pl.col("remittance_unstructured").fill_null("").str.to_uppercase()
    runs = text_keys(text_chains(tx)).select(z=_nonzero_digits(pl.col("key")))
    found = [
        up.str.replace_all(r"[^A-Z0-9]", "").str.extract_all(r"RF[0-9]{2}[A-Z0-9]{1,21}"),
        up.str.extract_all(r"[0-9]{3}[ ]?[/.\-]?[ ]?[0-9]{4}[ ]?[/.\-]?[ ]?[0-9]{5}"),
        pl.concat_list(
            pl.col("remittance_structured").fill_null(""), pl.col("end_to_end_id").fill_null("")
        ),
        pl.col("remittance_documents").list.eval(pl.element().struct.field("doc_number")),
    ]
    # One frame per source (a null list in a concat_list would blank the others of its row).
    compact = pl.concat([tx.select(z=f).explode("z") for f in found])
    # An RF written with spaces: its end is unknown, so every prefix (as _reference_hints).
    z = compact.select(z=_nonzero_digits(pl.col("z").fill_null("")))
    prefixes = z.with_columns(n=pl.int_ranges(1, pl.col("z").str.len_chars() + 1)).explode("n")
    wanted = (
        pl.concat([runs, z, prefixes.select(z=pl.col("z").str.slice(0, pl.col("n")))])
        .filter(pl.col("z").str.len_chars() > 0)["z"]
        .unique()
    )
    return items.filter(
        _nonzero_digits(pl.col("invoice_id")).is_in(wanted.implode())
        | _nonzero_digits(pl.col("reference").fill_null("")).is_in(wanted.implode())
    )


def _reference_hints(tx: pl.DataFrame, items: pl.DataFrame, refs: pl.DataFrame) -> pl.DataFrame:
    """Structured field and end-to-end id (rule 1's comparison), and check-digit references (RF,
    Belgian structured communication) written anywhere in the free text."""
    pairs = structured_pairs(tx, refs).join(
        items.select("invoice_id", "reference"), on="invoice_id"
    )
    structured = _hints(
        pairs,
        _one("invoice_id"),
        "reference",
        pl.concat_str(
            pl.lit("reference "), pl.coalesce("reference", "invoice_id"), pl.lit(" given")
        ),
        Rule.STRUCTURED_REFERENCE,
    )
    refs = items.select(
        "invoice_id", "reference", key=normalize_reference(pl.col("reference"))
    ).filter(pl.col("key").str.len_chars() >= 5)
    text = pl.col("remittance_unstructured").fill_null("").str.to_uppercase()
    # An RF is RFkk and up to 21 characters; written with spaces, its end is not marked, so each
    # length is tried against the stored references (a hash join, never a scan).
    rf = (
        tx.select(
            "transaction_id",
            found=text.str.replace_all(r"[^A-Z0-9]", "").str.extract_all(
                r"RF[0-9]{2}[A-Z0-9]{1,21}"
            ),
        )
        .explode("found")
        .drop_nulls("found")
        .with_columns(n=pl.int_ranges(5, pl.col("found").str.len_chars() + 1))
        .explode("n")
        .drop_nulls("n")
        .select("transaction_id", key=pl.col("found").str.slice(0, pl.col("n")))
    )
    ogm = (
        tx.select(
            "transaction_id",
            found=text.str.extract_all(r"[0-9]{3}[ ]?[/.\-]?[ ]?[0-9]{4}[ ]?[/.\-]?[ ]?[0-9]{5}"),
        )
        .explode("found")
        .drop_nulls("found")
        .select("transaction_id", key=pl.col("found").str.replace_all(r"[^0-9]", ""))
    )
    in_text = pl.concat([rf, ogm]).join(refs, on="key").unique(["transaction_id", "invoice_id"])
    written = _hints(
        in_text,
        _one("invoice_id"),
        "reference",
        pl.concat_str(pl.lit("reference "), pl.col("reference"), pl.lit(" in the text")),
        Rule.STRUCTURED_REFERENCE,
    )
    return pl.concat([structured, written])


def _number_hints(tx: pl.DataFrame, items: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """Invoice numbers in the text, as rules 2-3 read them (weak short numbers weigh less)."""
    found = invoice_numbers(tx, items, keys)
    return _hints(
        found,
        _one("invoice_id"),
        "number",
        pl.concat_str(pl.lit("invoice number "), pl.col("invoice_id"), pl.lit(" in the text")),
        Rule.INVOICE_NUMBER,
    ).with_columns(
        kind=pl.when(found["strong"]).then(pl.lit("number")).otherwise(pl.lit("number_weak"))
    )


def _document_hits(tx: pl.DataFrame, keys: pl.DataFrame, refs: pl.DataFrame) -> pl.DataFrame:
    """transaction_id, invoice_id, doc_number, amount_cents: the documents a structured remittance
    lists, found among the open items by number or reference."""
    docs = (
        tx.select("transaction_id", "remittance_documents")
        .explode("remittance_documents")
        .drop_nulls("remittance_documents")
        .unnest("remittance_documents")
        .filter(pl.col("doc_number").is_not_null())
    )
    if docs.height == 0:  # no remittance documents: nothing to join the items' keys with
        return pl.DataFrame(
            schema={
                "transaction_id": pl.String,
                "invoice_id": pl.String,
                "doc_number": pl.String,
                "amount_cents": pl.Int64,
                "adjustment_cents": pl.Int64,
                "adjustment_reason": pl.String,
            }
        )
    keys = pl.concat(
        [
            keys.filter(pl.col("strength") >= 0.95).select("invoice_id", "key"),
            refs.select("invoice_id", "key"),
        ]
    )
    by_key = pl.concat(
        [
            docs.with_columns(key=normalize_reference(pl.col("doc_number"))),
            docs.with_columns(key=pl.col("doc_number").str.replace_all(r"[^0-9]", "")),
        ]
    ).filter(pl.col("key").str.len_chars() >= 4)
    return (
        by_key.join(keys, on="key")
        .unique(["transaction_id", "invoice_id"], keep="first", maintain_order=True)
        .select(
            "transaction_id",
            "invoice_id",
            "doc_number",
            "amount_cents",
            "adjustment_cents",
            "adjustment_reason",
        )
    )


def _document_hints(hits: pl.DataFrame) -> pl.DataFrame:
    return _hints(
        hits,
        _one("invoice_id"),
        "document",
        pl.concat_str(
            pl.lit("remittance document "),
            pl.col("doc_number"),
            pl.when(pl.col("amount_cents").is_not_null())
            .then(pl.lit(" for ") + _money(pl.col("amount_cents")))
            .otherwise(pl.lit("")),
            # What the payer took off it, and why in its words ("PENA PENALITE RETARD").
            pl.when(pl.col("adjustment_cents").fill_null(0) > 0)
            .then(
                pl.lit(", ")
                + _money(pl.col("adjustment_cents"))
                + pl.lit(" taken off")
                + pl.when(pl.col("adjustment_reason").is_not_null())
                .then(pl.lit(": ") + pl.col("adjustment_reason"))
                .otherwise(pl.lit(""))
            )
            .otherwise(pl.lit("")),
        ),
        Rule.INVOICE_NUMBER,
    )


def _payers(
    tx: pl.DataFrame,
    customers: pl.DataFrame,
    aliases: pl.DataFrame,
    config: ReconciliationConfig,
) -> pl.DataFrame:
    """transaction_id, customer_id, kind (payer_iban | payer_name): whom the payer stands for."""
    by_iban = payers_by_iban(tx, customers, aliases).with_columns(kind=pl.lit("payer_iban"))
    unknown = tx.join(by_iban, on="transaction_id", how="anti")
    by_name = name_candidates(unknown, customers, aliases, config).with_columns(
        kind=pl.lit("payer_name")
    )
    return pl.concat([by_iban, by_name]).select("transaction_id", "customer_id", "kind")


def _amount_hints(
    tx: pl.DataFrame, items: pl.DataFrame, payers: pl.DataFrame, config: ReconciliationConfig
) -> pl.DataFrame:
    """The payer's open items, one or a set of up to max_set_size, whose open amount equals the
    payment or exceeds it by at most the tolerance. Sets only for credits, and only where no
    single item is exactly the amount."""
    tol = pl.col("tol")  # the short-payment tolerance of the transfer's currency
    theirs = payers.join(
        tx.select(
            "transaction_id",
            "currency",
            tx_cents="amount_cents",
            tol=config.tolerance(pl.col("currency")),
        ),
        on="transaction_id",
    ).join(
        items.select("invoice_id", "customer_id", "currency", "due_date", "amount_open_cents"),
        on=["customer_id", "currency"],
    )
    gap = pl.col("amount_open_cents") - pl.col("tx_cents")
    singles = theirs.filter(gap.is_between(0, tol) | (gap.abs() == 0))
    rule = pl.when(pl.col("kind") == "payer_iban")
    single_hints = _hints(
        singles,
        _one("invoice_id"),
        "amount",
        pl.lit("payer's open item of that amount"),
        rule.then(pl.lit(Rule.PAYER_IBAN_AMOUNT)).otherwise(pl.lit(Rule.PAYER_NAME_AMOUNT)),
    )
    # A set is offered only when no single open item makes the amount to the cent: beside an
    # exact single, sums of several are noise for finance (and the costly part of evidence).
    exact = singles.filter(gap == 0).select("transaction_id").unique()
    pool = (
        theirs.join(exact, on="transaction_id", how="anti")
        .filter(
            (pl.col("tx_cents") > 0)
            & (pl.col("amount_open_cents") > 0)
            & (pl.col("amount_open_cents") <= pl.col("tx_cents") + tol)
        )
        .sort("due_date", "invoice_id")
        .filter(pl.int_range(pl.len()).over("transaction_id", "customer_id") < _POOL)
        .select(
            "transaction_id",
            "customer_id",
            "kind",
            "tx_cents",
            "tol",
            ids=_one("invoice_id"),
            total="amount_open_cents",
            last="invoice_id",
        )
    )
    # The sets grow in one lazy plan: Polars runs the joins of the steps side by side and reads
    # `pool` once, where eager steps paid for each in turn.
    pool = pool.lazy()
    item = pool.select("transaction_id", "customer_id", nxt="last", open="total")
    sets, grown = [], pool
    for _ in range(1, config.max_set_size):
        grown = (
            grown.join(item, on=["transaction_id", "customer_id"])
            .filter(
                (pl.col("nxt") > pl.col("last"))
                & (pl.col("total") + pl.col("open") <= pl.col("tx_cents") + tol)
            )
            .select(
                "transaction_id",
                "customer_id",
                "kind",
                "tx_cents",
                "tol",
                ids=pl.col("ids").list.concat(_one("nxt")),
                total=pl.col("total") + pl.col("open"),
                last="nxt",
            )
        )
        sets.append(grown)
    fits = (
        pl.concat(sets).filter((pl.col("total") - pl.col("tx_cents")).is_between(0, tol)).collect()
    )
    set_hints = _hints(
        fits,
        pl.col("ids"),
        "amount",
        pl.lit("payer's open items of that sum"),
        rule.then(pl.lit(Rule.PAYER_IBAN_AMOUNT_SET)).otherwise(pl.lit(Rule.PAYER_NAME_AMOUNT_SET)),
    )
    return pl.concat([single_hints, set_hints])


def _engine_hints(exceptions: pl.DataFrame) -> pl.DataFrame:
    """The candidates the engine listed, as hints of their own kind."""
    listed = (
        exceptions.select(
            "transaction_id",
            c=pl.col("candidates").fill_null("[]").str.json_decode(pl.List(ENGINE_CANDIDATE)),
        )
        .explode("c")
        .drop_nulls("c")
        .unnest("c")
    )
    return listed.select(
        "transaction_id",
        ids="invoice_ids",
        kind=pl.lit("engine"),
        why=pl.lit(None, pl.String),
        rule="rule",
        engine_score="score",
        engine_amount="amount_cents",
    ).cast(_HINT)


def _named_together(hints: pl.DataFrame) -> pl.DataFrame:
    """Several invoices named by one transfer: all of them together is a candidate too, as
    strong as its weakest named member."""
    named = hints.filter(
        pl.col("kind").is_in(["reference", "document", "number", "number_weak"])
    ).with_columns(w=pl.col("kind").replace_strict(WEIGHTS, return_dtype=pl.Float64))
    best = (
        named.explode("ids")
        .sort(["w", "kind"], descending=[True, False])
        .group_by("transaction_id", "ids", maintain_order=True)
        .agg(pl.col("kind").first(), pl.col("w").first())
    )
    together = (
        best.sort("w", "kind")
        .group_by("transaction_id", maintain_order=True)
        .agg(pl.col("ids").sort(), pl.col("kind").first())
        .filter(pl.col("ids").list.len().is_between(2, MAX_CANDIDATES))
    )
    # One hint per member's own reason, all of the set's (weakest) kind: the score counts it once.
    reasons = named.explode("ids").select("transaction_id", "why", member="ids")
    rows = (
        together.with_columns(member=pl.col("ids"))
        .explode("member")
        .join(reasons, on=["transaction_id", "member"])
        .unique(["transaction_id", "why"], maintain_order=True)
    )
    return _hints(
        rows, pl.col("ids"), "", pl.col("why"), Rule.GROUPED_INVOICE_NUMBERS
    ).with_columns(kind=rows["kind"])


def exception_evidence(
    exceptions: pl.DataFrame,
    transactions: pl.DataFrame,
    open_items: pl.DataFrame,
    customers: pl.DataFrame,
    aliases: pl.DataFrame,
    *,
    allocations: pl.DataFrame | None = None,
    config: ReconciliationConfig | None = None,
) -> pl.DataFrame:
    """The exceptions (RECONCILIATION_EXCEPTION) with their candidates completed and ranked.

    ``open_items`` as the run read them; ``allocations``: what the run just wrote (ALLOCATION),
    taken off the open amounts. Each candidate keeps the engine's JSON fields (invoice_ids,
    amount_cents: what it would allocate in all, rule, score) and adds ``amounts_cents`` (per
    invoice, in the order of invoice_ids) and ``why``. At most MAX_CANDIDATES, the engine's own
    first kept."""
    config = config or load_config()
    if exceptions.height == 0:
        return exceptions.cast(RECONCILIATION_EXCEPTION)
    tx = _conform(transactions, BANK_TRANSACTION, "transactions").join(
        exceptions.select("transaction_id"), on="transaction_id", how="semi"
    )
    items = _open_after(_conform(open_items, OPEN_ITEM, "open_items"), allocations)
    customers = _conform(customers, CUSTOMER, "customers")
    aliases = _conform(aliases, PAYER_ALIAS, "aliases")
    payers = _payers(tx, customers, aliases, config)
    # The items' keys, once, and only of the items whose digits the transfers hold (building the
    # keys of every open item is the costly part: linear in the items, not the exceptions).
    named = _maybe_named(items, tx)
    keys, refs = invoice_keys(named), reference_keys(named)
    documents = _document_hits(tx, keys, refs)
    hints = pl.concat(
        [
            _engine_hints(exceptions),
            _reference_hints(tx, named, refs),
            _number_hints(tx, items, keys),
            _document_hints(documents),
            _amount_hints(tx, items, payers, config),
        ]
    )
    hints = pl.concat([hints, _named_together(hints)])
    ranked = _rank(hints, tx, items, payers, documents, config)
    encoded = ranked.select(
        "transaction_id",
        js=pl.struct(
            invoice_ids="ids",
            amount_cents="amount_cents",
            rule="rule",
            score=pl.col("score").round(4),
            amounts_cents="amounts_cents",
            why="why",
        ).struct.json_encode(),
    )
    lists = encoded.group_by("transaction_id", maintain_order=True).agg(
        new=pl.lit("[") + pl.col("js").str.join(",") + pl.lit("]")
    )
    return (
        exceptions.join(lists, on="transaction_id", how="left")
        .select(
            "transaction_id",
            "reason",
            candidates=pl.coalesce("new", "candidates", pl.lit("[]")),
        )
        .cast(RECONCILIATION_EXCEPTION)
    )


def _open_after(items: pl.DataFrame, allocations: pl.DataFrame | None) -> pl.DataFrame:
    """Open items less what the run just allocated; settled ones dropped."""
    if allocations is None or allocations.height == 0:
        return items.filter(pl.col("amount_open_cents") != 0)
    # One lazy plan: the sum per invoice streams into the join, no frame in between.
    taken = (
        allocations.lazy()
        .filter(pl.col("invoice_id").is_not_null())
        .group_by("invoice_id")
        .agg(taken=pl.col("amount_cents").sum())
    )
    return (
        items.lazy()
        .join(taken, on="invoice_id", how="left")
        .with_columns(amount_open_cents=pl.col("amount_open_cents") - pl.col("taken").fill_null(0))
        .drop("taken")
        .filter(pl.col("amount_open_cents") != 0)
        .collect()
    )


def _rank(
    hints: pl.DataFrame,
    tx: pl.DataFrame,
    items: pl.DataFrame,
    payers: pl.DataFrame,
    documents: pl.DataFrame,
    config: ReconciliationConfig,
) -> pl.DataFrame:
    """One row per candidate (transaction, set of invoices), best first: why, score, amounts."""
    tol = pl.col("tol")
    hints = hints.with_columns(ids=pl.col("ids").list.unique().list.sort()).with_columns(
        key=pl.col("ids").list.join("|"),
        weight=pl.col("kind").replace_strict(WEIGHTS, default=0.0, return_dtype=pl.Float64),
    )
    per_kind = hints.group_by("transaction_id", "key", "kind").agg(pl.col("weight").max())
    text_score = per_kind.group_by("transaction_id", "key").agg(hint_score=pl.col("weight").sum())
    cand = (
        hints.sort(["weight", "why"], descending=[True, False], nulls_last=True)
        .group_by("transaction_id", "key", maintain_order=True)
        .agg(
            pl.col("ids").first(),
            pl.col("why").drop_nulls().unique(maintain_order=True),
            pl.col("rule").filter(pl.col("kind") == "engine").first().alias("engine_rule"),
            pl.col("rule").first(),
            pl.col("engine_score").max(),
            pl.col("engine_amount").max(),
            from_engine=(pl.col("kind") == "engine").any(),
        )
        .join(text_score, on=["transaction_id", "key"])
        .with_columns(rule=pl.coalesce("engine_rule", "rule"))
    )
    # Per invoice of each candidate: what is open, whose it is, and what it would receive.
    t = tx.select(
        "transaction_id",
        "booking_date",
        tx_cents="amount_cents",
        tol=config.tolerance(pl.col("currency")),
    )
    listed = cand.select("transaction_id", "key", invoice_id="ids").explode("invoice_id")
    lines = (
        listed.join(
            items.filter(pl.col("invoice_id").is_in(listed["invoice_id"].implode())).select(
                "invoice_id", "customer_id", "issue_date", "due_date", "amount_open_cents"
            ),
            on="invoice_id",
            how="left",
        )
        .join(t, on="transaction_id")
        .join(payers.rename({"kind": "payer"}), on=["transaction_id", "customer_id"], how="left")
        .join(
            documents.select("transaction_id", "invoice_id", doc_cents="amount_cents"),
            on=["transaction_id", "invoice_id"],
            how="left",
        )
        # Credit notes first (they add to what can be paid), then the oldest due.
        .sort("transaction_id", "key", pl.col("amount_open_cents") > 0, "due_date", "invoice_id")
    )
    # What each invoice would receive: the amount the payer's remittance gives it (at most what
    # is open), else its share of the rest in that order (credit notes netted in full).
    s = pl.col("tx_cents").sign()
    so = s * pl.col("amount_open_cents")
    by_doc = pl.min_horizontal(pl.max_horizontal(s * pl.col("doc_cents"), 0), so)
    lines = lines.with_columns(
        by_doc=pl.when((so > 0) & pl.col("doc_cents").is_not_null()).then(by_doc),
    ).with_columns(
        rest=s * pl.col("tx_cents") - pl.col("by_doc").sum().over("transaction_id", "key"),
        share=pl.when(pl.col("by_doc").is_null()).then(so).otherwise(0),
    )
    before = pl.col("share").cum_sum().over("transaction_id", "key") - pl.col("share")
    lines = lines.with_columns(
        alloc=pl.when(pl.col("by_doc").is_not_null())
        .then(s * pl.col("by_doc"))
        .when(so > 0)
        .then(s * pl.min_horizontal(pl.max_horizontal(pl.col("rest") - before, 0), so))
        .otherwise(pl.col("amount_open_cents"))
    )
    agg = lines.group_by("transaction_id", "key", maintain_order=True).agg(
        invoice_ids=pl.col("invoice_id"),
        amounts_cents=pl.col("alloc"),
        known=pl.col("amount_open_cents").is_not_null().all(),
        # What the candidate asks for: the remittance's amount where it gives one, else the open.
        open_cents=pl.coalesce(s * pl.col("by_doc"), pl.col("amount_open_cents")).sum(),
        listed=pl.col("by_doc").is_not_null().any(),
        tx_cents=pl.col("tx_cents").first(),
        tol=pl.col("tol").first(),
        payer=pl.col("payer").min(),  # payer_iban before payer_name
        payer_all=pl.col("payer").is_not_null().all(),
        customer=pl.col("customer_id").first(),
        n_customers=pl.col("customer_id").n_unique(),
        issued=pl.col("issue_date").max(),
        due=pl.col("due_date").min(),
        size=pl.len(),
    )
    gap = pl.col("open_cents") - pl.col("tx_cents")
    amount_kind = (
        pl.when(~pl.col("known"))
        .then(pl.lit(None, pl.String))
        .when(gap == 0)
        .then(pl.lit("amount_exact"))
        .when((s * gap).is_between(1, tol))
        .then(pl.lit("amount_short"))
        .when(s * gap > 0)
        .then(pl.lit("amount_partial"))
        .otherwise(pl.lit("amount_over"))
    )
    what = (
        pl.when(pl.col("listed"))
        .then(pl.lit("what the remittance lists ("))
        .otherwise(pl.lit("what is open ("))
    )
    amount_why = (
        pl.when(pl.col("amount_kind") == "amount_exact")
        .then(pl.lit("amount equals ") + what + _money(pl.col("open_cents")) + pl.lit(")"))
        .when(pl.col("amount_kind") == "amount_short")
        .then(
            _money(gap.abs())
            + pl.lit(" short of ")
            + what
            + _money(pl.col("open_cents"))
            + pl.lit("), within the bank-charge tolerance")
        )
        .when(pl.col("amount_kind") == "amount_partial")
        .then(
            pl.lit("partial: pays ")
            + _money(pl.col("tx_cents"))
            + pl.lit(" of ")
            + _money(pl.col("open_cents"))
            + pl.when(pl.col("listed")).then(pl.lit(" listed")).otherwise(pl.lit(" open"))
        )
        .when(pl.col("amount_kind") == "amount_over")
        .then(
            _money(gap.abs())
            + pl.lit(" more than ")
            + what
            + _money(pl.col("open_cents"))
            + pl.lit(")")
        )
    )
    payer_ok = pl.col("payer_all") & (pl.col("n_customers") == 1)
    payer_why = (
        pl.when(payer_ok & (pl.col("payer") == "payer_iban"))
        .then(pl.lit("payer's IBAN is known for customer ") + pl.col("customer"))
        .when(payer_ok)
        .then(pl.lit("payer's name fits customer ") + pl.col("customer"))
    )
    date_why = pl.when(pl.col("known") & (pl.col("size") == 1)).then(
        pl.lit("issued ")
        + pl.col("issued").dt.to_string("%Y-%m-%d")
        + pl.lit(", due ")
        + pl.col("due").dt.to_string("%Y-%m-%d")
    )
    weight = lambda kind: kind.replace_strict(WEIGHTS, default=0.0, return_dtype=pl.Float64)  # noqa: E731
    scored = (
        cand.drop("tx_cents", strict=False)
        .join(agg.drop("invoice_ids"), on=["transaction_id", "key"], how="left")
        .join(
            agg.select("transaction_id", "key", "invoice_ids"),
            on=["transaction_id", "key"],
            how="left",
        )
        .with_columns(amount_kind=amount_kind)
        .with_columns(
            why=pl.concat_list(
                pl.col("why"),
                pl.concat_list(amount_why, payer_why, date_why).list.drop_nulls(),
            ),
            score=pl.min_horizontal(
                pl.col("hint_score")
                + weight(pl.col("amount_kind")).fill_null(0.0)
                + pl.when(payer_ok).then(weight(pl.col("payer"))).otherwise(0.0).fill_null(0.0),
                pl.lit(_MAX_SCORE),
            ),
        )
        .with_columns(
            score=pl.max_horizontal(pl.col("score"), pl.col("engine_score").fill_null(0.0)),
            # The engine's listed amount where the invoices are not open items (a customer).
            amount_cents=pl.when(pl.col("known"))
            .then(pl.col("amounts_cents").list.sum())
            .otherwise(pl.col("engine_amount")),
            ids=pl.when(pl.col("known")).then(pl.col("invoice_ids")).otherwise(pl.col("ids")),
            amounts_cents=pl.when(pl.col("known")).then(pl.col("amounts_cents")),
        )
    )
    # Pure amount hints that fit nothing (set candidates fit by construction) are dropped; the
    # engine's own are kept whatever; then best first, at most MAX_CANDIDATES.
    ordered = scored.sort(
        ["transaction_id", "score", "size", "due", "key"],
        descending=[False, True, False, False, False],
        nulls_last=True,
    )
    kept = ordered.filter(
        pl.col("from_engine")
        | (
            (~pl.col("from_engine")).cum_sum().over("transaction_id")
            <= MAX_CANDIDATES - pl.col("from_engine").sum().over("transaction_id")
        )
    )
    return kept.select(
        "transaction_id", "ids", "amount_cents", "rule", "score", "amounts_cents", "why"
    )
