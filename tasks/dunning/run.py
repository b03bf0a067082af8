"""The dunning run's steps as plain functions: the flow (flows/dunning.py) only orders them.

Fresh data or nothing: the plan is refused when the bank data is older than the policy allows
(a customer who paid since would be reminded). The plan is recorded in the audit log before
anything else. Payment links are asked for before the outbox is written (the link goes into the
letter, and the letter's hash into the outbox), each link written `requested` before Bridge is
called and recorded after, never inside a write transaction. Just before sending, the items are
read again: an item paid (or a credit used) since the plan is dropped, and its communication is
cancelled and, when something is still due, rendered again under a new key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from o2c.models.dunning import AuditEvent, Channel, Communication, RenderedMessage
from o2c.models.dunning_policy import DunningPolicy
from o2c.tasks.dunning import audit, outbox, store
from o2c.tasks.dunning.plan import Plan, plan
from o2c.tasks.dunning.policy import PolicyError, check_fresh_data
from o2c.tasks.dunning.render import NOT_SENT, content_sha256, render
from o2c.tasks.dunning.settings import SenderSettings
from o2c.warehouse import transaction

# What the outbox carries today: an ERE letter waits for its channel (issue 18), a phone task or
# a litigation hand-over is a line on the collector's worklist.
SENT_CHANNELS = (Channel.EMAIL,)


class StaleBankData(PolicyError):
    """The bank data is too old to dun on: the message says how old, and what to do."""


@dataclass(frozen=True)
class DayPlan:
    """The day's plan with the bank data it stands on."""

    plan: Plan
    last_bank: date

    @property
    def as_of(self) -> date:
        return self.plan.as_of

    @property
    def communications(self) -> list[Communication]:
        return self.plan.communications


@dataclass
class Recheck:
    """What re-reading the items just before the send did."""

    kept: list[Communication] = field(default_factory=list)
    cancelled: dict[str, str] = field(default_factory=dict)  # key -> reason
    replaced: list[Communication] = field(default_factory=list)  # re-planned under a new key
    bounced: int = 0  # what the send that followed had bounced (for the alert)


def day_off(policy: DunningPolicy, day: date) -> bool:
    """A weekend or a public holiday of the policy's calendar (when it counts business days):
    the scheduled run sends nothing that day."""
    from o2c.tasks.dunning.policy import holidays_between

    if not policy.calendar.business_days:
        return False
    return day.weekday() >= 5 or day in holidays_between(policy.calendar, day, day)


def plan_day(con: duckdb.DuckDBPyConnection, as_of: date, policy: DunningPolicy) -> DayPlan:
    """The plan as of `as_of`, or StaleBankData naming the last load's date."""
    inputs = (
        store.read_items(con, as_of=as_of),
        store.read_exclusions(con, as_of=as_of),
        store.read_history(con),
        store.read_customers(con),
    )
    payments = store.read_payments(con, as_of=as_of)
    instalments = store.read_missed_instalments(con, as_of=as_of)
    # read last: store.last_bank_data leaves its DuckDB result open (fetchone), and a relation
    # query on the same connection after it is refused
    last_bank = store.last_bank_data(con, as_of=as_of)
    try:
        check_fresh_data(policy, as_of, last_bank)
    except PolicyError as exc:
        raise StaleBankData(f"dunning refused as of {as_of}: {exc}") from None
    assert last_bank is not None
    result = plan(as_of, *inputs, policy, payments=payments, instalments=instalments)
    return DayPlan(result, last_bank)


def record_plan(
    con: duckdb.DuckDBPyConnection, day: DayPlan, *, flow_run_id: str | None = None
) -> int:
    """One audit row for the plan: each communication's key, customer, level, channel, amount
    and items, and the items left out counted by reason."""
    skipped = day.plan.skipped.group_by("reason").len().sort("reason")
    payload = {
        "as_of": day.as_of,
        "last_bank_data": day.last_bank,
        "communications": [
            {
                "key": c.key,
                "customer_id": c.customer_id,
                "level": c.level,
                "channel": c.channel.value,
                "currency": c.currency,
                "due_cents": c.due_cents,
                "needs_approval": c.needs_approval,
                "items": [i.invoice_id for i in (*c.items, *c.credits)],
            }
            for c in day.communications
        ],
        "skipped": dict(zip(skipped["reason"], skipped["len"], strict=True)),
    }
    with transaction(con):
        return audit.record(
            con, AuditEvent.PLAN, day.as_of.isoformat(), payload, flow_run_id=flow_run_id
        )


def to_send(communications: Iterable[Communication]) -> list[Communication]:
    """The communications the outbox carries today (see SENT_CHANNELS)."""
    return [c for c in communications if c.channel in SENT_CHANNELS]


# A phone call or a litigation hand-over sends nothing, but it is a step of the case: the level
# after it (requires_previous) follows it, and it must not be planned again tomorrow.
HANDED_OVER = (Channel.PHONE_TASK, Channel.LITIGATION)


