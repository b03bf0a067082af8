"""dunning: the day's reminders, from the plan to the outbox to the channel, with its journal.

Thin: each step is a task over a plain function of tasks/dunning/run.py (and approval, journal,
worklist). Fresh data or nothing: the plan is refused when the bank data is too old. Levels that
need finance's approval pause the run on a form (or `approve_all` stands in for it); automatic
levels go without waiting. Sends run in batches outside the warehouse writer lock, one task per
batch (the one that retries when the channel cannot be reached at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from prefect import flow, pause_flow_run, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.run_names import as_of_name
from o2c.models.dunning import Channel, Communication
from o2c.models.dunning_approval import answer_of, approval_form
from o2c.orchestration import (
    current_flow_run_id,
    markdown_artifact,
    table_artifact,
    warehouse_writer,
    writing,
)
from o2c.tasks.channels import ChannelUnavailable, Envelope, SendResult
from o2c.tasks.channels.email import SmtpSettings
from o2c.tasks.common.language import Lang, company_language
from o2c.tasks.dunning import approval as approving
from o2c.tasks.dunning import journal, previews, run
from o2c.tasks.dunning.outbox import mail_folder
from o2c.tasks.dunning.worklist import worklist, worklist_rows


@task(name="plan-dunning", cache_policy=NO_CACHE)
def plan_and_record(
    db: str | None, as_of: date, policy_file: str | None
) -> tuple[run.DayPlan, set[str]]:
    """Refuse stale bank data, plan, and record the plan in the audit log."""
    from o2c.tasks.dunning.policy import load_policy

    policy = load_policy(policy_file)
    with writing(db) as con:
        day = run.plan_day(con, as_of, policy)
        run.record_plan(con, day, flow_run_id=current_flow_run_id())
        known = run.known_keys(con, (c.key for c in day.communications))
    return day, known


def not_today(policy_file: str | None) -> bool:
    """A scheduled run (no as_of) on a public holiday of the policy's calendar does nothing."""
    from o2c.tasks.dunning.policy import load_policy

    return run.day_off(load_policy(policy_file), date.today())


@task(name="payment-links", cache_policy=NO_CACHE)
def payment_links(db: str | None, communications: list[Communication]) -> list[Communication]:
    """With Bridge configured: each link written `requested`, asked for with no warehouse
    connection open, recorded after. Without it the letters say how to pay by transfer."""
    factory = run.link_client_factory()
    if factory is None or not communications:
        return communications
    with writing(db) as con:
        known = run.request_links(con, communications, run.now_utc())
    client = factory()
    try:
        created = run.create_links(communications, known, client)
    finally:
        client.close()
    with writing(db) as con:
        run.record_links(con, created, run.now_utc())
    return run.with_links(communications, known, created)


@task(name="hand-over-to-worklist", cache_policy=NO_CACHE)
def hand_over(db: str | None, communications: list[Communication]) -> int:
    if not communications:
        return 0
    with writing(db) as con:
        return len(run.hand_over(con, communications, flow_run_id=current_flow_run_id()))


@task(name="write-outbox", cache_policy=NO_CACHE)
def write_outbox(db: str | None, communications: list[Communication]) -> int:
    rendered = run.render_all(communications)
    with writing(db) as con:
        return run.enqueue_all(con, rendered, flow_run_id=current_flow_run_id())


@task(name="recheck-items", cache_policy=NO_CACHE)
def recheck_items(db: str | None, communications: list[Communication]) -> run.Recheck:
    with writing(db) as con:
        return run.recheck(con, communications, flow_run_id=current_flow_run_id())


def _unreachable(task, task_run, state) -> bool:
    """Retry a batch only when the channel could not be reached: then nothing left."""
    try:
        state.result()
    except ChannelUnavailable:
        return True
    except Exception:
        return False
    return False


