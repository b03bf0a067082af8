"""Channels: what carries a dunning communication out of the outbox (email today, ERE letters next).

The outbox (tasks/dunning/outbox.py) hands a channel a batch of `Envelope`s it has already
written down, and records the `SendResult`s it gets back; the channel never touches the
warehouse. A channel also answers `lookup(key)`: whether the provider already holds a message
under that idempotency key. That answer is what lets a resumed run tell "sent before the crash"
from "never sent" from "nobody can tell" (the last is marked unknown, never resent blindly).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from o2c.models.dunning import OutboxStatus, RenderedMessage


@dataclass(frozen=True)
class Envelope:
    """One message as the outbox stored it, with where it goes."""

    message: RenderedMessage
    recipients: tuple[str, ...]
    previous_key: str | None = None  # the same case's last communication: In-Reply-To

    @property
    def key(self) -> str:
        return self.message.key


@dataclass(frozen=True)
class SendResult:
    """What became of one envelope: the status to record, the provider's id and last reply."""

    key: str
    status: OutboxStatus
    provider_id: str | None = None
    reply: str | None = None  # the server's reply or the error, secrets blanked
    attempts: int = 1


class Found(StrEnum):
    """What a provider says about an idempotency key."""

    SENT = "sent"  # it holds the message: record it as sent
    NOT_SENT = "not_sent"  # it certainly does not: sending is safe
    UNKNOWABLE = "unknowable"  # it cannot say (SMTP): the outbox marks the row unknown


class ChannelUnavailable(RuntimeError):
    """The channel could not be reached or refused us before any message left (no connection,
    authentication refused): every message of the batch is certainly unsent."""


class Sender(Protocol):
    """What the outbox needs from a channel."""

    name: str

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        """Send the batch (one connection), one result per envelope, in order."""
        ...

    def lookup(self, key: str) -> tuple[Found, str | None]:
        """Whether the provider already holds `key`, and under which provider id."""
        ...
