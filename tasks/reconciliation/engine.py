"""The reconciliation cascade: each transfer is settled by the first rule that claims it
without doubt.

Order: finance's decisions, structured reference, invoice numbers in the text (one or several),
the same with one typo or truncated, payer IBAN + amount, payer name + amount, then reversals.
Open amounts are consumed as rules settle, so two transfers never settle the same cents; when two
transfers claim the same invoice in one rule, the earlier booked (then lower id) goes first and the
other is looked at again against what is left. Everything is keyed and sorted, never
row-order bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from o2c.models.reconciliation import Rule
from o2c.models.schemas import (
    ALLOCATION,
    ALLOCATION_MONEY,
    BANK_TRANSACTION,
    CUSTOMER,
    OPEN_ITEM,
    OPEN_ITEM_ORDER,
    PAYER_ALIAS,
    RECONCILIATION_EXCEPTION,
    conform,
)
from o2c.tasks.reconciliation.amounts import amount_matches, settle_claims
from o2c.tasks.reconciliation.config import ReconciliationConfig, load_config
from o2c.tasks.reconciliation.deductions import deducted_claims
from o2c.tasks.reconciliation.discounts import discount_allocations
from o2c.tasks.reconciliation.early_citations import cited_before_issue
from o2c.tasks.reconciliation.exceptions import (
    REASON_AMBIGUOUS_AMOUNT,
    REASON_AMBIGUOUS_REFERENCE,
    REASON_NO_MATCH,
    REASON_OTHER_CUSTOMERS_DOCUMENTS,
    REASON_REFERENCE_AMOUNT_MISMATCH,
    exception_rows,
    no_match_rows,
)
from o2c.tasks.reconciliation.fast_path import obvious_settlements
from o2c.tasks.reconciliation.paid_citations import cited_paid
from o2c.tasks.reconciliation.payers import (
    known_ibans,
    name_candidates,
    payers_by_iban,
    payers_by_name,
)
from o2c.tasks.reconciliation.purchase_orders import (
    name_links,
    name_rule_for,
    order_links,
    order_rule_for,
    without_order_runs,
)
from o2c.tasks.reconciliation.references import (
    CANDIDATE,
    FULL_STRENGTH,
    document_links,
    fuzzy_invoice_numbers,
    invoice_keys,
    invoice_numbers,
    normalize_reference,
    one_slip_apart,
    run_links,
    text_hits,
    with_best_key,
)
from o2c.tasks.reconciliation.reversals import ORIGIN_COLUMNS, is_return, reversal_allocations
from o2c.tasks.reconciliation.statements_of_account import statement_rule_for

# What the store (and anyone else) may use; the rest is the engine's own business.
__all__ = [
    "CLOSED_ITEM",
    "DECISION",
    "ReconciliationConfig",
    "ReconciliationResult",
    "manual_allocations",
    "reconcile",
]


# Finance's decisions as the engine reads them: invoice_id null = "not a customer payment".
DECISION = {
    "transaction_id": pl.String,
    "invoice_id": pl.String,
    "amount_cents": pl.Int64,
    "note": pl.String,
}

_ALLOC_NO_ID = {k: v for k, v in ALLOCATION.items() if k != "allocation_id"}
# A document settled before the run: its number and customer, to tell a citation from a slip.
CLOSED_ITEM = {"invoice_id": pl.String, "customer_id": pl.String}


@dataclass
class ReconciliationResult:
    allocations: pl.DataFrame  # ALLOCATION
    exceptions: pl.DataFrame  # RECONCILIATION_EXCEPTION
    stats: dict[str, object] = field(default_factory=dict)
    # transaction_id of debits nothing matched: left unallocated, no exception (not customer money)
    not_customer_debits: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"transaction_id": pl.String})
    )


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], name: str) -> pl.DataFrame:
    return conform(frame, schema, f"reconcile: {name}")


def _allocation_ids(allocations: pl.DataFrame) -> pl.DataFrame:
    """Deterministic ids: the transaction, what it settles and how (a reversal: what it undoes)."""
    return allocations.with_columns(
        allocation_id=pl.when(pl.col("kind") == "reversal")
        .then(
            pl.concat_str(
                pl.col("transaction_id"), pl.lit("|reverses|"), pl.col("reverses_allocation_id")
            )
        )
        .otherwise(
            pl.concat_str(
                pl.col("transaction_id"),
                pl.lit("|"),
                pl.col("invoice_id").fill_null(""),
                pl.lit("|"),
                pl.col("kind"),
            )
        )
    ).select(list(ALLOCATION))


def _decision_allocations(
    decisions: pl.DataFrame, transactions: pl.DataFrame, open_items: pl.DataFrame
) -> pl.DataFrame:
    """Rule 'manual': what finance decided, as allocations (invoice_id null decisions give none)."""
    d = (
        decisions.filter(pl.col("invoice_id").is_not_null())
        .group_by("transaction_id", "invoice_id")
        .agg(pl.col("amount_cents").sum())
    )
    return (
        d.join(transactions.select("transaction_id", "currency"), on="transaction_id")
        .join(open_items.select("invoice_id", "customer_id"), on="invoice_id", how="left")
        .select(
            *ALLOCATION_MONEY,
            kind=pl.lit("payment"),
            rule=pl.lit(Rule.MANUAL),
            confidence=pl.lit(1.0),
            reverses_allocation_id=pl.lit(None, pl.String),
        )
        .cast(_ALLOC_NO_ID)
    )


def manual_allocations(
    decisions: pl.DataFrame, transactions: pl.DataFrame, open_items: pl.DataFrame
) -> pl.DataFrame:
    """Finance's decisions (DECISION) as ALLOCATION rows with their ids, rule 'manual'.

    The one way a decision becomes allocations: store.apply_decisions writes these. Only
    ``transaction_id`` and ``currency`` of the transactions and ``invoice_id`` and
    ``customer_id`` of the items are read; a decision without an invoice gives none.
    """
    return _allocation_ids(_decision_allocations(decisions, transactions, open_items))


class _Run:
    """Mutable state of one cascade: what is still pending and what is still open."""

    def __init__(
        self, pending: pl.DataFrame, open_items: pl.DataFrame, config: ReconciliationConfig
    ):
        self.pending = pending
        self.tx = pending
        # What this run paid, as (item row, transfer rank, cents): for "open at that date".
        self._paid: list[pl.DataFrame] = []
        self._paid_all: tuple[int, pl.DataFrame] | None = None
        # Open amounts live apart, by row number i: a settlement updates the rows it touched
        # instead of joining the million items again.
        self.items = open_items
        self.open_cents = open_items["amount_open_cents"]
        self._open: pl.DataFrame | None = None
        self.config = config
        self.allocations: list[pl.DataFrame] = []
        self.exceptions: list[pl.DataFrame] = []

    def open_positive(self) -> pl.DataFrame:
        # Rebuilt only after a settlement changed what is open (record() clears it).
        if self._open is None:
            self._open = self.items.with_columns(amount_open_cents=self.open_cents).filter(
                pl.col("amount_open_cents") != 0
            )
        return self._open

    def drop_pending(self, ids: pl.Series | pl.DataFrame) -> None:
        frame = ids if isinstance(ids, pl.DataFrame) else ids.to_frame("transaction_id")
        if "t" in frame.columns:
            # By booking rank: a mask gathered per pending row, no hash of the pending ids.
            gone = pl.repeat(False, self.tx.height, eager=True).scatter(
                frame["t"].drop_nulls(), True
            )
            self.pending = self.pending.filter(~gone.gather(self.pending["t"]))
            return
        self.pending = self.pending.join(
            frame.select("transaction_id").unique(), on="transaction_id", how="anti"
        )

    def record(self, allocations: pl.DataFrame) -> None:
        """Allocations may carry the row numbers t and i; those without i are looked up."""
        if allocations.height == 0:
            return
        self.allocations.append(allocations.select(list(_ALLOC_NO_ID)))
        paid = allocations.filter(pl.col("invoice_id").is_not_null())
        if "i" not in paid.columns:
            paid = paid.join(self.items.select("invoice_id", "i"), on="invoice_id")
        if "t" not in paid.columns:
            paid = paid.join(self.tx.select("transaction_id", "t"), on="transaction_id")
        self._paid.append(
            paid.filter(pl.col("kind") == "payment").select(
                pl.col("i").cast(pl.UInt32),
                alloc_t=pl.col("t").cast(pl.UInt32),
                alloc_cents="amount_cents",
            )
        )
        used = paid.group_by("i").agg(used=pl.col("amount_cents").sum())
        if used.height:
            rows = used["i"]
            self.open_cents = self.open_cents.scatter(
                rows, self.open_cents.gather(rows) - used["used"]
            )
            self._open = None
        self.drop_pending(allocations)

    def payments(self) -> pl.DataFrame:
        """i, alloc_t, alloc_cents: every payment this run made, by item and booking rank."""
        if self._paid_all is None or self._paid_all[0] != len(self._paid):
            self._paid_all = (len(self._paid), pl.concat(self._paid))
        return self._paid_all[1]

    def settled(self, customer_ids: pl.Series) -> pl.DataFrame:
        """What this run paid on the items of these customers, one row per payment: the item as
        it was open before the run, ``alloc_t`` the booking rank of the transfer and
        ``alloc_cents`` what it paid."""
        cols = ["invoice_id", "customer_id", "currency", "due_date", "issue_date"]
        items = self.items.filter(pl.col("customer_id").is_in(customer_ids.implode())).select(
            "i", *cols, "amount_open_cents"
        )
        if not self._paid:
            return (
                items.drop("i")
                .clear()
                .with_columns(alloc_t=pl.lit(None, pl.UInt32), alloc_cents=pl.lit(None, pl.Int64))
            )
        # Integer rows only, gathered once per change of what is settled.
        return items.join(self.payments(), on="i").drop("i")

    def fail(self, exceptions: pl.DataFrame) -> None:
        if exceptions.height == 0:
            return
        self.exceptions.append(exceptions)
        self.drop_pending(exceptions)

    def apply(
        self,
        rule: Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]],
    ) -> None:
        """Run a rule in rounds: each round settles the earliest claimant of every invoice."""
        todo = self.pending
        for _ in range(self.config.max_rounds):
            if todo.height == 0:
                return
            claims, exceptions = rule(todo, self.open_positive())
            self.fail(exceptions)
            claims = claims.join(
                exceptions.select("transaction_id"), on="transaction_id", how="anti"
            )
            if claims.height == 0:
                return
            # Only invoices several transfers claim need an order (most have one claimant).
            # Booked the same day, the bank's own order says which came first (the second of
            # a transfer sent twice is the duplicate); its reference is what shows that order.
            contested = claims.filter(pl.len().over("invoice_id") > 1)
            losers = (
                contested.join(
                    todo.select("transaction_id", "booking_date", "bank_reference"),
                    on="transaction_id",
                )
                .with_columns(
                    first=pl.col("transaction_id")
                    .sort_by("booking_date", "bank_reference", "transaction_id", nulls_last=True)
                    .first()
                    .over("invoice_id")
                )
                .filter(pl.col("first") != pl.col("transaction_id"))
                .select("transaction_id")
                .unique()
            )
            winners = claims.join(losers, on="transaction_id", how="anti")
            allocations, bad = settle_claims(winners, todo, self.open_positive(), self.config)
            self.fail(bad)
            self.record(allocations)
            if losers.height == 0:
                return
            todo = todo.join(losers, on="transaction_id", how="semi")


def _reference_rule_for(
    pairs: pl.DataFrame, hits: pl.DataFrame
) -> Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]:
    """Rule 1 over references.structured_pairs (of every item: a reversal may reopen any); an
    invoice paid less a credit note of its customer that makes the amount exact is netted: one
    the text names in full ("RF91FB25000498", "moins AV 2025-00028"), or the one open credit note
    that fits (an LCR or direct debit collected net of a credit note)."""

    def rule(todo: pl.DataFrame, open_items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        found = (
            pairs.join(todo.select("t"), on="t", how="semi")
            .join(open_items.select("i"), on="i", how="semi")
            .select(
                "transaction_id",
                "invoice_id",
                rule=pl.lit(Rule.STRUCTURED_REFERENCE),
                confidence=pl.lit(1.0),
            )
        )
        # Paid less the customer's credit notes the text names, or the one that makes it exact.
        named = _named_credit_notes(todo, open_items, found, hits)
        found = pl.concat([found, named])
        unnamed = _unmentioned_credit_note(todo, open_items, found).join(
            named, on="transaction_id", how="anti"
        )
        return pl.concat([found, unnamed]), pl.DataFrame(schema=RECONCILIATION_EXCEPTION)

    return rule


def _named_credit_notes(
    todo: pl.DataFrame, open_items: pl.DataFrame, found: pl.DataFrame, hits: pl.DataFrame
) -> pl.DataFrame:
    """Claims on the open credit notes a transfer's text writes in full (``hits``: t, i,
    strength) beside the documents its reference names (``found``), when they are the same
    customer's and together make the amount exact."""
    if found.height == 0:
        return found.clear()
    credits = open_items.filter(pl.col("amount_open_cents") < 0).select(
        "i", "invoice_id", "customer_id", cn="amount_open_cents"
    )
    named = (
        hits.filter(pl.col("strength") >= 0.95)
        .join(todo.select("t", "transaction_id"), on="t")
        .join(found.select("transaction_id").unique(), on="transaction_id", how="semi")
        .select("transaction_id", "i")
        .unique()
        .join(credits, on="i")
        .drop("i")
    )
    owed = _named_total(found, open_items).filter(pl.col("n_customers") == 1)
    exact = (
        named.join(owed, on=["transaction_id", "customer_id"])
        .join(todo.select("transaction_id", "amount_cents"), on="transaction_id")
        .filter(
            (pl.col("total") + pl.col("cn").sum().over("transaction_id")) == pl.col("amount_cents")
        )
    )
    return exact.select(
        "transaction_id",
        "invoice_id",
        rule=pl.lit(Rule.STRUCTURED_REFERENCE),
        confidence=pl.lit(1.0),
    )


