"""Communications and their rendered messages, built by hand for the outbox tests."""

from __future__ import annotations

from datetime import date

from o2c.models.dunning import Channel, Communication, CustomerKind, DunnedItem, RenderedMessage
from o2c.tasks.channels.email import SmtpSettings
from o2c.tasks.dunning.render import content_sha256

FROM = "relances@lumiere.example"


def communication(customer: str, *invoices: tuple[str, int], level: int = 2, **changes):
    items = tuple(
        DunnedItem(inv, "invoice", date(2026, 1, 1), date(2026, 2, 1), cents, cents, 30)
        for inv, cents in invoices
    )
    values = dict(
        as_of=date(2026, 3, 3),
        customer_id=customer,
        customer_name=f"Client {customer}",
        language="fr",
        customer_kind=CustomerKind.BUSINESS,
        currency="EUR",
        level=level,
        level_name="friendly",
        channel=Channel.EMAIL,
        template="reminder_friendly",
        recipients=(f"compta@{customer.lower()}.example",),
        needs_approval=False,
        items=items,
    )
    values.update(changes)
    return Communication(**values)


def rendered(c: Communication) -> RenderedMessage:
    subject = f"Relance niveau {c.level} : {c.customer_name}"
    text = f"Bonjour,\nMontant dû : {c.due_cents} centimes.\n"
    html = f"<p>Bonjour,</p><p>Montant dû : {c.due_cents} centimes.</p>"
    return RenderedMessage(
        c.key, c.language, subject, text, html, "t" * 64, content_sha256(subject, text, html)
    )


def smtp_settings(server, **extra) -> SmtpSettings:
    values = dict(
        host=server.host,
        port=server.port,
        security="none",
        from_address=FROM,
        rate_per_minute=0,
        backoff_s=0.0,
    )
    values.update(extra)
    return SmtpSettings(**values)
