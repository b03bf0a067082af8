"""`o2c blocks register`: the secrets in the environment saved as Prefect Secret blocks.

One line per block, never a value: created, updated, unchanged, or skipped because its variable
is not set. What goes where is o2c/blocks.py.
"""

from __future__ import annotations

from o2c.commands import blocks


@blocks.command("register")
def register_command() -> None:
    """Save O2C_* secrets (SMTP, AR24, Bridge, payment links, ERP key) and the alert webhook as
    Prefect blocks on the server the commands use; run it again after a rotation."""
    from o2c.blocks import register_alert_webhook, register_secrets
    from o2c.cli import _fail, _prefect_api, out

    try:
        with _prefect_api():
            outcomes = [*register_secrets(), register_alert_webhook()]
    except Exception as exc:
        raise _fail(exc) from None
    for outcome in outcomes:
        out.print(outcome.line(), highlight=False, markup=False)
