"""`o2c push erp SOURCE`: the payments o2c matched, written back to the ERP (issue 20).

The push-erp flow now, as its deployment runs it: new payment allocations of the source's
invoices go to the outbox, are sent, and their outcomes recorded (tasks/erp/push.py); exit 1
when one failed (the erp-<source>-push artifact and the message say which and why).
"""

from __future__ import annotations

from typing import Annotated

import typer

from o2c.commands import push


@push.command("erp")
def push_erp_command(
    source: Annotated[
        str,
        typer.Argument(
            help="The ERP: odoo (settings in O2C_ODOO_*), rest:<name> (erp_sources/<name>.yaml,"
            " its push webhook) or a mapping file's path"
        ),
    ],
    retry_failed: Annotated[
        bool,
        typer.Option(help="Also send again what the ERP refused (once the cause is fixed)"),
    ] = False,
) -> None:
    """Write the payments allocated to this ERP's invoices back to it, each once."""
    from o2c.cli import out, run_flow, state
    from o2c.flows.push_erp import push_erp as flow

    label = f"pushing payments to {source}"
    report = run_flow(label, flow, source=source, db=state.db, retry_failed=retry_failed)
    out.print(report.message, markup=False, highlight=False)