def to_hand_over(communications: Iterable[Communication]) -> list[Communication]:
    """Phone tasks, and litigation hand-overs that need no approval, of the day."""
    return [c for c in communications if c.channel in HANDED_OVER and not c.needs_approval]


def _worklist_message(c: Communication) -> RenderedMessage:
    subject = f"{c.level_name}: {c.customer_name} ({c.customer_id})"
    text = "\n".join([subject, *(f"{i.invoice_id}\t{i.open_cents}\t{c.currency}" for i in c.items)])
    return RenderedMessage(
        key=c.key,
        language=c.language,
        subject=subject,
        text=text,
        html=None,
        template_sha256=hashlib.sha256(b"o2c worklist").hexdigest(),
        content_sha256=content_sha256(subject, text, None),
    )


def hand_over(
    con: duckdb.DuckDBPyConnection,
    communications: list[Communication],
    *,
    flow_run_id: str | None = None,
) -> list[str]:
    """Write the day's phone tasks and hand-overs to the outbox as sent to the collector's
    worklist (provider `worklist`), with an audit row each; returns the keys newly written."""
    now = now_utc()
    with transaction(con):
        keys = outbox.enqueue_many(
            con, [(c, _worklist_message(c)) for c in communications], flow_run_id=flow_run_id
        )
        if keys:
            con.execute(
                "UPDATE dunning_outbox SET status = 'sent', provider_id = 'worklist',"
                " sent_at = ?, updated_at = ? WHERE list_contains(?, key)",
                [now, now, keys],
            ).fetchall()
            channel = {c.key: c.channel.value for c in communications}
            for key in keys:
                audit.record(
                    con,
                    AuditEvent.SEND,
                    key,
                    {"channel": channel[key], "status": "sent", "to": "worklist"},
                    flow_run_id=flow_run_id,
                )
    return keys


def known_keys(con: duckdb.DuckDBPyConnection, keys: Iterable[str]) -> set[str]:
    """Keys already in the outbox: a re-run writes, links and sends nothing for them."""
    wanted = list(keys)
    if not wanted:
        return set()
    found = con.execute(
        "SELECT key FROM dunning_outbox WHERE list_contains(?, key)", [wanted]
    ).fetchall()
    return {k for (k,) in found}


# -- payment links ------------------------------------------------------------------------------


def wants_link(c: Communication) -> bool:
    return c.channel == Channel.EMAIL and c.due_cents > 0


def request_links(
    con: duckdb.DuckDBPyConnection, communications: list[Communication], now: datetime
) -> dict[str, str | None]:
    """Write each link `requested` (one transaction, before Bridge is called); returns each
    key's url when an earlier run already got it (no second link for the same letter)."""
    from o2c.tasks.dunning.payment_links import record_requested

    wanted = [c for c in communications if wants_link(c)]
    with transaction(con):
        for c in wanted:
            record_requested(con, c, now)
    if not wanted:
        return {}
    rows = con.execute(
        "SELECT communication_key, url FROM payment_links"
        " WHERE list_contains(?, communication_key)",
        [[c.key for c in wanted]],
    ).fetchall()
    return dict(rows)


def create_links(
    communications: list[Communication], known: dict[str, str | None], client
) -> dict[str, object]:
    """Bridge's links for the communications that have none yet; no warehouse connection is
    open here. A link Bridge refused is left out: that letter says how to pay by transfer."""
    from o2c.tasks.dunning.payment_links import link_request

    created: dict[str, object] = {}
    for c in communications:
        if not wants_link(c) or known.get(c.key):
            continue
        try:
            created[c.key] = client.create(link_request(c))
        except Exception as exc:  # one refused link never stops the reminders
            created[c.key] = exc
    return created


def record_links(con: duckdb.DuckDBPyConnection, created: dict[str, object], now: datetime) -> None:
    """Bridge's answers, in one transaction."""
    from o2c.tasks.connectors.payment_links import PaymentLink, link_reference
    from o2c.tasks.dunning.payment_links import record_created

    with transaction(con):
        for key, link in created.items():
            if isinstance(link, PaymentLink):
                record_created(con, link_reference(key), link, now)


def with_links(
    communications: list[Communication], known: dict[str, str | None], created: dict[str, object]
) -> list[Communication]:
    """Each communication with its link's url, when it has one."""
    urls = {k: v for k, v in known.items() if v}
    urls.update({k: v.url for k, v in created.items() if getattr(v, "url", None)})
    return [replace(c, payment_link=urls[c.key]) if c.key in urls else c for c in communications]


def link_client_factory() -> Callable[[], object] | None:
    """The Bridge client when O2C_PAYLINK_* is configured, else None (letters say transfer)."""
    import os

    if not os.environ.get("O2C_PAYLINK_CLIENT_ID"):
        return None
    from o2c.models.settings_payment_links import load_payment_link_settings
    from o2c.orchestration import secret_from_block
    from o2c.tasks.connectors.payment_links import PaymentLinkClient

    settings = load_payment_link_settings(secret_from_block)
    return lambda: PaymentLinkClient(settings)


