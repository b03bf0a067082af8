"""`o2c dunning exclude | exclusions | unexclude`: who is not chased, why, until when.

A credit controller records a dispute, a payment plan, a promise to pay or an opt-out from the
shell or from a CSV file; each one is audited and never deleted (`unexclude` records its end).
The same functions serve the approval form (tasks/dunning/exclusions.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from o2c.commands import dunning

_KINDS = "dispute | payment_plan | promise_to_pay | opt_out"


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date like 2026-06-30", param_hint=option
        ) from None


def _error(exc: BaseException) -> typer.Exit:
    """One line on stderr, the user's text printed as text (never console markup)."""
    from rich.markup import escape

    from o2c.cli import err

    message = " ".join(str(exc).split()) or type(exc).__name__
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


@dunning.command("exclude")
def exclude_command(
    customer: Annotated[str, typer.Argument(help="The customer's id")],
    kind: Annotated[str, typer.Option("--kind", help=_KINDS)],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log)")],
    by: Annotated[str, typer.Option("--by", help="Who decides")],
    until: Annotated[
        str,
        typer.Option("--until", help="Last day it applies (YYYY-MM-DD); an opt-out may have none"),
    ] = "",
    invoice: Annotated[
        str | None, typer.Option("--invoice", help="One invoice only (required for a dispute)")
    ] = None,
    instalment: Annotated[
        list[str] | None,
        typer.Option("--instalment", help="payment_plan: DATE:AMOUNT, once per instalment"),
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="payment_plan: the instalments' currency")
    ] = None,
) -> None:
    """Stop dunning a customer (or one invoice) for a reason, until a date."""
    from o2c.cli import out, state
    from o2c.tasks.dunning.exclusions import (
        Exclusion,
        ExclusionError,
        add_exclusion,
        parse_instalment,
    )
    from o2c.warehouse import connect

    end = _day(until, "--until") if until else None
    try:
        instalments = tuple(parse_instalment(t) for t in instalment or [])
        ask = Exclusion(
            customer_id=customer,
            kind=kind.strip().lower(),  # type: ignore[arg-type]  # add_exclusion checks it
            reason=reason,
            by=by,
            until=end,
            invoice_id=invoice,
            instalments=instalments,
            currency=currency,
        )
        with connect(state.db) as con:
            exclusion_id = add_exclusion(con, ask, origin="cli")
    except (ExclusionError, OSError) as exc:
        raise _error(exc) from None
    what = f"invoice {invoice} of {customer}" if invoice else f"customer {customer}"
    end = end or max((i.due_date for i in instalments), default=None)  # a plan's last one
    out.print(
        f"exclusion {exclusion_id}: {what}, {kind.strip().lower()}"
        + (f" until {end}" if end else ""),
        highlight=False,
        soft_wrap=True,
        markup=False,
    )


@dunning.command("exclusions")
def exclusions_command(
    load: Annotated[
        Path | None,
        typer.Option("--load", help="Record the exclusions of a CSV file (all or nothing)"),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="With --load: who decides, for lines without `by`")
    ] = None,
    as_of: Annotated[
        str, typer.Option("--as-of", help="In force on this date [default: today]")
    ] = "",
    show_all: Annotated[
        bool, typer.Option("--all", help="Also the ended, expired and future ones")
    ] = False,
) -> None:
    """List the exclusions in force, or record those of a file with --load."""
    from o2c.cli import state

    day = _day(as_of, "--as-of") if as_of else date.today()
    if load is not None:
        _load(state.db, load, by)
        return
    _list(state.db, day, show_all)


def _load(db: str | None, path: Path, by: str | None) -> None:
    from o2c.cli import err, out
    from o2c.tasks.dunning.exclusions import load_exclusions_file
    from o2c.warehouse import connect

    try:
        with connect(db) as con:
            result = load_exclusions_file(con, path, by=by)
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(exc) from None
    if result.errors:
        for line in result.errors:
            err.print(f"error: {line}", highlight=False, soft_wrap=True, markup=False)
        err.print(
            f"{path.name}: nothing recorded ({len(result.errors)} line(s) to fix)",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
        raise typer.Exit(1)
    out.print(
        f"{path.name}: {len(result.added)} exclusion(s) recorded,"
        f" {len(result.already)} already in force",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )


def _list(db: str | None, day: date, show_all: bool) -> None:
    """One line per exclusion (text from people printed as text, never markup)."""
    from o2c.cli import out
    from o2c.tasks.dunning.exclusions import list_exclusions
    from o2c.warehouse import connect

    try:
        with connect(db) as con:
            frame = list_exclusions(con, day)
    except Exception as exc:
        raise _error(exc) from None
    if not show_all:
        frame = frame.filter(frame["state"] == "active")
    if frame.is_empty():
        out.print(f"no exclusion in force on {day}" if not show_all else "no exclusion")
        return
    out.print(f"Exclusions in force on {day}" if not show_all else f"All exclusions on {day}")
    for row in frame.iter_rows(named=True):
        target = row["customer_id"] + (f" {row['invoice_id']}" if row["invoice_id"] else "")
        until = f"until {row['until']}" if row["until"] else "no end"
        line = (
            f"  #{row['exclusion_id']} {target}: {row['kind']} {until}, by {row['created_by']}"
            f" on {row['created_at']:%Y-%m-%d}: {row['reason']} [{row['state']}"
        )
        if row["ended_on"] is not None:
            line += f" on {row['ended_on']} by {row['ended_by']}: {row['end_reason']}"
        out.print(line + "]", highlight=False, soft_wrap=True, markup=False)


@dunning.command("unexclude")
def unexclude_command(
    exclusion_id: Annotated[int, typer.Argument(help="The exclusion's id")],
    by: Annotated[str, typer.Option("--by", help="Who decides")],
    reason: Annotated[str, typer.Option("--reason", help="Why it ends")],
) -> None:
    """End an exclusion from today: dunning resumes; the exclusion stays on record."""
    from o2c.cli import out, state
    from o2c.tasks.dunning.exclusions import ExclusionError, end_exclusion
    from o2c.warehouse import connect

    try:
        with connect(state.db) as con:
            end_exclusion(con, exclusion_id, by=by, reason=reason)
    except ExclusionError as exc:
        raise _error(exc) from None
    out.print(f"exclusion {exclusion_id} ended on {date.today()}", highlight=False)
