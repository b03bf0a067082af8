"""The dunning plan: who gets which reminder today, and why the others do not.

A pure function of (as-of date, open items on that date, exclusions, action history, customers,
policy), so the same inputs always plan the same communications (and the outbox keys that make
a re-run send nothing twice). The heavy part is Polars expressions over all open items at once;
Python objects are built only for the communications planned.

The rules, as users of dunning tools asked for them (shared/CONTRACTS.md section 5):
- one communication per customer, currency and level, listing all the customer's overdue items
  at the highest level any of them reached (OCA/credit-control#21), oldest first; a courtesy
  reminder (a level before the due date) lists the items not yet due that reached it;
- open credit notes and overpayment credits in the same currency are listed and netted
  (OCA#211); a partly paid invoice is chased for what is left (OCA#330);
- an item is reached by a level when the days since its due date (business days with the
  country's holidays, or calendar days, per the policy) reach the level's `days`; overdue levels
  also wait the grace period (OCA#139), and courtesy levels apply only before the due date;
- a level that requires the previous one is sent only after the level below went out for one
  of the items listed: otherwise the highest level that may go now is sent instead;
- exclusions (dispute per invoice, payment plan, promise to pay until a date, opt-out) drop
  items or customers while active; under a payment plan only its missed instalments are
  chased, each as an item of its own (document_type "instalment", id "<invoice or plan-N>#<seq>",
  due on the instalment's date, for what is unpaid of it); the computed ones skip a
  communication whose amount due, net of credits, is under the level's minimum
  (below_threshold) or whose customer owes nothing net in that currency (net_credit);
- too soon after the last reminder (min_days_since_last), every item already reminded at that
  level, or an email level for a customer with no email address: skipped, with the reason.
Every item left out of a planned communication while it reached a level is in `skipped`, with
its reason, for the dunning journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import islice

import polars as pl

from o2c.models.dunning import (
    ACTION_HISTORY,
    DUNNING_CUSTOMER,
    EXCLUSION,
    MISSED_INSTALMENT,
    Channel,
    Communication,
    CustomerKind,
    DunnedItem,
    ExclusionKind,
    OutboxStatus,
)
from o2c.models.dunning_policy import DunningPolicy, cents_for
from o2c.models.schemas import OPEN_ITEM, conform
from o2c.tasks.dunning.penalties import RateTable, accrued_penalties, indemnity_cents, load_rates
from o2c.tasks.dunning.policy import elapsed_days

INSTALMENT_DOCUMENT = "instalment"

# Items that reached a level but are in no communication, and why (the journal's "not sent").
SKIPPED = {
    "customer_id": pl.String,
    "currency": pl.String,
    "invoice_id": pl.String,
    "level": pl.Int32,
    "reason": pl.String,  # an ExclusionKind, or one of the SkipReason values below
}


class SkipReason:
    """Why a communication that a level reached is not planned, beyond the exclusions."""

    TOO_SOON = "too_soon"  # the customer's last reminder is fresher than min_days_since_last
    ALREADY_REMINDED = "already_reminded"  # every item already went out at this level or above
    NO_EMAIL = "no_email"  # an email level, and no address to send it to


# History rows that count as "done": a failed send will be retried, a bounced or cancelled one
# never reached the customer.
_ACTED = (OutboxStatus.SENT.value, OutboxStatus.PENDING.value, OutboxStatus.UNKNOWN.value)
# The reason the journal shows when several exclusions hold: a customer-wide one before an
# invoice's (see plan_frames), and among them the most lasting first.
_PRIORITY = [
    k.value
    for k in (
        ExclusionKind.OPT_OUT,
        ExclusionKind.DISPUTE,
        ExclusionKind.PAYMENT_PLAN,
        ExclusionKind.PROMISE_TO_PAY,
        ExclusionKind.NET_CREDIT,
        ExclusionKind.BELOW_THRESHOLD,
    )
]

CREDIT_DOCUMENTS = ["credit_note", "overpayment"]

ITEM_COLUMNS = [
    "customer_id",
    "currency",
    "invoice_id",
    "document_type",
    "issue_date",
    "due_date",
    "amount_total_cents",
    "amount_open_cents",
    "days_late",
]


@dataclass(frozen=True)
class Plan:
    """The day's plan: the communications to send, and the items left out with their reason."""

    as_of: date
    communications: list[Communication]
    skipped: pl.DataFrame  # SKIPPED


