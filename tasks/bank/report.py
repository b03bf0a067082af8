"""What finance reads after a bank load: statements, accounts, counts, every balance check, and
every line met in the warehouse: already known (with the stored line it is), stored but possibly
already known, stored with a bank reference conflict (tasks/bank/store.py says when each).

Statement ids, IBANs, currencies, the file name and a balance reason (which quotes currencies read
from the file) are outside text: escaped, so a `|` or markup in a statement cannot shift amounts
under the wrong header or become a link.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

import polars as pl

from o2c.tasks.bank.store import BankLoadResult
from o2c.tasks.common.escaping import md_cell, md_code, md_label, md_text
from o2c.tasks.common.formatting import MISSING, Lang, format_date, format_money
from o2c.tasks.common.formatting import format_count as _n
from o2c.tasks.common.language import company_language, label


def _word(key: str, lang: Lang, **values: object) -> str:
    """`bank.<key>` from the label catalog (templates/labels/<lang>.toml, which a company may
    override through O2C_LABELS_DIR), placeholders filled."""
    return label(f"bank.{key}", lang, **values)


def description(
    file_name: str | None, day: date, lang: Lang = "fr", *, rejected: bool = False
) -> str:
    """What the artifact history shows for one load: which statement, which day, e.g.
    "Relevé camt053_EUR_187775.xml · 04/12/2026" (the file name escaped: the UI renders
    descriptions as Markdown)."""
    what = md_text(file_name) if file_name else _word("open_banking", lang)
    key = "rejected" if rejected else "statement"
    return _word(key, lang, file=what, date=format_date(day, lang))


def summary_markdown(
    result: BankLoadResult, lang: Lang | None = None, *, title: str | None = None
) -> str:
    """The bank-ingestion artifact in the company's language: counts, the lines to check, the
    lines already known, and each statement's balance check (its result first). `title`, when
    given, heads it instead of "Relevé bancaire" (the Open Banking sync names itself)."""
    lang = lang or company_language()
    name = md_code(result.file_name) if result.file_name else _word("open_banking", lang)
    heading = f"{title}: {name}" if title else _word("title", lang, name=name)
    if result.status == "duplicate_file":
        same = _word("same_content", lang, sha=(result.sha256 or "")[:12], batch=result.batch_id)
        done = (
            f"{heading} ({_word('already', lang)})"
            if title
            else _word("already_loaded", lang, name=name)
        )
        return f"# {done}\n\n{same}\n"
    counts = [
        ("statements", result.statements),
        ("accounts", result.accounts),
        ("read", result.transactions_in),
        ("loaded", result.loaded),
        ("duplicates", result.duplicates),
        ("unproven", result.unproven.height),
        ("conflicts", result.conflicts.height),
        ("balances_checked", result.balances_checked),
    ]
    lines = [
        f"# {heading}",
        "",
        _word("batch", lang, batch=result.batch_id),
        "",
        f"| | {_word('count', lang)} |",
        "|---|---:|",
        *(f"| {_word(key, lang)} | {_n(value, lang)} |" for key, value in counts),
    ]
    lines += _matches("unproven", result.unproven, lang)
    lines += _matches("conflicts", result.conflicts, lang)
    lines += _matches("known", result.known, lang)
    if result.balances:
        # The result first (what finance acts on), the statement's own id last: at 1366 px the
        # result of each check is on screen.
        keys = ("result", "account", "currency", "opening", "movements", "closing", "statement")
        lines += [
            "",
            f"## {_word('balances_title', lang)}",
            "",
            "| " + " | ".join(_word(f"col.{k}", lang) for k in keys) + " |",
            "|---|---|---|---:|---:|---:|---|",
        ]
        lines += [
            f"| {_result(b.status, b.reason, lang)} | {md_cell(b.account_iban) or MISSING}"
            f" | {md_cell(b.currency) or MISSING}"
            f" | {_money(b.opening, lang)} | {_money(b.movements, lang)}"
            f" | {_money(b.closing, lang)} | {md_cell(b.statement_ref) or MISSING} |"
            for b in result.balances
        ]
    return "\n".join(lines) + "\n"


MAX_LISTED = 1_000  # lines per list in the report; the load result keeps them all


def _matches(kind: str, frame: pl.DataFrame, lang: Lang) -> list[str]:
    """One table row per line: its date, amount, reference, how it was told, where the stored
    line it met is (batch, file), then the account and the stored line's id last."""
    if frame.height == 0:
        return []
    shown = frame.sort("booking_date", "account_iban").head(MAX_LISTED)
    keys = ("date", "amount", "reference", "how", "stored_in", "stored_amount",
            "stored_reference", "account", "stored_line")  # fmt: skip
    out = [
        "",
        f"## {_word(f'{kind}_title', lang)} ({_n(frame.height, lang)})",
        "",
        _word(f"{kind}_why", lang),
        "",
        "| " + " | ".join(_word(f"col.{k}", lang) for k in keys) + " |",
        "|---|---:|---|---|---|---:|---|---|---|",
    ]
    for row in shown.iter_rows(named=True):
        stored_in = (
            _word("in_batch", lang, batch=row["stored_batch_id"])
            if row["stored_batch_id"] is not None
            else MISSING
        )
        if row["stored_file"]:
            stored_in += f", {md_code(row['stored_file'], cell=True)}"
        stored_id = row["stored_transaction_id"]
        stored_line = md_code(stored_id, cell=True) if stored_id else _word("earlier_in_load", lang)
        stored_date = row["stored_booking_date"]
        stored_amount = format_money(row["stored_amount_cents"], row["currency"], lang)
        if stored_date is not None and stored_date != row["booking_date"]:
            stored_amount += " " + _word("on_date", lang, date=format_date(stored_date, lang))
        out.append(
            f"| {format_date(row['booking_date'], lang)}"
            f" | {format_money(row['amount_cents'], row['currency'], lang)}"
            f" | {md_cell(row['reference']) or MISSING} | {md_label(_how(row['how'], lang))}"
            f" | {stored_in} | {stored_amount or MISSING}"
            f" | {md_cell(row['stored_reference']) or MISSING}"
            f" | {md_cell(row['account_iban'])} | {stored_line} |"
        )
    if frame.height > MAX_LISTED:
        out += [
            "",
            _word("first_shown", lang, shown=_n(MAX_LISTED, lang), total=_n(frame.height, lang)),
        ]
    return out