def _named_total(claims: pl.DataFrame, open_items: pl.DataFrame) -> pl.DataFrame:
    """transaction_id, customer_id (the first), n_customers, total: whose documents a transfer's
    claims name and what is open on them together."""
    return (
        claims.join(
            open_items.select("invoice_id", "customer_id", "amount_open_cents"), on="invoice_id"
        )
        .group_by("transaction_id")
        .agg(
            customer_id=pl.col("customer_id").first(),
            n_customers=pl.col("customer_id").n_unique(),
            total=pl.col("amount_open_cents").sum(),
        )
    )


def _sign_total(claims: pl.DataFrame, todo: pl.DataFrame, open_items: pl.DataFrame) -> pl.DataFrame:
    """transaction_id, amount_cents, total: the open total of what a transfer's claims name."""
    return (
        claims.join(open_items.select("invoice_id", "amount_open_cents"), on="invoice_id")
        .group_by("transaction_id")
        .agg(total=pl.col("amount_open_cents").sum())
        .join(todo.select("transaction_id", "amount_cents", "currency"), on="transaction_id")
    )


def _text_rule_for(
    hits: pl.DataFrame,
    customers: pl.DataFrame,
    aliases: pl.DataFrame,
    config: ReconciliationConfig,
) -> Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]:
    """Rules 2-3, cross-checked: an invoice number retyped with a slip can name another real
    invoice ("000021" typed "000012"), so a match stands only if the amount fits (equal, or short
    within tolerance) or the payer's IBAN belongs to the invoice's customer; otherwise the transfer
    is left to the later rules (one typo, IBAN + amount), which check both."""

    known = known_ibans(customers, aliases)

    def rule(todo: pl.DataFrame, open_items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        by_iban = payers_by_iban(todo, customers, aliases, known=known)
        by_name = name_candidates(
            todo.join(by_iban, on="transaction_id", how="anti"), customers, aliases, config
        )
        claims, exceptions = _text_claims(
            todo, open_items, hits, config, pl.concat([by_iban, by_name])
        )
        claims = pl.concat([claims, _cut_list_completion(todo, open_items, claims)])
        claims = claims.join(_cut_short(todo, open_items, claims), on="transaction_id", how="anti")
        claims = pl.concat([claims, _unmentioned_credit_note(todo, open_items, claims)])
        owners = claims.join(open_items.select("invoice_id", "customer_id"), on="invoice_id")
        payer_ok = owners.join(by_iban, on=["transaction_id", "customer_id"], how="semi").select(
            "transaction_id"
        )
        # Known only by name, or not known at all (then the text's invoices, all of one
        # customer's, say who paid): the text stands for an amount that is not what it names
        # unless another open item of that customer is exactly what was paid ("FA-1002" typed
        # for FA-1001, say): that is left to the typo rule and to finance.
        by_text = (
            pl.concat(
                [
                    owners.join(by_name, on=["transaction_id", "customer_id"], how="semi"),
                    owners.join(by_iban, on="transaction_id", how="anti").join(
                        by_name, on="transaction_id", how="anti"
                    ),
                ]
            )
            .join(todo.select("transaction_id", "amount_cents"), on="transaction_id")
            .join(open_items.select("invoice_id", "amount_open_cents"), on="invoice_id")
            .group_by("transaction_id")
            .agg(
                customer_id=pl.col("customer_id").first(),
                n_customers=pl.col("customer_id").n_unique(),
                total=pl.col("amount_open_cents").sum(),
                amount=pl.col("amount_cents").first(),
            )
            .filter(
                (pl.col("n_customers") == 1) & (pl.col("total").sign() == pl.col("amount").sign())
            )
        )
        elsewhere = (
            by_text.join(
                open_items.select("customer_id", "invoice_id", amount="amount_open_cents"),
                on=["customer_id", "amount"],
            )
            .join(claims, on=["transaction_id", "invoice_id"], how="anti")
            .select("transaction_id")
        )
        unknown_ok = by_text.join(elsewhere, on="transaction_id", how="anti").select(
            "transaction_id"
        )
        gap = pl.col("total") - pl.col("amount_cents")
        amount_ok = (
            _sign_total(claims, todo, open_items)
            .filter(
                (pl.col("total").sign() == pl.col("amount_cents").sign())
                & (gap.abs() <= config.tolerance(pl.col("currency")))
                & (gap * pl.col("amount_cents").sign() >= 0)
            )
            .select("transaction_id")
        )
        ok = pl.concat([payer_ok, unknown_ok, amount_ok]).unique()
        doubt = pl.concat(
            [
                _typed_for_another(claims, todo, open_items, amount_ok),
                _for_another_customer(
                    owners,
                    pl.concat(
                        [
                            by_iban.select("transaction_id", "customer_id"),
                            by_name.filter(pl.len().over("transaction_id") == 1).select(
                                "transaction_id", "customer_id"
                            ),
                        ]
                    ),
                    open_items,
                    by_iban.join(amount_ok, on="transaction_id", how="semi"),
                ),
            ]
        ).unique("transaction_id", keep="first", maintain_order=True)
        return (
            claims.join(ok, on="transaction_id", how="semi").join(
                doubt, on="transaction_id", how="anti"
            ),
            pl.concat([exceptions, doubt]),
        )

    return rule


def _for_another_customer(
    owners: pl.DataFrame,
    payers: pl.DataFrame,
    open_items: pl.DataFrame,
    paying_exactly: pl.DataFrame,
) -> pl.DataFrame:
    """Exceptions for transfers from a known customer (``payers``: by its account, or by its
    name when that fits one customer) whose text names another customer's documents: beside its
    own ("Factures FA-104 + FA-027 (Estaminet de la Poste)"), or, from its own account, only
    another's for what they owe (``paying_exactly``: a group's treasury paying its
    subsidiaries). Paying for someone else is the owner's or the group's arrangement, which
    finance knows and the bank line does not. (A payer no customer is, a factor or a head office
    never invoiced, is not one; a number that names another's document but not the amount paid
    is a slip, left to the later rules.)"""
    mine = owners.join(payers, on=["transaction_id", "customer_id"], how="semi")
    speaking = pl.concat(
        [mine.select("transaction_id"), paying_exactly.select("transaction_id")]
    ).unique()
    others = (
        owners.join(speaking, on="transaction_id", how="semi")
        .join(payers, on=["transaction_id", "customer_id"], how="anti")
        .select("transaction_id")
        .unique()
    )
    listed = owners.join(others, on="transaction_id", how="semi").join(
        open_items.select("invoice_id", "amount_open_cents"), on="invoice_id"
    )
    return exception_rows(
        listed.group_by("transaction_id").agg(
            invoice_ids=pl.col("invoice_id").sort(),
            amount_cents=pl.col("amount_open_cents").sum(),
            rule=pl.col("rule").first(),
            score=pl.col("confidence").min(),
        ),
        REASON_OTHER_CUSTOMERS_DOCUMENTS,
    )


def _typed_for_another(
    claims: pl.DataFrame, todo: pl.DataFrame, open_items: pl.DataFrame, amount_ok: pl.DataFrame
) -> pl.DataFrame:
    """Exceptions for transfers whose named invoices are not what was paid (``amount_ok``: those
    that are) while another open item of their customer, one keying slip from a named number, is
    open for exactly the amount: a number typed for its neighbour ("F2600206" for F2600260) is as
    likely as a partial payment or an overpayment, so finance decides, shown both."""
    off = claims.join(amount_ok, on="transaction_id", how="anti")
    if off.height == 0:
        return pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
    named = off.join(
        open_items.select("invoice_id", "customer_id", "amount_open_cents"), on="invoice_id"
    )
    payer = (
        named.group_by("transaction_id")
        .agg(customer_id=pl.col("customer_id").first(), n=pl.col("customer_id").n_unique())
        .filter(pl.col("n") == 1)
        .join(todo.select("transaction_id", "amount_cents"), on="transaction_id")
        .filter(pl.col("amount_cents") > 0)
    )
    twins = (
        payer.join(
            open_items.select("customer_id", "invoice_id", amount_cents="amount_open_cents"),
            on=["customer_id", "amount_cents"],
        )
        .join(off, on=["transaction_id", "invoice_id"], how="anti")
        .join(off.select("transaction_id", named="invoice_id"), on="transaction_id")
    )
    twins = (
        one_slip_apart(twins, "invoice_id", "named")
        .select(
            "transaction_id", "invoice_id", "amount_cents", rule=pl.lit(Rule.INVOICE_NUMBER_FUZZY)
        )
        .unique()
    )
    if twins.height == 0:
        return pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
    listed = pl.concat(
        [
            named.join(twins, on="transaction_id", how="semi").select(
                "transaction_id",
                "invoice_id",
                amount_cents="amount_open_cents",
                rule="rule",
                score="confidence",
            ),
            twins.with_columns(score=pl.lit(0.5)),
        ]
    )
    return exception_rows(
        listed.select(
            "transaction_id",
            invoice_ids=pl.concat_list("invoice_id"),
            amount_cents="amount_cents",
            rule="rule",
            score="score",
        ),
        REASON_REFERENCE_AMOUNT_MISMATCH,
    )


# A SEPA remittance text holds 140 characters: a list this long may have lost its tail.
_CUT_TEXT_CHARS = 135


def _cut_list_completion(
    todo: pl.DataFrame, open_items: pl.DataFrame, claims: pl.DataFrame
) -> pl.DataFrame:
    """A list the text does not write out in full: "PAIEMENT FACTURES FA-1, FA-2, ..., FA-8, FA"
    cut at 140 characters, or a number written as its digits only beside a full one ("FV25/01052-
    00065" for FV25/01052 and FV26/00065, of the next year). The invoices named leave a
    remainder, and exactly one other open item of their customer, issued by the booking date, is
    open for exactly that remainder and, unless the text was cut, has its sequence number (its
    last digits, zeros aside) written in the text: it is the invoice the list left out. Two such
    items, or none, add nothing (the named ones are then paid and the rest is the rules'
    business)."""
    named = claims.join(todo.select("transaction_id"), on="transaction_id", how="semi")
    if named.height == 0:
        return claims.clear()
    # Every run of digits, zeros aside ("00065" is 65): the text's, and the named numbers'.
    runs = pl.element().str.strip_chars_start("0")
    said = todo.join(named.select("transaction_id").unique(), on="transaction_id", how="semi")
    said = said.select(
        "transaction_id",
        "amount_cents",
        "booking_date",
        cut=pl.col("remittance_unstructured").str.len_chars() >= _CUT_TEXT_CHARS,
        runs=pl.col("remittance_unstructured").str.extract_all(r"[0-9]+").list.eval(runs),
    )
    # Only a text cut, or with digits the named numbers do not hold, can name one more.
    extra = (
        said.select("transaction_id", run="runs")
        .explode("run")
        .join(
            named.select(
                "transaction_id",
                run=pl.col("invoice_id").str.extract_all(r"[0-9]+").list.eval(runs),
            ).explode("run"),
            on=["transaction_id", "run"],
            how="anti",
        )
        .filter(pl.col("run").str.len_chars() > 0)
        .select("transaction_id")
        .unique()
    )
    said = said.filter(pl.col("cut").fill_null(False)).vstack(
        said.filter(~pl.col("cut").fill_null(False)).join(extra, on="transaction_id", how="semi")
    )
    named = named.join(said.select("transaction_id"), on="transaction_id", how="semi")
    short = (
        _named_total(named, open_items)
        .join(said, on="transaction_id")
        .filter((pl.col("n_customers") == 1) & (pl.col("total") < pl.col("amount_cents")))
        .select(
            "transaction_id",
            "customer_id",
            "booking_date",
            "cut",
            "runs",
            rest=pl.col("amount_cents") - pl.col("total"),
        )
    )
    sequence = pl.col("invoice_id").str.extract(r"([0-9]+)[^0-9]*$", 1).str.strip_chars_start("0")
    return (
        short.join(
            open_items.select("invoice_id", "customer_id", "issue_date", rest="amount_open_cents"),
            on=["customer_id", "rest"],
        )
        .filter(pl.col("issue_date").is_null() | (pl.col("issue_date") <= pl.col("booking_date")))
        .join(named, on=["transaction_id", "invoice_id"], how="anti")
        .filter(pl.col("cut").fill_null(False) | pl.col("runs").list.contains(sequence))
        .filter(pl.len().over("transaction_id") == 1)
        .select(
            "transaction_id",
            "invoice_id",
            rule=pl.lit(Rule.GROUPED_INVOICE_NUMBERS),
            confidence=pl.lit(0.9),
        )
    )


def _cut_short(todo: pl.DataFrame, open_items: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
    """transaction_id of transfers whose text was cut by a bank's short field in the middle of
    a number ("FT25-00097, FT25-0", "INV FT25-00977/FT2": the last word is the start of a
    number like those named, and no number itself) and whose named invoices come to less than
    was paid: the list was longer than what is left of it, so the named invoices alone are not
    what was paid; the rules that follow (a truncated number, the payer's set of that sum)
    decide."""
    if claims.height == 0:
        return claims.select("transaction_id")
    last = (
        todo.join(claims.select("transaction_id").unique(), on="transaction_id", how="semi")
        .select(
            "transaction_id",
            "amount_cents",
            tail=normalize_reference(
                pl.col("remittance_unstructured").str.extract(r"([^ ,;/+]+)[ ,;/+]*$", 1)
            ),
        )
        .filter(pl.col("tail").str.len_chars() >= 2)
    )
    return (
        claims.join(last, on="transaction_id")
        .join(open_items.select("invoice_id", "amount_open_cents"), on="invoice_id")
        .with_columns(number=normalize_reference(pl.col("invoice_id")))
        .group_by("transaction_id")
        .agg(
            cut=(
                pl.col("number").str.starts_with(pl.col("tail"))
                & (pl.col("number") != pl.col("tail"))
            ).any()
            & ~(pl.col("number") == pl.col("tail")).any(),
            total=pl.col("amount_open_cents").sum(),
            amount=pl.col("amount_cents").first(),
        )
        .filter(pl.col("cut") & (pl.col("total") < pl.col("amount")))
        .select("transaction_id")
    )


def _netting_unmentioned_credit_notes(
    rule: Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]],
) -> Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]:
    """``rule`` whose claims also net the credit note the payer deducted without naming it
    (_unmentioned_credit_note): an order number names the invoice as a number does."""

    def netted(todo: pl.DataFrame, open_items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        claims, exceptions = rule(todo, open_items)
        extra = _unmentioned_credit_note(todo, open_items, claims)
        return pl.concat([claims, extra.select(claims.columns).cast(claims.schema)]), exceptions

    return netted


def _unmentioned_credit_note(
    todo: pl.DataFrame, open_items: pl.DataFrame, claims: pl.DataFrame
) -> pl.DataFrame:
    """An invoice paid less a credit note the payer deducted without naming it ("Facture
    FV26-00172", 500,00 short, and an avoir of 500,00 open on that customer): the one open credit
    note of the named invoices' customer, issued by the booking date, that makes the amount exact
    is netted. Two such credit notes, or none, add nothing (the shortfall is then the partial
    payment or write-off rules' business). Several invoices named less an unnamed credit note
    net it only when it is the customer's one open credit note: a list paid short while several
    credit notes are open may be short for another reason (one invoice disputed, paid in part),
    and which deduction the payer took is theirs to say."""
    credits = open_items.filter(pl.col("amount_open_cents") < 0).select(
        "invoice_id", "customer_id", "issue_date", rest="amount_open_cents"
    )
    if credits.height == 0 or claims.height == 0:
        return claims.clear()
    named = (
        claims.select("transaction_id", "invoice_id", "rule", "confidence")
        .join(open_items.select("invoice_id", "customer_id", "amount_open_cents"), on="invoice_id")
        .join(credits.select("customer_id").unique(), on="customer_id", how="semi")
    )
    # Transfers whose named items are all of one customer, name no credit note themselves, and
    # come to more than was paid.
    short = (
        named.group_by("transaction_id")
        .agg(
            customer_id=pl.col("customer_id").first(),
            n_customers=pl.col("customer_id").n_unique(),
            n_named=pl.col("invoice_id").n_unique(),
            any_credit=(pl.col("amount_open_cents") < 0).any(),
            total=pl.col("amount_open_cents").sum(),
            rule=pl.col("rule").first(),
            confidence=pl.col("confidence").min(),
        )
        .filter((pl.col("n_customers") == 1) & ~pl.col("any_credit"))
        .join(todo.select("transaction_id", "amount_cents", "booking_date"), on="transaction_id")
        .filter((pl.col("amount_cents") > 0) & (pl.col("total") > pl.col("amount_cents")))
        .with_columns(rest=pl.col("amount_cents") - pl.col("total"))
    )
    # (Other customers' transfers naming the same items were joined away: claims of several
    # customers are the other rules' business.)
    issued = pl.col("issue_date").is_null() | (pl.col("issue_date") <= pl.col("booking_date"))
    # How many credit notes each such transfer's customer had open when the money came.
    open_then = (
        short.select("transaction_id", "customer_id", "booking_date")
        .join(credits.select("customer_id", "issue_date"), on="customer_id")
        .filter(issued)
        .group_by("transaction_id")
        .agg(n_credits=pl.len())
    )
    return (
        short.join(credits, on=["customer_id", "rest"])
        .filter(issued)
        .filter(pl.len().over("transaction_id") == 1)
        .join(open_then, on="transaction_id")
        .filter((pl.col("n_named") == 1) | (pl.col("n_credits") == 1))
        .select("transaction_id", "invoice_id", "rule", confidence=pl.col("confidence") * 0.9)
    )


def _text_claims(
    todo: pl.DataFrame,
    open_items: pl.DataFrame,
    hits: pl.DataFrame,
    config: ReconciliationConfig,
    payers: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    found = invoice_numbers(todo, open_items, hits=hits, payers=payers)
    # A number several documents share alike ("2025-0007": FA-2025-0007 and LGE-2025-0007, two
    # series of one company) names the payer's when the payer's are among them.
    owned = (
        found.filter(pl.col("ambiguous"))
        .join(open_items.select("invoice_id", "customer_id"), on="invoice_id")
        .join(payers, on=["transaction_id", "customer_id"], how="semi")
        .select("transaction_id", "invoice_id")
    )
    if owned.height:
        found = pl.concat(
            [
                found.join(owned, on="transaction_id", how="anti"),
                found.join(owned, on=["transaction_id", "invoice_id"], how="semi").with_columns(
                    ambiguous=pl.lit(False),
                    rule=pl.when(pl.len().over("transaction_id") > 1)
                    .then(pl.lit(Rule.GROUPED_INVOICE_NUMBERS))
                    .otherwise(pl.lit(Rule.INVOICE_NUMBER)),
                ),
            ]
        )
    ambiguous = found.filter(pl.col("ambiguous")).join(
        todo.select("transaction_id", "amount_cents"), on="transaction_id"
    )
    # Alike candidates, but exactly one of them is open for the exact amount paid: that one.
    tie_break = (
        ambiguous.join(open_items.select("invoice_id", "amount_open_cents"), on="invoice_id")
        .filter(pl.col("amount_open_cents") == pl.col("amount_cents"))
        .filter(pl.len().over("transaction_id") == 1)
        .select("transaction_id", "invoice_id", "rule", confidence=pl.lit(0.9))
    )
    ambiguous = ambiguous.join(tie_break, on="transaction_id", how="anti")
    exceptions = exception_rows(
        ambiguous.join(
            open_items.select("invoice_id", "amount_open_cents"), on="invoice_id"
        ).select(
            "transaction_id",
            invoice_ids=pl.concat_list("invoice_id"),
            amount_cents="amount_open_cents",
            rule="rule",
            score="confidence",
        ),
        REASON_AMBIGUOUS_REFERENCE,
    )
    clear = found.filter(~pl.col("ambiguous"))
    has_strong = pl.col("strong").any().over("transaction_id")
    # Weak keys (a short number) only count when the amount is exactly what the transfer's
    # numbers name together: alone ("facture 217"), or beside strong ones ("FA2026-00412+00437",
    # "factures 173, 175 et 182"); short or over by no more than the bank charges (a payer who
    # adds the charges or rounds up: "Facture 270" with 0.01 more) when the payer is known as the
    # customer of one of them: a short number and an amount that is not even exact, from
    # anybody, are two coincidences ("REMISE CHEQUES N 7749680 1 CHQ" is no payment of invoice 1).
    tol = config.tolerance(pl.col("currency"))
    gap = pl.col("total") - pl.col("amount_cents")
    weak = clear.filter(~pl.col("strong").all().over("transaction_id"))
    vouched = (
        weak.join(open_items.select("invoice_id", "customer_id"), on="invoice_id")
        .join(payers.select("transaction_id", "customer_id"), on=["transaction_id", "customer_id"])
        .select("transaction_id")
        .unique()
    )
    confirmed = (
        _sign_total(weak, todo, open_items)
        .join(vouched.with_columns(vouched=pl.lit(True)), on="transaction_id", how="left")
        .filter(
            (pl.col("total") == pl.col("amount_cents"))
            | (
                (pl.col("amount_cents") > 0)
                & (gap != 0)
                & (gap.abs() <= tol)
                & pl.col("vouched").fill_null(False)
            )
        )
        .select("transaction_id")
    )
    grouped = clear.join(confirmed, on="transaction_id", how="semi").with_columns(
        rule=pl.when(pl.col("invoice_id").n_unique().over("transaction_id") > 1)
        .then(pl.lit(Rule.GROUPED_INVOICE_NUMBERS))
        .otherwise(pl.col("rule"))
    )
    claims = pl.concat(
        [
            grouped,
            clear.join(confirmed, on="transaction_id", how="anti").filter(
                has_strong & pl.col("strong")
            ),
        ]
    ).select("transaction_id", "invoice_id", "rule", "confidence")
    claims = pl.concat([claims, tie_break.with_columns(rule=pl.lit(Rule.INVOICE_NUMBER))])
    return claims, exceptions


# An exception lists at most this many one-typo candidates, best first.
MAX_FUZZY_CANDIDATES = 10


class _ClosedDocuments:
    """Documents settled before the run (CLOSED_ITEM) and which transfers' texts write them in
    full; their keys are built once, on the first transfer that needs them."""

    def __init__(self, closed: pl.DataFrame, run_tx: pl.DataFrame) -> None:
        self.closed = closed
        self.run_tx = run_tx
        self._keys: pl.DataFrame | None = None

    def hits(self, transfers: pl.DataFrame, strength: float) -> pl.DataFrame:
        """t, invoice_id, customer_id: the documents the texts of ``transfers`` (``t``) write by
        a key at least that strong."""
        out = {"t": pl.UInt32, "invoice_id": pl.String, "customer_id": pl.String}
        if self.closed.height == 0 or transfers.height == 0:
            return pl.DataFrame(schema=out)
        if self._keys is None:
            self._keys = invoice_keys(self.closed, carry=("customer_id",)).filter(
                pl.col("strength") >= 0.95
            )
        texts = self.run_tx.select("t", "remittance_unstructured").join(
            transfers.select("t"), on="t", how="semi"
        )
        found = text_hits(texts, self._keys.filter(pl.col("strength") >= strength), "t")
        return found.select(list(out)).unique().cast(out)


def _paid_rule_for(
    items: pl.DataFrame,
    hits: pl.DataFrame,
    closed: _ClosedDocuments,
    cited_elsewhere: list[pl.DataFrame],
) -> Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]:
    """Transfers whose text writes in full only documents already paid (paid_citations.py): an
    exception before the amount-only rules, kept as a doubt no later pass clears unless the
    run's returns reopen documents."""

    def rule(todo: pl.DataFrame, open_items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        exceptions = cited_paid(
            todo, open_items, items, hits, closed.hits(todo.select("t"), FULL_STRENGTH)
        )
        cited_elsewhere.append(exceptions.select("transaction_id"))
        return pl.DataFrame(schema=CANDIDATE), exceptions

    return rule


def _fuzzy_rule_for(
    customers: pl.DataFrame,
    aliases: pl.DataFrame,
    config: ReconciliationConfig,
    settled_later: Callable[[pl.Series], pl.DataFrame],
    hits: pl.DataFrame,
    items: pl.DataFrame,
    closed: _ClosedDocuments,
    cited_elsewhere: list[pl.DataFrame],
) -> Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]:
    """One typo or a truncation: only neighbours that fit the transfer by amount or payer are
    candidates (references.fuzzy_invoice_numbers). A guessed number settles only where the amount
    agrees: the only candidate whose amount fits, or the only one open for exactly the amount paid
    by its own customer's account. A lone neighbour that only the payer vouches for (its amount
    does not fit) is a slip as likely as a partial payment: an exception naming it
    (reference_amount_mismatch), never a guess. Anything else is an exception listing the best
    few. A text that writes in full the number of another document (``hits``: references.text_hits
    of the run, against every item ``items``; or a document settled before the run, ``closed``:
    _ClosedDocuments) cites that document, not a slip for its neighbour: it was paid already (a
    duplicate) or does not fit (issued later, another amount); which one the payer meant is
    finance's question. With ``config.correct_slips_onto_other_customers`` only a document of the
    neighbour's customer or of the payer's own (known by its IBAN) counts so; another customer's
    number is then a slip (in a ledger of thousands of invoices nearly every slip of a digit is
    some other customer's number). The transfers set aside so are added to
    ``cited_elsewhere``: a later pass cannot change what they cite."""

    known = known_ibans(customers, aliases)
    strong = hits.filter(pl.col("strength") >= 0.95).select("t", "i")

    def cites_closed(mine: pl.DataFrame) -> pl.DataFrame:
        """transaction_id, customer_id (the document's), customer_id_n (the neighbour's) where
        the text of a transfer of ``mine`` writes in full a document settled before the run."""
        out = {"transaction_id": pl.String, "customer_id": pl.String, "customer_id_n": pl.String}
        found = closed.hits(mine.select("t"), 0.95)
        return (
            mine.select("transaction_id", "t", customer_id_n="customer_id")
            .join(found.select("t", "customer_id").unique(), on="t")
            .select(list(out))
            .cast(out)
        )

    # Indexed per call, on what is still open: by then the exact rules have settled most items.
    def rule(todo: pl.DataFrame, open_items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        by_iban = payers_by_iban(todo, customers, aliases, known=known)
        found = fuzzy_invoice_numbers(
            todo, open_items, by_iban, tolerance_cents=config.short_payment_tolerance_cents
        )
        if found.height == 0:
            return found.select(list(CANDIDATE)), pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
        best = (pl.col("gap_cents") == 0) & pl.col("payer_fits")
        scored = found.with_columns(
            n=pl.len().over("transaction_id"),
            n_amount=pl.col("amount_fits").sum().over("transaction_id"),
            n_best=best.sum().over("transaction_id"),
            # Exact amount and a known payer count most; a write-off gap a little less.
            score=pl.lit(0.6)
            + pl.when(pl.col("gap_cents") == 0)
            .then(0.2)
            .when(pl.col("amount_fits"))
            .then(0.1)
            .otherwise(0.0)
            + pl.when(pl.col("payer_fits")).then(0.15).otherwise(0.0),
        )
        ok = scored.filter(
            pl.col("amount_fits") & ((pl.col("n_amount") == 1) | (best & (pl.col("n_best") == 1)))
        )
        # The number is wrong, so the amount is the proof: it proves nothing when the customer
        # has another open item of that same amount ("00905" typed, 00950 and 00912 both 309,00).
        # (Open then: an item a transfer booked later has paid in this run counts too.)
        mine = ok.join(
            open_items.select("invoice_id", "customer_id", "issue_date"), on="invoice_id"
        ).join(
            todo.select("transaction_id", "t", "amount_cents", "booking_date"), on="transaction_id"
        )
        # A slip is corrected only to an invoice that existed when the money came: a number
        # guessed onto a later invoice is a coincidence of digits (a date, a terminal id).
        too_late = mine.filter(pl.col("issue_date") > pl.col("booking_date"))
        ok = ok.join(too_late, on=["transaction_id", "invoice_id"], how="anti")
        mine = mine.join(too_late, on=["transaction_id", "invoice_id"], how="anti")
        paid_later = settled_later(mine["customer_id"].unique()).select(
            "customer_id", "alloc_t", amount_cents="amount_open_cents", other="invoice_id"
        )
        twins = (
            pl.concat(
                [
                    mine.join(
                        open_items.select(
                            "customer_id", amount_cents="amount_open_cents", other="invoice_id"
                        ),
                        on=["customer_id", "amount_cents"],
                    ).select("transaction_id", "invoice_id", "other"),
                    mine.join(paid_later, on=["customer_id", "amount_cents"])
                    .filter(pl.col("alloc_t") > pl.col("t"))
                    .select("transaction_id", "invoice_id", "other"),
                ]
            )
            .filter(pl.col("other") != pl.col("invoice_id"))
            .select("transaction_id")
            .unique()
        )
        cites = pl.concat(
            [
                strong.join(mine.select("t"), on="t", how="semi")
                .join(items.select("i", "customer_id", cited="invoice_id"), on="i")
                .join(mine, on="t", suffix="_n")
                .filter(pl.col("cited") != pl.col("invoice_id"))
                .select("transaction_id", "customer_id", "customer_id_n"),
                cites_closed(mine),
            ]
        )
        if config.correct_slips_onto_other_customers:
            # Only a number of the neighbour's customer, or of the payer's own (known by its
            # IBAN), is a citation; another customer's is a slip.
            cites = pl.concat(
                [
                    cites.filter(pl.col("customer_id") == pl.col("customer_id_n")),
                    cites.join(by_iban, on=["transaction_id", "customer_id"], how="semi"),
                ]
            )
        cites = cites.select("transaction_id").unique()
        cited_elsewhere.append(cites)  # what another document's number says does not change
        ok = ok.join(twins, on="transaction_id", how="anti").join(
            cites, on="transaction_id", how="anti"
        )
        doubt = (
            scored.join(ok, on="transaction_id", how="anti")
            .sort(
                ["transaction_id", "score", "gap_cents", "invoice_id"],
                descending=[False, True, False, False],
            )
            .filter(pl.int_range(pl.len()).over("transaction_id") < MAX_FUZZY_CANDIDATES)
            .join(open_items.select("invoice_id", "amount_open_cents"), on="invoice_id")
        )
        listed = doubt.select(
            "transaction_id",
            invoice_ids=pl.concat_list("invoice_id"),
            amount_cents="amount_open_cents",
            rule=pl.lit(Rule.INVOICE_NUMBER_FUZZY),
            score="score",
        )
        lone = doubt.filter(pl.col("n") == 1).select("transaction_id")
        exceptions = pl.concat(
            [
                exception_rows(
                    listed.join(lone, on="transaction_id", how="anti"), REASON_AMBIGUOUS_REFERENCE
                ),
                exception_rows(
                    listed.join(lone, on="transaction_id", how="semi"),
                    REASON_REFERENCE_AMOUNT_MISMATCH,
                ),
            ]
        )
        return ok.select(list(CANDIDATE)), exceptions

    return rule


def _payer_rule_for(
    customers: pl.DataFrame,
    aliases: pl.DataFrame,
    config: ReconciliationConfig,
    *,
    by_name: bool,
    settled_later: Callable[[pl.Series], pl.DataFrame],
) -> Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]:
    """Rules 4-5: a known payer's amount, against the sums of its open items (see
    amounts.amount_matches); ``settled_later``: the run's items settled so far, with the booking
    rank of the latest transfer that paid them."""
    known = known_ibans(customers, aliases)

    def rule(todo: pl.DataFrame, open_items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        by_iban = payers_by_iban(todo, customers, aliases, known=known)
        if by_name:
            unknown = todo.join(by_iban, on="transaction_id", how="anti")
            found, name_exc = payers_by_name(unknown, customers, aliases, config)
            # A name that fits several customers alike stands for all of them, as an IBAN
            # shared by a group's companies does: the one open item (or set) among theirs that
            # makes the amount settles; otherwise the name's doubt is what finance reads.
            payers = pl.concat(
                [
                    found.select("transaction_id", "customer_id"),
                    name_candidates(
                        unknown.join(name_exc, on="transaction_id", how="semi"),
                        customers,
                        aliases,
                        config,
                    ),
                ]
            ).unique()
            rules = dict(
                rule_single=Rule.PAYER_NAME_AMOUNT,
                rule_set=Rule.PAYER_NAME_AMOUNT_SET,
                confidence=0.9,
            )
        else:
            payers, name_exc = by_iban, pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
            rules = dict(
                rule_single=Rule.PAYER_IBAN_AMOUNT,
                rule_set=Rule.PAYER_IBAN_AMOUNT_SET,
                confidence=0.95,
            )
        payers = payers.join(
            todo.select("transaction_id", "t", "amount_cents", "currency", "booking_date"),
            on="transaction_id",
        )
        claims, exc = amount_matches(
            payers,
            open_items,
            config,
            settled_later=settled_later(payers["customer_id"].unique()),
            **rules,
        )
        name_exc = name_exc.join(claims, on="transaction_id", how="anti")
        exc = exc.join(name_exc, on="transaction_id", how="anti")
        return claims, pl.concat([name_exc, exc])

    return rule


def _document_allocations(
    pending: pl.DataFrame, open_items: pl.DataFrame, config: ReconciliationConfig
) -> pl.DataFrame:
    """The structured remittance as an instruction: a transfer whose remittance documents all
    name open items of its currency, each open for at least what is remitted on it, and whose
    remitted amounts (credit notes netted) make the amount paid (or exceed it by no more than the
    bank charges) pays each document what the payer said; the charges are written off on the
    largest document. Anything less than that is left to the rules that follow (and the
    documents stay in the transfer for finance to read)."""
    links = document_links(pending, open_items)
    if links.height == 0:
        return pl.DataFrame(schema={**_ALLOC_NO_ID, "t": pl.UInt32, "i": pl.UInt32})
    tol = config.tolerance(pl.col("currency"))
    rows = (
        links.join(
            open_items.select(
                "invoice_id", "customer_id", "i", "amount_open_cents", item_currency="currency"
            ),
            on="invoice_id",
        )
        .join(
            pending.select("transaction_id", "t", "amount_cents", "currency"), on="transaction_id"
        )
        .with_columns(
            fits=(pl.col("currency") == pl.col("item_currency"))
            & (pl.col("doc_cents").sign() == pl.col("amount_open_cents").sign())
            & (pl.col("doc_cents").abs() <= pl.col("amount_open_cents").abs())
        )
        .with_columns(
            total=pl.col("doc_cents").sum().over("transaction_id"),
            all_fit=pl.col("fits").all().over("transaction_id")
            & (pl.len().over("transaction_id") == pl.col("n_docs"))
            & (pl.col("invoice_id").n_unique().over("transaction_id") == pl.col("n_docs")),
        )
        .with_columns(gap=pl.col("total") - pl.col("amount_cents"))
        # One document paid short by more than the charges (a confirming bank's fees, say): a
        # partial payment of it, the rest left open, as for a number in the text.
        .with_columns(partial=(pl.col("gap") > tol) & (pl.col("n_docs") == 1))
        .filter(
            pl.col("all_fit")
            & (pl.col("amount_cents") > 0)
            & (pl.col("gap") >= 0)
            & ((pl.col("gap") <= tol) | pl.col("partial"))
        )
        .with_columns(
            # The charges on the largest document (then the first by id), one row per transfer.
            charged=(pl.col("gap") > 0)
            & ~pl.col("partial")
            & (
                pl.int_range(pl.len())
                .sort_by(["doc_cents", "invoice_id"], descending=[True, False])
                .over("transaction_id")
                == 0
            )
        )
    )
    base = dict(
        rule=pl.lit(Rule.REMITTANCE_DOCUMENTS),
        confidence=pl.lit(1.0),
        reverses_allocation_id=pl.lit(None, pl.String),
    )
    payments = rows.select(
        "transaction_id",
        "invoice_id",
        "customer_id",
        amount_cents=pl.when("partial")
        .then(pl.col("amount_cents"))
        .otherwise(pl.col("doc_cents") - pl.when("charged").then(pl.col("gap")).otherwise(0)),
        currency="currency",
        kind=pl.lit("payment"),
        **base,
        t="t",
        i="i",
    )
    write_offs = rows.filter("charged").select(
        "transaction_id",
        "invoice_id",
        "customer_id",
        amount_cents="gap",
        currency="currency",
        kind=pl.lit("write_off"),
        rule=pl.lit(Rule.SHORT_PAYMENT_WRITE_OFF),
        confidence=pl.lit(1.0),
        reverses_allocation_id=pl.lit(None, pl.String),
        t="t",
        i="i",
    )
    return (
        pl.concat([payments, write_offs])
        .select(*_ALLOC_NO_ID, "t", "i")
        .cast({**_ALLOC_NO_ID, "t": pl.UInt32, "i": pl.UInt32})
    )


def _current(run: _Run, tx: pl.DataFrame) -> pl.DataFrame:
    """This run's allocations so far, with what reversals need of their transaction."""
    if not run.allocations:
        return pl.DataFrame(schema={**ALLOCATION, **ORIGIN_COLUMNS})
    return _allocation_ids(pl.concat(run.allocations).cast(_ALLOC_NO_ID)).join(
        tx.select(
            "transaction_id",
            tx_amount_cents="amount_cents",
            tx_booking_date="booking_date",
            tx_counterparty_iban="counterparty_iban",
            tx_end_to_end_id="end_to_end_id",
            tx_remittance_unstructured="remittance_unstructured",
        ),
        on="transaction_id",
    )


def reconcile(
    transactions: pl.DataFrame,
    open_items: pl.DataFrame,
    customers: pl.DataFrame,
    aliases: pl.DataFrame,
    past_allocations: pl.DataFrame,
    decisions: pl.DataFrame | None = None,
    *,
    config: ReconciliationConfig | None = None,
    closed_items: pl.DataFrame | None = None,
) -> ReconciliationResult:
    """Match unreconciled transactions (BANK_TRANSACTION) to open items (OPEN_ITEM, open amounts).

    ``past_allocations``: ALLOCATION rows plus the ORIGIN_COLUMNS of their transaction, for
    reversals (only those that may be reversed are needed). ``decisions``: DECISION rows settled
    first, for the engine's tests and benchmarks; the warehouse run passes none, as finance's
    decisions are written beforehand by store.apply_decisions (manual_allocations) and their
    transactions are no longer pending. ``closed_items``: invoice_id of documents settled before
    the run (no longer open): a text that writes one in full cites it, it is no slip to correct.
    Returns allocations (ALLOCATION, sorted) and exceptions (one per unsettled transaction).
    """
    config = config or load_config()
    # Integer keys the engine's joins and windows work on: t ranks by booking, i is the row.
    tx = _with_booking_rank(_conform(transactions, BANK_TRANSACTION, "transactions"))
    tx = tx.with_columns(
        is_reversal=pl.col("is_reversal")
        | is_return(pl.col("amount_cents"), pl.col("bank_tx_code"))
    )
    items = _conform(open_items, OPEN_ITEM, "open_items").with_columns(
        i=pl.int_range(pl.len(), dtype=pl.UInt32)
    )
    # Optional: an item without an order number has none.
    items = items.with_columns(
        pl.lit(None, t).alias(c) for c, t in OPEN_ITEM_ORDER.items() if c not in items.columns
    ).cast(OPEN_ITEM_ORDER)
    customers = _conform(customers, CUSTOMER, "customers")
    aliases = _conform(aliases, PAYER_ALIAS, "aliases")
    decisions = _conform(
        pl.DataFrame(schema=DECISION) if decisions is None else decisions, DECISION, "decisions"
    )
    past = _conform(past_allocations, {**ALLOCATION, **ORIGIN_COLUMNS}, "past_allocations")
    closed = _ClosedDocuments(
        _conform(
            pl.DataFrame(schema=CLOSED_ITEM) if closed_items is None else closed_items,
            CLOSED_ITEM,
            "closed_items",
        ).join(items.select("invoice_id"), on="invoice_id", how="anti"),
        tx,
    )

    run = _Run(tx, items, config)
    # (Without decisions no join at all: even a semi join of none hashes the million ids.)
    decided = (
        decisions.join(tx.select("transaction_id"), on="transaction_id", how="semi")
        if decisions.height
        else decisions
    )
    if decided.height:
        run.record(_decision_allocations(decided, tx, items))
    left_alone = decided.filter(pl.col("invoice_id").is_null()).select("transaction_id")
    run.drop_pending(left_alone)
    reversal_tx = run.pending.filter(pl.col("is_reversal"))
    run.drop_pending(reversal_tx)
    zero = run.pending.filter(pl.col("amount_cents") == 0)
    run.drop_pending(zero)

    # Passes until nothing new settles: a settlement (or a reversal reopening an invoice) may
    # clear an earlier doubt, and a re-run must find nothing more to do.
    rev_exc = pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
    # What the texts and references name, once for the run, against every item (a reversal may
    # reopen any); each rule use filters it to what is still open.
    pairs, hits = run_links(run.pending, items)
    # The buyer's order numbers read in the texts; their digits are no invoice number.
    orders = order_links(run.pending, items)
    names = name_links(run.pending, items)
    hits = with_best_key(without_order_runs(hits, run.pending, orders).lazy()).collect()
    # A remittance taking a claim of the payer's own off a document: finance accepts or disputes.
    deducted = deducted_claims(run.pending, run.open_positive())
    run.drop_pending(deducted)
    run.record(_document_allocations(run.pending, run.open_positive(), config))
    # A number written before its document existed: set aside for finance, whatever follows.
    early = cited_before_issue(run.pending, items, hits, pairs, orders)
    run.drop_pending(early)
    run.record(
        discount_allocations(
            run.pending,
            run.open_positive(),
            hits,
            lambda said: payers_by_iban(said, customers, aliases),
        )
    )
    run.record(
        obvious_settlements(
            run.pending, run.open_positive(), pairs, hits, known_ibans(customers, aliases)
        )
        .with_columns(kind=pl.lit("payment"), reverses_allocation_id=pl.lit(None, pl.String))
        .select(*_ALLOC_NO_ID, "t", "i")
        .cast(_ALLOC_NO_ID)
    )
    # Transfers whose typed number is another existing document: the doubt outlives any pass.
    cited_elsewhere: list[pl.DataFrame] = []
    rules = [
        _reference_rule_for(pairs, hits),
        _netting_unmentioned_credit_notes(order_rule_for(orders, items, config, run.settled)),
        name_rule_for(names, orders, items, config, run.settled),
        _text_rule_for(hits, customers, aliases, config),
        _fuzzy_rule_for(
            customers, aliases, config, run.settled, hits, items, closed, cited_elsewhere
        ),
        _paid_rule_for(items, hits, closed, cited_elsewhere),
        statement_rule_for(customers, aliases, config, run.settled),
        _payer_rule_for(customers, aliases, config, by_name=False, settled_later=run.settled),
        _payer_rule_for(customers, aliases, config, by_name=True, settled_later=run.settled),
    ]
    # Two sums of open items fitting one payment stay a person's question on the next pass, even
    # if another transfer has meanwhile settled one of them: at the payment's date both fitted.
    # Unless that transfer was booked before the payment: then one was no longer open when the
    # money came, and the payment is read again once (a monthly 237,60 by cheque, January's
    # invoice settled by January's cheque, April's by May's).
    settled_doubts: list[pl.DataFrame] = []
    rechecked = pl.DataFrame(schema={"transaction_id": pl.String})
    reopening = reversal_tx.height > 0
    for _ in range(config.max_rounds):
        run.exceptions = []
        count = sum(a.height for a in run.allocations)
        for rule in rules:
            run.apply(rule)
        run.fail(no_match_rows(run.pending["transaction_id"], REASON_NO_MATCH))
        # Reversals after the rules, so they also see what this run settled.
        if reversal_tx.height:
            rev_alloc, rev_exc = reversal_allocations(
                reversal_tx, pl.concat([past, _current(run, tx)])
            )
            run.record(rev_alloc.cast(_ALLOC_NO_ID))
            reversal_tx = reversal_tx.join(rev_alloc, on="transaction_id", how="anti")
        if sum(a.height for a in run.allocations) == count:
            break
        if not run.exceptions and reversal_tx.height == 0:
            break
        # (A returned payment reopens what it had paid: then a cited document may be open again.)
        stable = pl.concat(
            [pl.DataFrame(schema={"transaction_id": pl.String})]
            + (cited_elsewhere if not reopening else [])
        )
        doubts = [
            e.filter(
                (pl.col("reason") == REASON_AMBIGUOUS_AMOUNT)
                | pl.col("transaction_id").is_in(stable["transaction_id"].implode())
            )
            for e in run.exceptions
        ]
        cleared = _cleared_before(doubts, run).join(rechecked, on="transaction_id", how="anti")
        rechecked = pl.concat([rechecked, cleared])
        doubts = [d.join(cleared, on="transaction_id", how="anti") for d in doubts]
        retry = pl.concat(
            [e.select("transaction_id") for e in run.exceptions]
            + [pl.DataFrame(schema={"transaction_id": pl.String})]
        ).join(
            pl.concat([pl.DataFrame(schema=RECONCILIATION_EXCEPTION), *doubts]),
            on="transaction_id",
            how="anti",
        )
        if retry.height == 0 and reversal_tx.height == 0:
            break  # every doubt is one no later pass can clear: this pass's exceptions stand
        settled_doubts.extend(doubts)
        run.pending = tx.join(retry, on="transaction_id", how="semi").filter(~pl.col("is_reversal"))
    run.exceptions.extend(settled_doubts)
    run.exceptions.append(early)
    run.exceptions.append(deducted)
    run.exceptions.append(rev_exc.join(reversal_tx, on="transaction_id", how="semi"))
    run.fail(no_match_rows(zero["transaction_id"], REASON_NO_MATCH))

    allocations = _allocation_ids(
        pl.concat([pl.DataFrame(schema=_ALLOC_NO_ID), *run.allocations]).cast(_ALLOC_NO_ID)
    ).sort("transaction_id", "allocation_id")
    exceptions = (
        pl.concat([e.cast(RECONCILIATION_EXCEPTION) for e in run.exceptions])
        if run.exceptions
        else pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
    ).sort("transaction_id")
    # A debit no rule claims is the company's own spending (suppliers, salaries, taxes, fees),
    # not customer money: not an exception for finance. It stays unallocated and is counted, and
    # a later run still looks at it (a refund of a credit note booked after it, say).
    debits = exceptions.filter(pl.col("reason") == REASON_NO_MATCH).join(
        tx.filter((pl.col("amount_cents") < 0) & ~pl.col("is_reversal")),
        on="transaction_id",
        how="semi",
    )
    exceptions = exceptions.join(debits, on="transaction_id", how="anti")
    not_customer = debits.select("transaction_id")
    result = ReconciliationResult(
        allocations, exceptions, _stats(tx, allocations, exceptions, left_alone), not_customer
    )
    result.stats["not_customer_debits"] = not_customer.height
    return result


def _cleared_before(doubts: list[pl.DataFrame], run: _Run) -> pl.DataFrame:
    """transaction_id of the amount doubts one of whose candidates this run settled with money
    booked before theirs: at their date it was no longer open."""
    amount = pl.concat([pl.DataFrame(schema=RECONCILIATION_EXCEPTION), *doubts]).filter(
        pl.col("reason") == REASON_AMBIGUOUS_AMOUNT
    )
    if amount.height == 0 or not run.allocations:
        return amount.select("transaction_id").clear()
    named = (
        amount.select(
            "transaction_id",
            c=pl.col("candidates").str.json_decode(
                pl.List(pl.Struct({"invoice_ids": pl.List(pl.String)}))
            ),
        )
        .explode("c")
        .select("transaction_id", invoice_id=pl.col("c").struct.field("invoice_ids"))
        .explode("invoice_id")
        .join(run.items.select("invoice_id", "i"), on="invoice_id")
    )
    # Only the items this run paid, on integers: their transfers' booking ranks.
    paid = named.join(run.payments().select("i", "alloc_t"), on="i")
    if paid.height == 0:
        return amount.select("transaction_id").clear()
    return (
        paid.join(run.tx.select("transaction_id", "t"), on="transaction_id")
        .filter(pl.col("alloc_t") < pl.col("t"))
        .select("transaction_id")
        .unique()
    )


def _with_booking_rank(tx: pl.DataFrame) -> pl.DataFrame:
    """tx with t, its rank by booking_date then transaction_id; refuses a transaction_id seen
    twice.

    The rows stay where they are (moving a million rows of text cost more than the ranking): one
    string sort and one integer sort give the order, duplicates are neighbours in the string
    sort."""
    by_id = tx["transaction_id"].arg_sort()
    ids = tx["transaction_id"].gather(by_id)
    same = ids.slice(1).eq_missing(ids.slice(0, max(tx.height - 1, 0)))
    if same.any():
        dup = ids.slice(1).filter(same)[0]
        raise ValueError(f"reconcile: transaction_id {dup!r} appears twice in transactions")
    n = tx.height
    rank = pl.int_range(n, eager=True, dtype=pl.UInt32)
    if tx["booking_date"].null_count():
        return tx.sort("booking_date", "transaction_id").with_columns(t=rank)
    key = tx["booking_date"].gather(by_id).cast(pl.Int64) * n + pl.int_range(
        n, eager=True, dtype=pl.Int64
    )
    # order[k] is the row booked k-th: its t is k.
    order = by_id.gather(key.arg_sort())
    return tx.with_columns(t=pl.repeat(0, n, eager=True, dtype=pl.UInt32).scatter(order, rank))


def _stats(
    tx: pl.DataFrame, allocations: pl.DataFrame, exceptions: pl.DataFrame, left_alone: pl.DataFrame
) -> dict[str, object]:
    # allocations are sorted by transaction_id: one transaction's rows are neighbours.
    ids = allocations["transaction_id"]
    settled = ids.len() - int(ids.slice(1).eq_missing(ids.slice(0, max(ids.len() - 1, 0))).sum())
    by_rule = (
        allocations.group_by("rule")
        .agg(
            transactions=pl.col("transaction_id").n_unique(),
            amount_cents=pl.col("amount_cents").sum(),
        )
        .sort("rule")
    )
    by_reason = exceptions.group_by("reason").len().sort("reason")
    return {
        "transactions": tx.height,
        "settled": settled,
        "exceptions": exceptions.height,
        "left_by_decision": left_alone.height,
        "amount_matched_cents": int(
            allocations.filter(pl.col("kind") == "payment")["amount_cents"].sum() or 0
        ),
        # Cents of different currencies do not add up: the same, per currency.
        "amount_matched_by_currency": dict(
            allocations.filter(pl.col("kind") == "payment")
            .group_by("currency")
            .agg(pl.col("amount_cents").sum())
            .sort("currency")
            .iter_rows()
        ),
        "by_rule": {
            r["rule"]: {"transactions": r["transactions"], "amount_cents": r["amount_cents"]}
            for r in by_rule.iter_rows(named=True)
        },
        "exceptions_by_reason": dict(by_reason.iter_rows()),
    }
