"""What finance reads after a bank load: statements, accounts, counts and every balance check.

Statement ids, IBANs, currencies, the file name and a balance reason (which quotes currencies read
from the file) are outside text: escaped, so a `|` or markup in a statement cannot shift amounts
under the wrong header or become a link.
"""

from __future__ import annotations

from decimal import Decimal

from o2c.tasks.bank.store import BankLoadResult
from o2c.tasks.common.escaping import md_cell, md_code
from o2c.tasks.common.formatting import MISSING, format_money
from o2c.tasks.common.formatting import format_count as _n


def summary_markdown(result: BankLoadResult, *, title: str = "Bank statement load") -> str:
    name = md_code(result.file_name) if result.file_name else "Open Banking feed"
    if result.status == "duplicate_file":
        return (
            f"# {title}: {name} already loaded\n\n"
            f"Same content (SHA-256 `{(result.sha256 or '')[:12]}…`) as batch {result.batch_id}."
            " Nothing was changed.\n"
        )
    lines = [
        f"# {title}: {name}",
        "",
        f"Batch {result.batch_id}",
        "",
        "| | count |",
        "|---|---:|",
        f"| statements | {_n(result.statements)} |",
        f"| accounts | {_n(result.accounts)} |",
        f"| transactions read | {_n(result.transactions_in)} |",
        f"| loaded | {_n(result.loaded)} |",
        f"| already known (overlap, stored once) | {_n(result.duplicates)} |",
        f"| balances checked | {_n(result.balances_checked)} |",
    ]
    if result.balances:
        lines += [
            "",
            "## Balance checks",
            "",
            "| statement | account | currency | opening | movements | closing | result |",
            "|---|---|---|---:|---:|---:|---|",
        ]
        lines += [
            f"| {md_cell(b.statement_ref) or MISSING} | {md_cell(b.account_iban) or MISSING}"
            f" | {md_cell(b.currency) or MISSING}"
            f" | {_money(b.opening)} | {_money(b.movements)} | {_money(b.closing)}"
            f" | {md_cell(b.status)}{' (' + md_cell(b.reason) + ')' if b.reason else ''} |"
            for b in result.balances
        ]
    return "\n".join(lines) + "\n"


def _money(value: Decimal | None) -> str:
    """A balance without its currency (the row names it): "1 234,50", "–" when missing."""
    return MISSING if value is None else format_money(value)
