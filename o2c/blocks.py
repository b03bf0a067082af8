"""Credentials as Prefect blocks: what `o2c blocks register` copies from the environment.

A worker then needs no secret in its environment or in prefect.yaml: each settings loader reads
its Secret block when its variable is absent (AR24, Bridge, payment links and Odoo by the default
names below; SMTP when O2C_SMTP_PASSWORD_BLOCK names the block, since a relay may take no
password). Only secrets become blocks: the non-secret
settings (hosts, ports, user ids, rates) stay O2C_* variables of the work pool or deployment,
where a data engineer reads and changes them.

The register step never returns or prints a value: only the block name, the variable it came
from and what was done (created, updated, unchanged, skipped).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

ALERT_BLOCK = "o2c-alerts"  # the notification block automations.yaml names
ALERT_WEBHOOK_ENV = "O2C_ALERT_WEBHOOK_URL"


@dataclass(frozen=True)
class SecretSpec:
    """One secret: the variable it is read from, the block it goes to, who reads it."""

    env: str
    block: str
    used_by: str


# Block names are the loaders' defaults (models/settings_*.py); the variable naming another block
# (O2C_AR24_TOKEN_BLOCK ...) is honoured so register and the loader agree.
SECRETS: tuple[SecretSpec, ...] = (
    SecretSpec("O2C_SMTP_PASSWORD", "o2c-smtp-password", "email channel (O2C_SMTP_PASSWORD_BLOCK)"),
    SecretSpec("O2C_AR24_TOKEN", "o2c-ar24-token", "AR24 registered letters"),
    SecretSpec("O2C_AR24_PRIVATE_KEY", "o2c-ar24-private-key", "AR24 registered letters"),
    SecretSpec("O2C_BRIDGE_CLIENT_SECRET", "o2c-bridge-client-secret", "Bridge Open Banking"),
    SecretSpec("O2C_PAYLINK_CLIENT_SECRET", "o2c-paylink-client-secret", "Bridge payment links"),
    SecretSpec(
        "O2C_PAYLINK_WEBHOOK_SECRETS", "o2c-paylink-webhook-secrets", "Bridge payment links"
    ),
    SecretSpec("O2C_ODOO_API_KEY", "o2c-odoo-api-key", "Odoo ERP API"),
)
_BLOCK_NAME_ENV = {
    "O2C_SMTP_PASSWORD": "O2C_SMTP_PASSWORD_BLOCK",
    "O2C_AR24_TOKEN": "O2C_AR24_TOKEN_BLOCK",
    "O2C_AR24_PRIVATE_KEY": "O2C_AR24_KEY_BLOCK",
    "O2C_BRIDGE_CLIENT_SECRET": "O2C_BRIDGE_SECRET_BLOCK",
    "O2C_PAYLINK_CLIENT_SECRET": "O2C_PAYLINK_SECRET_BLOCK",
    "O2C_ODOO_API_KEY": "O2C_ODOO_API_KEY_BLOCK",
}


@dataclass(frozen=True)
class Outcome:
    block: str
    source: str
    done: str  # "created", "updated", "unchanged" or "skipped"

    def line(self) -> str:
        if self.done == "skipped":
            return f"skipped {self.block}: {self.source} is not set"
        return f"{self.done} {self.block} from {self.source}"


def block_name(spec: SecretSpec, environ: dict[str, str]) -> str:
    override = _BLOCK_NAME_ENV.get(spec.env)
    return (environ.get(override) if override else None) or spec.block


def register_secrets(environ: dict[str, str] | None = None) -> list[Outcome]:
    """Save each set secret variable as its Secret block; a second run changes nothing."""
    from prefect.blocks.system import Secret

    env = dict(os.environ if environ is None else environ)
    outcomes = []
    for spec in SECRETS:
        name = block_name(spec, env)
        value = env.get(spec.env, "")
        if not value:
            outcomes.append(Outcome(name, spec.env, "skipped"))
            continue
        current = _load(lambda name=name: _raw(Secret.load(name)))
        if current == value:
            outcomes.append(Outcome(name, spec.env, "unchanged"))
            continue
        Secret(value=value).save(name, overwrite=True)
        outcomes.append(Outcome(name, spec.env, "created" if current is None else "updated"))
    return outcomes


def register_alert_webhook(environ: dict[str, str] | None = None) -> Outcome:
    """The automations' notification block: a webhook posting the alert's subject and body."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    env = dict(os.environ if environ is None else environ)
    url = env.get(ALERT_WEBHOOK_ENV, "")
    if not url:
        return Outcome(ALERT_BLOCK, ALERT_WEBHOOK_ENV, "skipped")
    wanted = {"subject": "{{subject}}", "body": "{{body}}"}
    current = _load(lambda: CustomWebhookNotificationBlock.load(ALERT_BLOCK))
    if current is not None and current.url == url and current.json_data == wanted:
        return Outcome(ALERT_BLOCK, ALERT_WEBHOOK_ENV, "unchanged")
    CustomWebhookNotificationBlock(
        name=ALERT_BLOCK, url=url, method="POST", json_data=wanted, timeout=10
    ).save(ALERT_BLOCK, overwrite=True)
    return Outcome(ALERT_BLOCK, ALERT_WEBHOOK_ENV, "created" if current is None else "updated")


def _raw(block: object) -> str:
    """The text saved, as saved (`Secret.get()` would parse a JSON list into a list)."""
    value = block.value  # type: ignore[attr-defined]
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


def _load(read: Callable[[], object]) -> object | None:
    """A block's current value, None when no block has that name."""
    try:
        return read()
    except ValueError:  # Prefect's "Unable to find block document named ..."
        return None