@task(
    name="send-batch",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=30,
    retry_condition_fn=_unreachable,
)
def send_batch(sender, envelopes: Sequence[Envelope]) -> list[SendResult]:
    """One batch on one connection; the sender retries each message on temporary failures."""
    return sender.send_batch(envelopes)


def _send(db: str | None):
    from o2c.tasks.channels.email import email_sender
    from o2c.tasks.dunning.outbox import send_pending

    settings = SmtpSettings()
    sender = email_sender(settings, db=db)
    return send_pending(
        db,
        sender,
        batch_size=settings.batch_size,
        flow_run_id=current_flow_run_id(),
        send_batch=lambda s, envelopes: send_batch(s, envelopes),
        writer=lambda: warehouse_writer(db),
    )


@task(name="send-formal-notices", cache_policy=NO_CACHE)
def send_notices(db: str | None, notices: list[Communication]):
    """Formal notices through AR24 (tasks/ere/send.py); without AR24 settings they wait."""
    from o2c.models.settings_ar24 import Ar24SettingsError

    try:
        return run.send_formal_notices(
            db, notices, flow_run_id=current_flow_run_id(), writer=lambda: warehouse_writer(db)
        )
    except Ar24SettingsError as exc:
        print(f"ERE not configured ({exc}): {len(notices)} formal notice(s) wait")
        return None


def _deliver(db: str | None, communications: list[Communication]) -> run.Recheck:
    """Links, outbox, the items read again, then the send; formal notices by their channel."""
    notices = run.formal_notices(communications)
    emails = [c for c in communications if c.channel != Channel.ERE_LETTER]
    checked = run.Recheck()
    if emails:
        linked = payment_links(db, emails)
        write_outbox(db, linked)
        checked = recheck_items(db, linked)
        if checked.replaced:
            write_outbox(db, payment_links(db, checked.replaced))
        summary = _send(db)
        print(f"dunning sends: {summary}")
        checked.bounced = summary.counts.get("bounced", 0)
    if notices:
        ere = send_notices(db, notices)
        print(f"formal notices: {ere}")
        sent = getattr(ere, "summary", None)
        checked.bounced += sent.counts.get("bounced", 0) if sent else 0
    return checked


def _alert_bounces(bounced: int, refused: int = 0) -> None:
    """o2c.dunning.bounced for the alert of automations.yaml (o2c-dunning-bounced), when a
    reminder bounced (or, with issue 18, a letter was refused)."""
    if bounced + refused == 0:
        return
    from prefect.events import emit_event

    emit_event(
        event="o2c.dunning.bounced",
        resource={"prefect.resource.id": f"o2c.dunning.run.{current_flow_run_id() or 'local'}"},
        payload={"bounced": bounced, "refused": refused},
    )


@task(name="record-approval", cache_policy=NO_CACHE)
def record_approval(
    db: str | None, asking: list[Communication], decision: approving.Approval
) -> list[Communication]:
    with writing(db) as con:
        return approving.record_approval(con, asking, decision, flow_run_id=current_flow_run_id())


def _ask_finance(asking: list[Communication], as_of: date, wait_minutes: int, lang: Lang):
    choices = approving.form_choices(asking, lang)
    form = approval_form(
        [c.label for c in choices], approving.words(lang), approving.default_until(as_of)
    )
    answer = pause_flow_run(
        wait_for_input=form.with_initial_data(description=approving.form_note(asking, lang)),
        timeout=wait_minutes * 60,
    )
    return approving.decision_of(answer_of(answer), choices, as_of)


@task(name="dunning-journal", cache_policy=NO_CACHE)
def read_outcome(db: str | None, as_of: date, keys: list[str], communications: list) -> tuple:
    with writing(db) as con:
        rows = run.outbox_rows(con, keys)
        tasks = worklist(con, as_of, communications)
    return rows, tasks