@dataclass(frozen=True)
class PlanFrames:
    """The plan before it becomes objects: what the benchmark compares with its SQL twin."""

    communications: pl.DataFrame  # one row per communication (customer, currency, level ...)
    items: pl.DataFrame  # the overdue items of each, with penalties
    credits: pl.DataFrame  # the credits each nets
    skipped: pl.DataFrame


def plan(
    as_of: date,
    open_items: pl.DataFrame,
    exclusions: pl.DataFrame,
    history: pl.DataFrame,
    customers: pl.DataFrame,
    policy: DunningPolicy,
    *,
    payments: pl.DataFrame | None = None,
    instalments: pl.DataFrame | None = None,
    rates: RateTable | None = None,
) -> Plan:
    """The communications due on `as_of` (see the module docstring for the rules).

    `open_items`: OPEN_ITEM rows open on `as_of` (tasks/dunning/store.read_items);
    `exclusions`: EXCLUSION; `history`: models.dunning.ACTION_HISTORY; `customers`:
    DUNNING_CUSTOMER; `payments` (invoice_id, amount_cents, pay_date) lets penalties run on what
    is left after each payment (without it, on the open amount from the due date);
    `instalments`: MISSED_INSTALMENT, what payment plans let dunning chase.
    """
    frames = plan_frames(
        as_of,
        open_items,
        exclusions,
        history,
        customers,
        policy,
        payments=payments,
        instalments=instalments,
        rates=rates,
    )
    return Plan(as_of, communications(as_of, frames), frames.skipped)


def _per_segment(policy: DunningPolicy, segment: pl.Expr, value, dtype) -> pl.Expr:
    """An expression worth value(segment_name, segment_policy) on each row's segment."""
    chain = None
    for name, seg in policy.segments.items():
        v = pl.lit(value(name, seg), dtype)
        test = segment == name
        chain = pl.when(test).then(v) if chain is None else chain.when(test).then(v)
    return chain.otherwise(pl.lit(None, dtype))


def _by_customer(mapping: dict[str, object], default: pl.Expr, dtype) -> pl.Expr:
    if not mapping:
        return default
    return pl.col("customer_id").replace_strict(
        list(mapping), list(mapping.values()), default=default, return_dtype=dtype
    )


def _levels_frame(policy: DunningPolicy, currencies: list[str]) -> pl.DataFrame:
    """One row per segment, level and currency: what the level does and its threshold."""
    rows = [
        {
            "segment": name,
            "level": i,
            "currency": currency,
            "level_name": lv.name,
            "channel": lv.channel.value,
            "template": lv.template,
            "level_approval": lv.needs_approval,
            "min_days_since_last": lv.min_days_since_last,
            "min_open_cents": cents_for(lv.min_open, currency),
            "courtesy": lv.courtesy,
        }
        for name, seg in policy.segments.items()
        for i, lv in enumerate(seg.levels, start=1)
        for currency in currencies
    ]
    schema = {
        "segment": pl.String,
        "level": pl.Int32,
        "currency": pl.String,
        "level_name": pl.String,
        "channel": pl.String,
        "template": pl.String,
        "level_approval": pl.Boolean,
        "min_days_since_last": pl.Int32,
        "min_open_cents": pl.Int64,
        "courtesy": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)


def _reached(policy: DunningPolicy, elapsed: pl.Expr, grace: pl.Expr) -> pl.Expr:
    """The highest level (1-based, 0 for none) each item reached, on its segment's levels."""
    chain = None
    for name, seg in policy.segments.items():
        courtesy = [lv.days for lv in seg.levels if lv.courtesy]
        overdue = [lv.days for lv in seg.levels if not lv.courtesy]
        n_courtesy = len(courtesy)
        zero = [pl.lit(0, pl.Int32)]
        over = pl.sum_horizontal([(elapsed >= d).cast(pl.Int32) for d in overdue] or zero)
        cour = pl.sum_horizontal([(elapsed >= d).cast(pl.Int32) for d in courtesy] or zero)
        value = (
            pl.when((elapsed >= grace) & (over > 0))
            .then(over + n_courtesy)
            .when(elapsed <= 0)
            .then(cour)
            .otherwise(0)
        )
        test = pl.col("segment") == name
        chain = pl.when(test).then(value) if chain is None else chain.when(test).then(value)
    return chain.otherwise(0).cast(pl.Int32)