# -- outbox -------------------------------------------------------------------------------------


def render_all(communications: list[Communication]) -> list[tuple[Communication, object]]:
    """Each communication with its rendered message (settings read once)."""
    from o2c.tasks.common.language import LanguageSettings

    sender, words = SenderSettings(), LanguageSettings()
    return [(c, render(c, sender, language_settings=words)) for c in communications]


def enqueue_all(
    con: duckdb.DuckDBPyConnection,
    rendered: list[tuple[Communication, object]],
    *,
    flow_run_id: str | None = None,
) -> int:
    """Write them `pending` (one transaction); returns how many were new."""
    with transaction(con):
        return sum(outbox.enqueue(con, c, m, flow_run_id=flow_run_id) for c, m in rendered)


def _open_now(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, int]:
    """What is open of each item as the warehouse says now (payments recorded since the plan
    included), instalments of payment plans by the plan's item id."""
    items = store.read_items(con, as_of=as_of).select("invoice_id", "amount_open_cents")
    instalments = store.read_missed_instalments(con, as_of=as_of).select(
        invoice_id=pl.format(
            "{}#{}", pl.coalesce("invoice_id", pl.format("plan-{}", "exclusion_id")), "seq"
        ),
        amount_open_cents="unpaid_cents",
    )
    both = pl.concat([items, instalments.cast(items.schema)])
    return dict(zip(both["invoice_id"], both["amount_open_cents"], strict=True))


def recheck(
    con: duckdb.DuckDBPyConnection,
    communications: list[Communication],
    *,
    flow_run_id: str | None = None,
) -> Recheck:
    """Read the items again just before the send: a communication whose items are all still
    open as planned is kept; one with an item paid (or a credit used) since is cancelled in the
    outbox, and planned again with what is left when something is still due."""
    done = Recheck()
    if not communications:
        return done
    open_now = _open_now(con, communications[0].as_of)
    with transaction(con):
        status = dict(
            con.execute(
                "SELECT key, status FROM dunning_outbox WHERE list_contains(?, key)",
                [[c.key for c in communications]],
            ).fetchall()
        )
        for c in communications:
            if status.get(c.key) not in outbox.SENDABLE:
                continue  # sent, cancelled or unknown: nothing to re-check
            gone = [i.invoice_id for i in (*c.items, *c.credits) if not open_now.get(i.invoice_id)]
            if not gone:
                done.kept.append(c)
                continue
            items = tuple(i for i in c.items if open_now.get(i.invoice_id))
            credits = tuple(i for i in c.credits if open_now.get(i.invoice_id))
            reason = f"paid or settled since the plan: {', '.join(gone)}"
            outbox.cancel(con, c.key, reason, flow_run_id=flow_run_id)
            done.cancelled[c.key] = reason
            again = replace(c, items=items, credits=credits, payment_link=None)
            if items and again.due_cents > 0:
                done.replaced.append(again)
    return done


# -- results ------------------------------------------------------------------------------------


def outbox_rows(con: duckdb.DuckDBPyConnection, keys: Iterable[str]) -> dict[str, dict]:
    """The outbox rows of these keys, by key (status, provider id, reply)."""
    wanted = list(keys)
    if not wanted:
        return {}
    found = con.execute(
        "SELECT key, status, provider_id, reply, sent_at FROM dunning_outbox"
        " WHERE list_contains(?, key)",
        [wanted],
    ).fetchall()
    names = ("key", "status", "provider_id", "reply", "sent_at")
    return {row[0]: dict(zip(names, row, strict=True)) for row in found}


def formal_notices(communications: Iterable[Communication]) -> list[Communication]:
    """The day's ERE letters: sent by tasks/ere/send.py (PDF kept, AR24), not as emails."""
    return [c for c in communications if c.channel == Channel.ERE_LETTER]


def send_formal_notices(
    db: str | None,
    communications: list[Communication],
    *,
    flow_run_id: str | None = None,
    writer: Callable[[], object] | None = None,
):
    """The day's formal notices through AR24: kept, enqueued, read again against payments,
    sent once, AR24's ids recorded. None when there are none."""
    from o2c.tasks.ere.send import send_formal_notices as send_ere

    notices = formal_notices(communications)
    if not notices:
        return None
    return send_ere(
        db,
        notices,
        flow_run_id=flow_run_id,
        writer=writer,
        recheck=lambda con, cs: recheck(con, cs, flow_run_id=flow_run_id),
    )


def not_sent_status(c: Communication) -> str:
    """What the journal says of a communication the outbox does not carry today."""
    if c.channel in NOT_SENT:
        return "worklist"
    return "awaiting_channel"  # a channel not configured today (the row waits, unsent)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def previews_folder(db: str | None) -> Path:
    from o2c.warehouse import db_path

    return db_path(db).resolve().parent / "reports"
