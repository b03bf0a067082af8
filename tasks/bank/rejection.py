"""Which failures reject a bank statement file, the reason given, and what is kept of it.

A business rule, so it lives here and not in the flow: a file that cannot be read, parsed,
balanced or loaded is refused whole (rejected/ with NAME.error.txt, a `rejected` row in
load_batches, an artifact), whatever the exception, so a poison file never stays in the inbox
to be tried again. Only trouble on the warehouse's side while loading (its lock, its disk, its
connection) is not the file's fault: the file stays where it is and the run fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import duckdb

from o2c.tasks.bank.inbox import Refused
from o2c.tasks.bank.statements.errors import StatementError
from o2c.tasks.bank.store import BankLoadError, UnbalancedStatementError
from o2c.tasks.common.escaping import md_code, md_text
from o2c.tasks.common.language import label

Stage = Literal["inbox", "parse", "load"]

# While loading, these say the warehouse is busy, full or unreachable, not that the file is bad.
WAREHOUSE_TROUBLE: tuple[type[BaseException], ...] = (
    TimeoutError,  # o2c.locking.WarehouseLockTimeout among them
    OSError,
    MemoryError,
    duckdb.OperationalError,  # IOException, ConnectionException
)
_STAGE_TEXT = {"inbox": "checking it", "parse": "reading it", "load": "loading it"}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Rejection:
    """A refused file: its name and the one-line reason (file, and line or field when known)."""

    file_name: str
    reason: str

    def error_text(self) -> str:
        """What NAME.error.txt beside the file in rejected/ holds."""
        return self.reason + "\n"

    def markdown(self) -> str:
        """The run's artifact: the name as an inert code span, the reason as inert text."""
        title = label("bank.rejected_title", name=md_code(self.file_name))
        return f"# {title}\n\n{md_text(self.reason)}\n\n{label('bank.nothing_loaded')}\n"


def one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def rejection_for(exc: BaseException, file_name: str, *, stage: Stage) -> Rejection | None:
    """The rejection an exception raised at `stage` means for the file, or None when the
    file is not at fault (warehouse trouble while loading) and must stay in the inbox."""
    if stage == "load" and isinstance(exc, WAREHOUSE_TROUBLE):
        return None
    message = one_line(str(exc))
    if isinstance(exc, Refused | StatementError | UnbalancedStatementError | BankLoadError):
        reason = message or type(exc).__name__
    elif isinstance(exc, OSError):
        reason = f"cannot be read ({exc.strerror or message or type(exc).__name__})"
    else:
        first = message.split(" This error occurred", 1)[0]  # Polars appends its context
        reason = (
            f"unexpected {type(exc).__name__} while {_STAGE_TEXT[stage]}"
            + (f": {first}" if first else "")
            + "; file refused"
        )
    if file_name not in reason:
        reason = f"{file_name}: {reason}"
    return Rejection(file_name=file_name, reason=reason)
