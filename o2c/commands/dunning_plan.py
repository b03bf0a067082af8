"""`o2c dunning plan --as-of DATE`: what dunning would send that day, sending nothing.

A credit controller tries a policy change here first: the plan is printed (customer, level,
channel, amount due, items), with the items left out and why, and `--out` writes each message
as its customer would read it (one HTML page for all, and each message's text and HTML). It
only reads the warehouse; the outbox, the audit log and the channels are untouched.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from o2c.commands import dunning


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-06-30") from None


@dunning.command("plan")
def plan_command(
    as_of: Annotated[
        str,
        typer.Option("--as-of", help="Plan as of this date, YYYY-MM-DD (default: today)"),
    ] = "",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the rendered previews into this folder")
    ] = None,
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="Policy file (default: $O2C_DUNNING_POLICY, else the shipped one)"
        ),
    ] = None,
) -> None:
    """Print the dunning plan for a date and write previews; nothing is sent or recorded."""
    from rich.markup import escape

    from o2c.cli import err, state
    from o2c.cli import out as console

    day = _day(as_of) if as_of else date.today()
    try:
        result, stale = _plan(state.db, day, policy_file)
        written = _previews(result.communications, out) if out else []
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if stale:
        err.print(f"[yellow]warning:[/yellow] {escape(stale)}", highlight=False, soft_wrap=True)
    for line in _lines(result):
        console.print(line, soft_wrap=True, highlight=False)
    reasons = Counter(result.skipped["reason"].to_list())
    if reasons:
        summary = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        console.print(f"items left out: {summary}", highlight=False, soft_wrap=True)
    if out:
        console.print(f"{len(written)} preview files in {out}", highlight=False, soft_wrap=True)


def _plan(db: str | None, day: date, policy_file: Path | None):
    """The plan and, when the bank data is too old for the flow to send, why."""
    from o2c.tasks.dunning import store
    from o2c.tasks.dunning.plan import plan
    from o2c.tasks.dunning.policy import PolicyError, check_fresh_data, load_policy
    from o2c.warehouse import connect

    policy = load_policy(policy_file)
    with connect(db, read_only=True) as con:
        items = store.read_items(con, as_of=day)
        payments = store.read_payments(con, as_of=day)
        exclusions = store.read_exclusions(con, as_of=day)
        instalments = store.read_missed_instalments(con, as_of=day)
        history = store.read_history(con)
        customers = store.read_customers(con)
        last_bank = store.last_bank_data(con, as_of=day)
    try:
        check_fresh_data(policy, day, last_bank)
        stale = None
    except PolicyError as exc:
        stale = f"{exc} (the dunning flow would not send)"
    result = plan(
        day,
        items,
        exclusions,
        history,
        customers,
        policy,
        payments=payments,
        instalments=instalments,
    )
    return result, stale


def _lines(result) -> list:
    """One line per communication (greppable, never folded), customer text as plain Text."""
    from rich.text import Text

    from o2c.tasks.common.formatting import format_money

    n = len(result.communications)
    lines = [Text(f"Dunning plan as of {result.as_of}: {n} communication{'s' * (n != 1)}")]
    for c in result.communications:
        ids = [i.invoice_id for i in c.items] + [x.invoice_id for x in c.credits]
        approval = ", needs approval" if c.needs_approval else ""
        # Text, not a markup string: a customer's name is never read as console markup
        lines.append(
            Text(
                f"  {c.customer_name} ({c.customer_id}) · level {c.level} {c.level_name}"
                f"{approval} · {c.channel.value} · "
                f"{format_money(c.due_cents, c.currency, 'en')} · {', '.join(ids)}"
            )
        )
    return lines


def _previews(communications, folder: Path) -> list[Path]:
    """preview.html (every message, for approval) and each message's .txt and .html, named by
    its rank and outbox key (never by customer text)."""
    from o2c.tasks.dunning.render import NOT_SENT, TemplateError, preview_html, render

    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "preview.html"
    page.write_text(preview_html(communications), encoding="utf-8")
    written = [page]
    for n, c in enumerate(communications, start=1):
        if c.channel in NOT_SENT:
            continue
        try:
            message = render(c)
        except TemplateError:
            continue  # preview.html shows why
        stem = folder / f"{n:04d}-{c.key}"
        written.append(stem.with_suffix(".txt"))
        written[-1].write_text(f"Subject: {message.subject}\n\n{message.text}", encoding="utf-8")
        if message.html:
            written.append(stem.with_suffix(".html"))
            written[-1].write_text(message.html, encoding="utf-8")
    return written