def _instalment_items(instalments: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Each missed instalment of a payment plan as an item dunning may chase."""
    missed = conform(instalments, MISSED_INSTALMENT, "missed instalments")
    base = pl.coalesce("invoice_id", pl.format("plan-{}", "exclusion_id"))
    return (
        missed.filter(pl.col("unpaid_cents") > 0)
        .select(
            invoice_id=pl.format("{}#{}", base, "seq"),
            document_type=pl.lit(INSTALMENT_DOCUMENT),
            customer_id="customer_id",
            issue_date=pl.lit(None, pl.Date),
            due_date="due_date",
            currency="currency",
            amount_total_cents="amount_cents",
            amount_open_cents="unpaid_cents",
        )
        .cast(dict(schema))
    )


def _max_level(policy: DunningPolicy) -> pl.Expr:
    """Each row's cap from its customer's max_level, found among its segment's levels (99:
    none)."""
    capped = {c: o.max_level for c, o in policy.customers.items() if o.max_level is not None}
    none = pl.lit(99, pl.Int32)
    if not capped:
        return none
    chain = None
    for name, seg in policy.segments.items():
        rank = {lv.name: i for i, lv in enumerate(seg.levels, start=1)}
        caps = {c: rank[level] for c, level in capped.items() if level in rank}
        value = _by_customer(caps, none, pl.Int32)
        test = pl.col("segment") == name
        chain = pl.when(test).then(value) if chain is None else chain.when(test).then(value)
    return chain.otherwise(none)


def _highest_free(policy: DunningPolicy, top: pl.Expr) -> pl.Expr:
    """The highest level <= `top` that does not require the previous one."""
    chain = None
    for name, seg in policy.segments.items():
        free = [i for i, lv in enumerate(seg.levels, start=1) if not lv.requires_previous]
        best = [max(f for f in free if f <= t) for t in range(1, len(seg.levels) + 1)]
        value = top.replace_strict(
            list(range(1, len(best) + 1)), best, default=1, return_dtype=pl.Int32
        )
        test = pl.col("segment") == name
        chain = pl.when(test).then(value) if chain is None else chain.when(test).then(value)
    return chain.otherwise(1).cast(pl.Int32)


def plan_frames(
    as_of: date,
    open_items: pl.DataFrame,
    exclusions: pl.DataFrame,
    history: pl.DataFrame,
    customers: pl.DataFrame,
    policy: DunningPolicy,
    *,
    payments: pl.DataFrame | None = None,
    instalments: pl.DataFrame | None = None,
    rates: RateTable | None = None,
) -> PlanFrames:
    """The plan as frames (see `plan`)."""
    # what each item needs on its way; names, languages and addresses join the few
    # communications at the end rather than travel with every item
    items = conform(open_items, OPEN_ITEM, "open items").select(
        [c for c in OPEN_ITEM if c not in ("legal_entity", "reference")]
    )
    if instalments is not None and instalments.height:
        items = pl.concat([items, _instalment_items(instalments, items.schema)])
    customers = conform(customers, DUNNING_CUSTOMER, "dunning customers").select(
        list(DUNNING_CUSTOMER)
    )
    twice = customers.filter(pl.col("customer_id").is_duplicated())["customer_id"]
    if twice.len():  # joined to items, a second row would count every item twice
        raise ValueError(f"dunning customers: customer_id {twice[0]!r} appears more than once")
    known = [k.value for k in CustomerKind]
    odd = customers.filter(
        pl.col("customer_kind").is_not_null() & ~pl.col("customer_kind").is_in(known)
    )
    if odd.height:
        raise ValueError(
            f"dunning customers: customer {odd['customer_id'][0]!r} has customer_kind "
            f"{odd['customer_kind'][0]!r}, not one of {known}"
        )
    contacts = customers.select("customer_id", "name", "language", "emails")
    exclusions = conform(exclusions, EXCLUSION, "exclusions").filter(
        pl.col("until").is_null() | (pl.col("until") >= as_of)
    )
    # what was done by `as_of`: a plan for an earlier day does not see later reminders
    acted = conform(history, ACTION_HISTORY, "action history").filter(
        pl.col("status").is_in(_ACTED) & (pl.col("acted_on") <= as_of)
    )
    acted_days = acted["acted_on"].drop_nulls()
    acted_span = [acted_days.min(), acted_days.max()] if acted_days.len() else []
    overrides = policy.customers
    segment_of = {c: o.segment for c, o in overrides.items() if o.segment}
    due_dates = items["due_date"].drop_nulls()
    span = [as_of, *(due_dates.min(), due_dates.max())] if due_dates.len() else [as_of]

    # customer attributes on every item, and each item's level
    items = (
        items.lazy()
        .join(
            customers.lazy().select("customer_id", "customer_kind", "segment"),
            on="customer_id",
            how="left",
        )
        .with_columns(
            customer_kind=pl.col("customer_kind").fill_null(CustomerKind.BUSINESS.value),
            segment=_by_customer(segment_of, pl.col("segment"), pl.String),
        )
        .with_columns(
            segment=pl.when(pl.col("segment").is_in(list(policy.segments)))
            .then(pl.col("segment"))
            .otherwise(pl.lit("default"))
        )
        .with_columns(
            days_late=(pl.lit(as_of) - pl.col("due_date")).dt.total_days().cast(pl.Int32),
            elapsed=elapsed_days(policy.calendar, pl.col("due_date"), pl.lit(as_of), span),
            grace=_by_customer(
                {c: o.grace_days for c, o in overrides.items() if o.grace_days is not None},
                _per_segment(policy, pl.col("segment"), lambda _, s: s.grace_days, pl.Int32),
                pl.Int32,
            ),
            max_level=_max_level(policy),
        )
        .with_columns(
            reached=pl.min_horizontal(
                _reached(policy, pl.col("elapsed"), pl.col("grace")), pl.col("max_level")
            )
        )
        .drop("elapsed", "grace", "max_level")
        .collect()
    )

    # exclusions: the customer's first, then the invoice's
    by_customer = (
        exclusions.filter(pl.col("invoice_id").is_null())
        .with_columns(
            rank=pl.col("kind").replace_strict(_PRIORITY, range(len(_PRIORITY)), default=99)
        )
        .sort("rank")
        .group_by("customer_id")
        .agg(
            customer_exclusion=pl.col("kind").first(),
            # a payment plan chases its own missed instalments: they are excluded only by
            # something else (an opt-out, a promise to pay)
            instalment_exclusion=pl.col("kind")
            .filter(pl.col("kind") != ExclusionKind.PAYMENT_PLAN.value)
            .first(),
        )
    )
    by_invoice = (
        exclusions.filter(pl.col("invoice_id").is_not_null())
        .with_columns(
            rank=pl.col("kind").replace_strict(_PRIORITY, range(len(_PRIORITY)), default=99)
        )
        .sort("rank")
        .group_by("invoice_id")
        .agg(invoice_exclusion=pl.col("kind").first())
    )
    group = ["customer_id", "currency"]
    balance = (  # the ledger: a missed instalment is part of an invoice already counted
        items.filter(pl.col("document_type") != INSTALMENT_DOCUMENT)
        .group_by(group)
        .agg(balance_cents=pl.col("amount_open_cents").sum())
    )
    # what the customer owes: positive open amounts, credit documents never (a credit note
    # allocated beyond its amount is the ledger's question, not a reminder's); only what is
    # late or reached a level, and the credits, go further
    debt = (pl.col("amount_open_cents") > 0) & ~pl.col("document_type").is_in(CREDIT_DOCUMENTS)
    due_now = debt & ((pl.col("reached") > 0) | (pl.col("days_late") > 0))
    items = (
        items.filter(due_now | (pl.col("amount_open_cents") < 0))
        .join(by_customer, on="customer_id", how="left")
        .join(by_invoice, on="invoice_id", how="left")
    )
    credits = items.filter(
        (pl.col("amount_open_cents") < 0) & pl.col("customer_exclusion").is_null()
    )
    credit_totals = credits.group_by(group).agg(credits_cents=pl.col("amount_open_cents").sum())

    exclusion = (
        pl.when(pl.col("document_type") == INSTALMENT_DOCUMENT)
        .then(pl.col("instalment_exclusion"))
        .otherwise(pl.coalesce("customer_exclusion", "invoice_exclusion"))
    )
    candidates = items.filter(due_now)
    excluded = candidates.filter(exclusion.is_not_null() & (pl.col("reached") > 0)).select(
        *group, "invoice_id", level="reached", reason=exclusion
    )
    active = candidates.filter(exclusion.is_null())
    n_courtesy = _per_segment(
        policy, pl.col("segment"), lambda _, s: sum(lv.courtesy for lv in s.levels), pl.Int32
    )
    active = active.with_columns(top=pl.col("reached").max().over(group)).filter(pl.col("top") > 0)
    listed = active.filter(
        pl.when(pl.col("top") <= n_courtesy)
        .then(pl.col("reached") > 0)
        .otherwise(pl.col("days_late") > 0)
    )

    # what the history says about the listed items and the customer
    item_history = acted.group_by("invoice_id").agg(done=pl.col("level").max())
    last_key = (
        acted.join(listed.select("invoice_id"), on="invoice_id")
        .sort("acted_on", "level")
        .group_by(group)
        .agg(previous_key=pl.col("key").last())
    )
    last_action = acted.group_by(group).agg(last_action=pl.col("acted_on").max())
    listed = listed.join(item_history, on="invoice_id", how="left").with_columns(
        pl.col("done").fill_null(0)
    )
    comms = (
        listed.group_by(group)
        .agg(
            pl.col("segment", "top", "customer_kind").first(),
            done_max=pl.col("done").max(),
            done_min=pl.col("done").min(),
            overdue_cents=pl.col("amount_open_cents").sum(),
        )
        .with_columns(
            level=pl.max_horizontal(
                pl.min_horizontal("top", pl.col("done_max") + 1),
                _highest_free(policy, pl.col("top")),
            ).cast(pl.Int32)
        )
    )
    currencies = sorted(items["currency"].unique().drop_nulls().to_list()) or ["EUR"]
    levels = _levels_frame(policy, currencies)
    min_open_override = pl.DataFrame(
        [
            {"customer_id": c, "currency": cur, "override_min_cents": cents_for(o.min_open, cur)}
            for c, o in overrides.items()
            if o.min_open is not None
            for cur in currencies
        ],
        schema={"customer_id": pl.String, "currency": pl.String, "override_min_cents": pl.Int64},
    )
    approval = {c: o.needs_approval for c, o in overrides.items() if o.needs_approval is not None}
    comms = (
        comms.join(levels, on=["segment", "level", "currency"], how="left")
        .join(contacts, on="customer_id", how="left")
        .join(credit_totals, on=group, how="left")
        .join(balance, on=group, how="left")
        .join(last_action, on=group, how="left")
        .join(last_key, on=group, how="left")
        .join(min_open_override, on=group, how="left")
        .with_columns(
            credits_cents=pl.col("credits_cents").fill_null(0),
            name=pl.col("name").fill_null(pl.col("customer_id")),
            language=pl.col("language").fill_null("fr"),
            emails=pl.col("emails").fill_null([]),
            min_open_cents=pl.coalesce("override_min_cents", "min_open_cents"),
            needs_approval=_by_customer(approval, pl.col("level_approval"), pl.Boolean),
            since_last=elapsed_days(
                policy.calendar,
                pl.col("last_action"),
                pl.lit(as_of),
                [*span, *acted_span],
            ),
        )
        .with_columns(due_cents=pl.col("overdue_cents") + pl.col("credits_cents"))
        .with_columns(
            skip=pl.when(pl.col("balance_cents") <= 0)
            .then(pl.lit(ExclusionKind.NET_CREDIT.value))
            .when(pl.col("due_cents") < pl.max_horizontal("min_open_cents", 1))
            .then(pl.lit(ExclusionKind.BELOW_THRESHOLD.value))
            .when(pl.col("done_min") >= pl.col("level"))
            .then(pl.lit(SkipReason.ALREADY_REMINDED))
            .when(pl.col("since_last") < pl.col("min_days_since_last"))
            .then(pl.lit(SkipReason.TOO_SOON))
            .when((pl.col("channel") == Channel.EMAIL.value) & (pl.col("emails").list.len() == 0))
            .then(pl.lit(SkipReason.NO_EMAIL))
        )
    )
    skipped_groups = comms.filter(pl.col("skip").is_not_null()).select(*group, "level", "skip")
    skipped = pl.concat(
        [
            excluded,
            listed.join(skipped_groups, on=group).select(
                *group, "invoice_id", "level", reason="skip"
            ),
        ]
    ).cast(SKIPPED)
    comms = comms.filter(pl.col("skip").is_null())
    listed = listed.join(comms.select(*group, "level", "courtesy"), on=group)

    # penalties and the indemnity: business customers, from the first overdue level on
    legal = listed.filter(
        ~pl.col("courtesy")
        & (pl.col("customer_kind") == CustomerKind.BUSINESS.value)
        & (pl.col("document_type") == "invoice")
    )
    if legal.is_empty():
        penalty = pl.DataFrame(schema={"invoice_id": pl.String, "penalty_cents": pl.Int64})
    else:
        paid = payments
        if paid is None:  # no payment dates: the open amount ran from the due date
            paid = pl.DataFrame(
                schema={"invoice_id": pl.String, "amount_cents": pl.Int64, "pay_date": pl.Date}
            )
            legal = legal.with_columns(amount_total_cents=pl.col("amount_open_cents"))
        penalty = accrued_penalties(legal, paid, as_of=as_of, rates=rates or load_rates())
    listed = (
        listed.join(penalty, on="invoice_id", how="left")
        .with_columns(
            penalty_cents=pl.when(pl.col("invoice_id").is_in(legal["invoice_id"].implode()))
            .then(pl.col("penalty_cents").fill_null(0))
            .otherwise(0),
            indemnity_cents=pl.when(pl.col("invoice_id").is_in(legal["invoice_id"].implode()))
            .then(indemnity_cents(pl.col("currency"), pl.col("customer_kind"), pl.col("days_late")))
            .otherwise(0),
        )
        .sort(*group, "due_date", "invoice_id")
        .select(*ITEM_COLUMNS, "penalty_cents", "indemnity_cents")
    )
    credits = (
        credits.join(comms.select(group), on=group)
        .with_columns(days_late=pl.lit(0, pl.Int32))
        .sort(*group, "due_date", "invoice_id")
        .select(ITEM_COLUMNS)
    )
    comms = comms.sort(group).select(
        *group,
        "level",
        "level_name",
        "channel",
        "template",
        "needs_approval",
        "name",
        "language",
        "customer_kind",
        "emails",
        "previous_key",
        "overdue_cents",
        "credits_cents",
        "due_cents",
    )
    return PlanFrames(comms, listed, credits, skipped.sort(*group, "invoice_id"))


def _dunned(frame: pl.DataFrame) -> list[DunnedItem]:
    """DunnedItems of the frame's rows, in order (columns read once: no per-row dicts)."""
    kinds = frame["document_type"].replace("overpayment", "unapplied_credit")
    zero = [0] * frame.height
    columns = [
        frame["invoice_id"].to_list(),
        kinds.to_list(),
        frame["issue_date"].to_list(),
        frame["due_date"].to_list(),
        frame["amount_total_cents"].to_list(),
        frame["amount_open_cents"].to_list(),
        frame["days_late"].to_list(),
        frame["penalty_cents"].to_list() if "penalty_cents" in frame.columns else zero,
        frame["indemnity_cents"].to_list() if "indemnity_cents" in frame.columns else zero,
    ]
    return list(map(DunnedItem, *columns))


