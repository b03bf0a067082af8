"""What finance reads after a bank load: statements, accounts, counts, every balance check, and
every line met in the warehouse: already known (with the stored line it is), stored but possibly
already known, stored with a bank reference conflict (tasks/bank/store.py says when each).

Statement ids, IBANs, currencies, the file name and a balance reason (which quotes currencies read
from the file) are outside text: escaped, so a `|` or markup in a statement cannot shift amounts
under the wrong header or become a link.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from o2c.tasks.bank.store import BankLoadResult
from o2c.tasks.common.escaping import md_cell, md_code, md_label, md_text
from o2c.tasks.common.formatting import MISSING, Lang, format_date, format_money
from o2c.tasks.common.formatting import format_count as _n
from o2c.tasks.common.language import label

# The artifact's description, in the company's language: the catalog's `bank.*` keys when it
# has them, else these (French, English).
WORDS: dict[str, tuple[str, str]] = {
    "statement": ("Relevé {file} · {date}", "Bank statement {file} · {date}"),
    "rejected": ("Relevé refusé {file} · {date}", "Rejected bank statement {file} · {date}"),
    "open_banking": ("flux Open Banking", "Open Banking feed"),
}


def _word(key: str, lang: Lang, **values: object) -> str:
    try:
        return label(f"bank.{key}", lang, **values)
    except KeyError:
        fr, en = WORDS[key]
        return (fr if lang == "fr" else en).format(**values)


def description(
    file_name: str | None, day: date, lang: Lang = "fr", *, rejected: bool = False
) -> str:
    """What the artifact history shows for one load: which statement, which day, e.g.
    "Relevé camt053_EUR_187775.xml · 04/12/2026" (the file name escaped: the UI renders
    descriptions as Markdown)."""
    what = md_text(file_name) if file_name else _word("open_banking", lang)
    key = "rejected" if rejected else "statement"
    return _word(key, lang, file=what, date=format_date(day, lang))


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
        f"| stored, possibly already known: to check | {_n(result.unproven.height)} |",
        f"| stored, bank reference conflict: to check | {_n(result.conflicts.height)} |",
        f"| balances checked | {_n(result.balances_checked)} |",
    ]
    lines += _matches(
        "Stored, possibly already known: to check",
        "Neither proven new nor proven the same as the stored line beside it: stored (a payment is"
        " never dropped on a guess); if it is the same payment, one of the two is to be reversed.",
        result.unproven,
    )
    lines += _matches(
        "Stored, bank reference conflict: to check",
        "The bank's reference is already stored with another date or amount: stored as new.",
        result.conflicts,
    )
    lines += _matches(
        "Already known: not stored again",
        "Each line of the file with the stored line it was proven to be.",
        result.known,
    )
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


MAX_LISTED = 1_000  # lines per list in the report; the load result keeps them all


def _matches(title: str, why: str, frame: pl.DataFrame) -> list[str]:
    """One table row per line: its date, amount, reference, and the stored line it met."""
    if frame.height == 0:
        return []
    shown = frame.sort("booking_date", "account_iban").head(MAX_LISTED)
    out = [
        "",
        f"## {title} ({_n(frame.height)})",
        "",
        why,
        "",
        "| date | account | amount | reference | how | stored line | stored amount"
        " | stored reference | stored in |",
        "|---|---|---:|---|---|---|---:|---|---|",
    ]
    for row in shown.iter_rows(named=True):
        stored_in = (
            f"batch {row['stored_batch_id']}" if row["stored_batch_id"] is not None else MISSING
        )
        if row["stored_file"]:
            stored_in += f", {md_code(row['stored_file'], cell=True)}"
        stored_id = row["stored_transaction_id"]
        stored_line = md_code(stored_id, cell=True) if stored_id else "earlier in this load"
        stored_date = row["stored_booking_date"]
        stored_amount = format_money(row["stored_amount_cents"], row["currency"])
        if stored_date is not None and stored_date != row["booking_date"]:
            stored_amount += f" on {stored_date.isoformat()}"
        out.append(
            f"| {row['booking_date'].isoformat()} | {md_cell(row['account_iban'])}"
            f" | {format_money(row['amount_cents'], row['currency'])}"
            f" | {md_cell(row['reference']) or MISSING} | {md_label(row['how'])}"
            f" | {stored_line}"
            f" | {stored_amount or MISSING} | {md_cell(row['stored_reference']) or MISSING}"
            f" | {stored_in} |"
        )
    if frame.height > MAX_LISTED:
        out += ["", f"First {_n(MAX_LISTED)} of {_n(frame.height)} shown (by date)."]
    return out


def _money(value: Decimal | None) -> str:
    """A balance without its currency (the row names it): "1 234,50", "–" when missing."""
    return MISSING if value is None else format_money(value)