@flow(name="dunning", flow_run_name=as_of_name("dunning"), log_prints=True)
def dunning(
    db: str | None = None,
    as_of: date | None = None,
    approve_all: bool = False,
    ask_finance: bool = True,
    wait_minutes: int = 60,
    policy_file: str | None = None,
) -> dict:
    """Plan the day's reminders, have finance approve the levels that need it, send, journal.

    Args:
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
        as_of: The day dunning is planned at; empty: today.
        approve_all: Approve every level that needs approval (stands in for finance's form).
        ask_finance: Pause on a form for the levels that need approval; off: they wait for a
            run that asks (or approves all).
        wait_minutes: How long the paused run waits for finance's form before it ends.
        policy_file: The dunning policy; empty: $O2C_DUNNING_POLICY, else the shipped one.
    """
    if as_of is None and not_today(policy_file):
        print(f"{date.today()} is not a business day of the dunning policy: nothing to do")
        return {"as_of": date.today().isoformat(), "planned": 0, "statuses": {},
                "mail_folder": None}  # fmt: skip
    as_of = as_of or date.today()
    lang = company_language()
    day, known = plan_and_record(db, as_of, policy_file)
    page = write_previews(day.communications, run.previews_folder(db) / f"dunning-{as_of}.html")
    markdown_artifact(
        "dunning-previews",
        previews.previews_markdown(day.communications, lang, page),
        f"Relances prévues le {as_of}" if lang == "fr" else f"Reminders planned on {as_of}",
    )
    hand_over(db, [c for c in run.to_hand_over(day.communications) if c.key not in known])
    going_out = [*run.to_send(day.communications), *run.formal_notices(day.communications)]
    new = [c for c in going_out if c.key not in known]
    automatic = [c for c in new if not c.needs_approval]
    asking = [c for c in new if c.needs_approval]
    going: list[Communication] = []
    decision = None
    checked: list[run.Recheck] = []
    if asking and approve_all:
        decision = approving.Approval("approve_all")
    elif asking and ask_finance:
        if automatic:
            checked.append(_deliver(db, automatic))
            automatic = []
        decision = _ask_finance(asking, as_of, wait_minutes, lang)
    if decision is not None:
        going = record_approval(db, asking, decision)
    if automatic or going:
        checked.append(_deliver(db, automatic + going))
    _alert_bounces(sum(r.bounced for r in checked))
    replaced = [c for r in checked for c in r.replaced]
    cancelled = {k: v for r in checked for k, v in r.cancelled.items()}
    communications = [*day.communications, *replaced]
    rows, tasks = read_outcome(db, as_of, [c.key for c in communications], day.communications)
    entries = journal.entries(
        communications, rows, cancelled, {c.key for c in asking}, decision is not None
    )
    folder = None if SmtpSettings().host else str(mail_folder(db))
    _publish(entries, tasks, day, lang, folder)
    counts = journal.counts(entries)
    print(f"dunning as of {as_of}: {len(day.communications)} planned; {counts}")
    return {"as_of": as_of.isoformat(), "planned": len(day.communications), "statuses": counts,
            "mail_folder": folder}  # fmt: skip


@task(name="write-previews", cache_policy=NO_CACHE)
def write_previews(communications: list[Communication], page: Path) -> Path:
    return previews.write_page(communications, page)


def _publish(entries, tasks, day: run.DayPlan, lang: Lang, folder: str | None) -> None:
    as_of = day.as_of
    fr = lang == "fr"
    table_artifact(
        "dunning-journal",
        journal.journal_rows(entries, lang),
        f"Journal des relances du {as_of}" if fr else f"Dunning journal of {as_of}",
    )
    table_artifact(
        "dunning-worklist",
        worklist_rows(tasks, lang),
        f"Liste de travail du {as_of}" if fr else f"Collector's worklist of {as_of}",
    )
    markdown_artifact(
        "dunning-summary",
        journal.summary_markdown(entries, as_of, day.last_bank, lang, folder),
        f"Relances du {as_of}" if fr else f"Dunning of {as_of}",
    )
