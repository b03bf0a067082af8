"""What finance reads after a bank load: statements, accounts, counts and every balance check."""

from __future__ import annotations

from o2c.tasks.bank.store import BankLoadResult


def _n(count: int) -> str:
    return f"{count:,}".replace(",", "\u202f")


def summary_markdown(result: BankLoadResult, *, title: str = "Bank statement load") -> str:
    name = f"`{result.file_name}`" if result.file_name else "Open Banking feed"
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
            f"| {b.statement_ref or '–'} | {b.account_iban or '–'} | {b.currency or '–'}"
            f" | {_money(b.opening)} | {_money(b.movements)} | {_money(b.closing)}"
            f" | {b.status}{' (' + b.reason + ')' if b.reason else ''} |"
            for b in result.balances
        ]
    return "\n".join(lines) + "\n"


def _money(value: object) -> str:
    return "–" if value is None else f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
