"""Errors a statement file can raise, each naming the file, the place in it and the reason."""

from __future__ import annotations

from pathlib import Path


class StatementError(ValueError):
    """A statement file that cannot be read: unknown, truncated, malformed, unsafe or too big."""

    def __init__(self, file: str | Path | None, place: str | None, reason: str) -> None:
        self.file = str(file) if file is not None else None
        self.place = place
        self.reason = reason
        where = self.file or "<statement>"
        if place:
            where = f"{where}, {place}"
        super().__init__(f"{where}: {reason}")