def communications(as_of: date, frames: PlanFrames) -> list[Communication]:
    """The planned communications as the outbox, templates and channels read them.

    The three frames are sorted alike (customer, currency), so each communication takes the
    next n items and credits in order: no lookup per communication."""
    group = ["customer_id", "currency"]
    counts = (
        frames.communications.select(group)
        .join(
            frames.items.group_by(group).len("n_items"),
            on=group,
            how="left",
            maintain_order="left",
        )
        .join(
            frames.credits.group_by(group).len("n_credits"),
            on=group,
            how="left",
            maintain_order="left",
        )
        .fill_null(0)
    )
    items, credits = iter(_dunned(frames.items)), iter(_dunned(frames.credits))
    kinds = {k.value: k for k in CustomerKind}  # a lookup: Enum(value) costs ~2 us a call
    channels = {c.value: c for c in Channel}
    rows = frames.communications.select(
        "customer_id",
        "currency",
        "level",
        "level_name",
        "channel",
        "template",
        "needs_approval",
        "name",
        "language",
        "customer_kind",
        "emails",
        "previous_key",
    ).iter_rows()
    return [
        Communication(
            as_of=as_of,
            customer_id=customer,
            customer_name=name,
            language=language,
            customer_kind=kinds[kind],
            currency=currency,
            level=level,
            level_name=level_name,
            channel=channels[channel],
            template=template,
            recipients=tuple(emails),
            needs_approval=bool(approval),
            items=tuple(islice(items, n_items)),
            credits=tuple(islice(credits, n_credits)),
            previous_key=previous,
        )
        for (
            customer,
            currency,
            level,
            level_name,
            channel,
            template,
            approval,
            name,
            language,
            kind,
            emails,
            previous,
        ), n_items, n_credits in zip(
            rows, counts["n_items"].to_list(), counts["n_credits"].to_list(), strict=True
        )
    ]
