"""What the demo's statement writers (camt.053, MT940) share: the facts a statement must carry."""

from __future__ import annotations

from o2c.models.bank import Statement, StatementLine


def writable_lines(st: Statement, n: int, fmt: str) -> list[StatementLine]:
    """The n-th statement's lines, once it has what `fmt` needs: account, currency, balances."""
    if not st.account_iban or not st.currency:
        raise ValueError(f"statement {st.statement_ref or n}: account and currency needed")
    if st.opening_balance is None or st.closing_balance is None:
        raise ValueError(f"statement {st.statement_ref or n}: {fmt} needs both balances")
    return st.line_rows()
