"""Command groups of `o2c` that live apart from o2c/cli.py, one module per idea.

A module here adds its commands to one of the groups below (`@dunning.command("plan")`);
o2c/cli.py imports every module of this package at start, so a new module needs no edit
elsewhere. Keep the modules light at import (heavy imports inside the command functions):
every `o2c` command pays for them. Inside a command, `o2c.cli.state` has the --db option and
`o2c.cli.run_flow` runs a flow the way the other commands do.
"""

from __future__ import annotations

import typer

dunning = typer.Typer(no_args_is_help=True, help="Plan, approve and send reminders; exclusions.")
audit = typer.Typer(no_args_is_help=True, help="The append-only audit log of dunning.")

ere = typer.Typer(no_args_is_help=True, help="Formal notices by registered e-mail: letters, files.")

blocks = typer.Typer(
    no_args_is_help=True, help="Credentials as Prefect blocks, from the environment."
)
alerts = typer.Typer(no_args_is_help=True, help="Alerts: the automations of automations.yaml.")
litigation = typer.Typer(no_args_is_help=True, help="What a lawyer or a collection agency needs.")
push = typer.Typer(no_args_is_help=True, help="Write back to outside systems: payments to the ERP.")

GROUPS: dict[str, typer.Typer] = {
    "dunning": dunning,
    "audit": audit,
    "ere": ere,
    "blocks": blocks,
    "alerts": alerts,
    "litigation": litigation,
    "push": push,
}
