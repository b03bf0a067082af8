"""`o2c dunning run --as-of DATE [--approve-all]`: the dunning flow from the shell.

The same flow the `dunning` deployment runs: stale bank data refused, the plan audited, the
outbox written before any send, the journal published. A shell cannot show finance's form, so
levels that need approval wait unless `--approve-all` stands in for it. With no SMTP server
configured (O2C_SMTP_HOST), each message is an .eml file in a folder beside the warehouse. Run
twice, it sends nothing new: a communication already in the outbox is never written again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from o2c.commands import dunning
from o2c.commands.dunning_plan import _day


@dunning.command("run")
def run_command(
    as_of: Annotated[
        str, typer.Option("--as-of", help="Dun as of this date, YYYY-MM-DD (default: today)")
    ] = "",
    approve_all: Annotated[
        bool,
        typer.Option(
            "--approve-all", help="Approve the levels that need approval (finance's form)"
        ),
    ] = False,
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="Policy file (default: $O2C_DUNNING_POLICY, else the shipped one)"
        ),
    ] = None,
) -> None:
    """Plan, send and journal the day's reminders (levels needing approval wait without
    --approve-all)."""
    from o2c.cli import out, run_flow, state
    from o2c.flows.dunning import dunning as flow

    day = _day(as_of) if as_of else None
    result = run_flow(
        "dunning",
        flow,
        db=state.db,
        as_of=day,
        approve_all=approve_all,
        ask_finance=False,
        policy_file=str(policy_file) if policy_file else None,
    )
    counts = ", ".join(f"{n} {s}" for s, n in result["statuses"].items()) or "nothing"
    out.print(
        f"dunning as of {result['as_of']}: {result['planned']} planned; {counts}",
        highlight=False,
        soft_wrap=True,
    )
    if result["mail_folder"]:
        out.print(f"messages written to {result['mail_folder']}", highlight=False, soft_wrap=True)
    if result["statuses"].get("awaiting_approval"):
        out.print(
            "some levels need finance's approval: approve in the Prefect UI (the dunning "
            "deployment) or run again with --approve-all",
            highlight=False,
            soft_wrap=True,
        )