# How store.py says a line was told apart, and balance.py why a check did not pass, in English;
# finance reads them in its language (bank.how.* keys). A text not listed is shown as it is.
_HOW = {
    "same bank reference": "same_reference",
    "same bank reference and day, other amount: stored as new": "same_reference_clash",
    "not provable either way: stored, may repeat this stored line": "not_provable",
    "same bank reference, earlier in this load": "earlier_in_load",
    "statement already stored (same dates and balances)": "statement_stored",
    "continues a stored statement": "continues",
    "same day, same count and sum as a stored statement": "same_day",
    "stored from a partial report (intraday, feed) of this day": "stored_partial",
    "partial report (intraday, feed) of a stored day": "partial_of_stored",
    "intraday report (MT942): no balances, entry counts and sums checked": "intraday",
    "no opening balance": "no_opening",
    "no closing balance": "no_closing",
}
_MIXED = re.compile(r"^entries in (?P<others>.+), statement in (?P<currency>\S+)$")
_DIFFERENCE = re.compile(
    r"^opening (?P<opening>\S+) \+ movements (?P<movements>\S+) = (?P<sum>\S+),"
    r" closing (?P<closing>\S+)$"
)


def _how(text: str | None, lang: Lang) -> str:
    if not text:
        return ""
    if text in _HOW:
        return _word(f"how.{_HOW[text]}", lang)
    if found := _MIXED.match(text):
        return _word("how.mixed_currencies", lang, **found.groupdict())
    if found := _DIFFERENCE.match(text):
        try:
            amounts = {k: _money(Decimal(v), lang) for k, v in found.groupdict().items()}
        except InvalidOperation:
            return text
        return _word("how.difference", lang, **amounts)
    return text


def _result(status: str, reason: str | None, lang: Lang) -> str:
    """A balance check's result in words, its reason after it (escaped: it quotes the file)."""
    try:
        shown = _word(f"status.{status}", lang)
    except KeyError:
        shown = status
    why = _how(reason, lang)
    return md_cell(shown) + (f" ({md_cell(why)})" if why else "")


def _money(value: Decimal | None, lang: Lang = "fr") -> str:
    """A balance without its currency (the row names it): "1 234,50", "–" when missing."""
    return MISSING if value is None else format_money(value, None, lang)
