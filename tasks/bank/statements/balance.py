"""Does a statement add up? Opening balance plus its booked entries must equal the closing one.

Kept apart from parsing on purpose: every file parses (so a user can see what is in it), and the
loader refuses the statements that do not add up, with these figures in its error.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from o2c.models.bank import Statement


@dataclass(frozen=True, slots=True)
class BalanceCheck:
    statement_ref: str | None
    account_iban: str | None
    currency: str | None
    opening: Decimal | None
    movements: Decimal
    closing: Decimal | None
    difference: Decimal | None  # opening + movements - closing
    status: str  # balanced | unbalanced | unchecked (a balance is missing)
    reason: str

    @property
    def ok(self) -> bool:
        return self.status != "unbalanced"


def check_balance(statement: Statement) -> BalanceCheck:
    """Opening + movements == closing, in the statement's currency, exactly (no rounding)."""
    if statement.entries_total is not None:
        movements = statement.entries_total
    elif statement.table is not None:
        movements = Decimal(int(statement.table["amount_cents"].sum())).scaleb(-2)
    else:
        movements = sum((line.amount for line in statement.lines), Decimal(0))
    common = {
        "statement_ref": statement.statement_ref,
        "account_iban": statement.account_iban,
        "currency": statement.currency,
        "opening": statement.opening_balance,
        "movements": movements,
        "closing": statement.closing_balance,
    }
    if statement.format == "mt942" and statement.opening_balance is None:
        # An intraday report carries no balances; its :90D:/:90C: entry counts and sums are
        # checked when it is read (mt940.check_controls).
        return BalanceCheck(
            **common,
            difference=None,
            status="unchecked",
            reason="intraday report (MT942): no balances, entry counts and sums checked",
        )
    if statement.opening_balance is None or statement.closing_balance is None:
        missing = "opening" if statement.opening_balance is None else "closing"
        return BalanceCheck(
            **common, difference=None, status="unchecked", reason=f"no {missing} balance"
        )
    difference = statement.opening_balance + movements - statement.closing_balance
    others = sorted(statement.line_currencies() - {statement.currency})
    if others:
        return BalanceCheck(
            **common,
            difference=difference,
            status="unbalanced",
            reason=f"entries in {', '.join(others)}, statement in {statement.currency}",
        )
    if difference != 0:
        return BalanceCheck(
            **common,
            difference=difference,
            status="unbalanced",
            reason=(
                f"opening {statement.opening_balance} + movements {movements} = "
                f"{statement.opening_balance + movements}, closing {statement.closing_balance}"
            ),
        )
    return BalanceCheck(**common, difference=difference, status="balanced", reason="")
