"""What finance reads after reconciliation, in the company's language (French first): counts,
what was allocated per currency, matched by rule and currency, what was left alone as not a
customer payment, the outcome of each decision line, and the exceptions to decide.

Words come from the label catalog (``reconciliation.*`` keys of templates/labels/<lang>.toml,
read by tasks/common/language.py, which a company may override); amounts and dates from the one
formatter. What evidence.py and store.py write in English (why a candidate, why a line is
refused) is worded here, short, at render time.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import duckdb

from o2c.models.reconciliation import Rule
from o2c.tasks.common.escaping import md_label, md_text
from o2c.tasks.common.language import (
    Lang,
    company_language,
    format_count,
    format_date,
    format_money,
    format_percent,
    label,
)

# What each rule means, in the words of a credit controller (models/reconciliation.py): the
# catalog's reconciliation.rule.* keys say it per language; a rule the catalog lacks, its label.
RULE_LABELS = {rule.value: rule.label for rule in Rule}


def word(key: str, lang: Lang, **values: object) -> str:
    """``reconciliation.<key>`` from the label catalog (templates/labels), placeholders filled."""
    return label(f"reconciliation.{key}", lang, **values)


def rule_label(rule: str, lang: Lang) -> str:
    try:
        return label(f"reconciliation.rule.{rule}", lang)
    except KeyError:
        return RULE_LABELS.get(rule, rule.replace("_", " "))


def reason_label(reason: str | None, lang: Lang) -> str:
    """A reason in words ("rien ne désigne une facture ouverte"), never the raw code."""
    if not reason:
        return ""
    try:
        return label(f"reconciliation.reason.{reason}", lang)
    except KeyError:
        return reason.replace("_", " ")


# evidence.py writes what points to a candidate in English sentences with amounts as "1200,50"
# and ISO dates; finance reads them short, in its language (reconciliation.why.* keys).
_AMOUNT = r"-?\d+,\d{2}"
_MONEY = rf"({_AMOUNT})"
_WHY: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"^reference (?P<ref>.+) given$", "reference_given"),
        (r"^reference (?P<ref>.+) in the text$", "reference_in_text"),
        (r"^invoice number (?P<id>.+) in the text$", "number_in_text"),
        (rf"^remittance document (?P<doc>.+?)(?: for {_MONEY})?$", "document"),
        (r"^payer's open item of that amount$", "payer_item_amount"),
        (r"^payer's open items of that sum$", "payer_items_sum"),
        (rf"^amount equals what the remittance lists \({_MONEY}\)$", "amount_listed"),
        (rf"^amount equals what is open \({_MONEY}\)$", "amount_exact"),
        (
            rf"^(?P<gap>{_AMOUNT}) short of what .* \({_MONEY}\), within the bank-charge"
            r" tolerance$",
            "short",
        ),
        (rf"^partial: pays (?P<paid>{_AMOUNT}) of (?P<open>{_AMOUNT}) (?:listed|open)$", "partial"),
        (rf"^(?P<gap>{_AMOUNT}) more than what .* \({_MONEY}\)$", "over"),
        (r"^payer's IBAN is known for customer (?P<customer>.+)$", "payer_iban"),
        (r"^payer's name fits customer (?P<customer>.+)$", "payer_name"),
        (r"^issued (?P<issued>\d{4}-\d{2}-\d{2}), due (?P<due>\d{4}-\d{2}-\d{2})$", "dates"),
    )
)


def _token(name: str, value: str, lang: Lang) -> str:
    """A value caught in an English reason, as finance reads it in `lang`."""
    if re.fullmatch(_AMOUNT, value):
        units, cents = value.split(",")
        sign = -1 if units.startswith("-") else 1
        return format_money(sign * (abs(int(units)) * 100 + int(cents)), None, lang)
    if name in ("issued", "due"):
        return format_date(date.fromisoformat(value), lang)
    return value


def why_label(why: str, lang: Lang) -> str:
    """One of evidence.py's reasons, short and in `lang` ("montant exact", "réf. RF18…");
    a reason it does not know, as it is."""
    for pattern, key in _WHY:
        found = pattern.match(why)
        if found:
            values = {k: _token(k, v, lang) for k, v in found.groupdict().items() if v}
            return word(f"why.{key}", lang, **values)
    return why


# store.py says why it refuses a decision line in English, after "decisions (ui) line N: "; the
# report has the line in its own column and gives the reason short, in finance's language.
_WHERE = re.compile(r"^decisions \([^)]*\) line [\d, ]+(?: \(.*?\))?(?:: invoice_id '[^']*')?: ")
_REFUSALS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"^unknown transaction_id ", "unknown_transaction"),
        (r"^unknown invoice_id '(?P<invoice>.*)'$", "unknown_invoice"),
        (r"^transaction '.*' is already allocated$", "already_allocated"),
        (r"^transaction '.*' is already decided$", "already_decided"),
        (r"^no amount given and nothing open on '(?P<invoice>.*)'$", "nothing_open"),
        (
            r"^invoice '(?P<invoice>.*)' is in (?P<invoice_currency>\w+), the payment in"
            r" (?P<currency>\w+)$",
            "currency",
        ),
        (r"^transaction '.*' is both a customer payment and not one$", "both"),
        (
            r"^allocates (?P<given>.+?) to invoices, more than the payment of (?P<paid>.+)$",
            "too_much",
        ),
        (r"^another line of transaction '.*' was refused$", "another_line"),
        (r"^transaction '.*' has no counterparty remembered as not a customer$", "not_remembered"),
        (r"^transaction '.*' has (?:candidates 1 to \d+|no candidate)$", "no_candidate"),
    )
)


_CANDIDATE = re.compile(r"^\s*candidate\s+(\d+)\s*$", re.IGNORECASE)  # as a CSV or the form says


def refusal_label(reason: str, lang: Lang) -> str:
    """Why a decision line was refused, without the line (its own column), in `lang`."""
    text = _WHERE.sub("", reason, count=1)
    for pattern, key in _REFUSALS:
        found = pattern.match(text)
        if found:
            return word(f"refusal.{key}", lang, **found.groupdict())
    return text


def allocated_lines(stats: dict[str, Any], lang: Lang | None = None) -> list[str]:
    """What was allocated to invoices, one line per currency ("- 1 234,50 EUR"): amounts in two
    currencies are never added. Stats without ``amount_matched_by_currency`` (an engine that
    gives only the total) get the total, said to be one."""
    lang = lang or company_language()
    by_currency = stats.get("amount_matched_by_currency")
    if by_currency is None:
        total = format_money(int(stats.get("amount_matched_cents", 0)), None, lang)
        return [word("allocated_total", lang, amount=total)]
    paid = {cur: int(cents) for cur, cents in by_currency.items() if cents}
    if not paid:
        return [word("allocated_none", lang)]
    lines = [word("allocated", lang), ""]
    return lines + [f"- {format_money(paid[cur], cur, lang)}" for cur in sorted(paid)]


def _by_rule(stats: dict[str, Any], lang: Lang) -> list[str]:
    """One line per rule and currency, then a total per currency; older stats without
    currencies (``by_rule`` only) get one line per rule, its amount without a currency."""
    rows = stats.get("by_rule_currency")
    if rows is None:
        rows = [
            {"rule": r, "currency": None, **v}
            for r, v in sorted((stats.get("by_rule") or {}).items())
        ]
    if not rows:
        return []
    head = [word(k, lang) for k in ("rule_head", "currency", "transactions", "amount")]
    lines = ["", f"## {word('by_rule', lang)}", "", "| " + " | ".join(head) + " |"]
    lines += ["|---|---|---:|---:|"]
    for cur in sorted({r["currency"] or "" for r in rows}):
        mine = [r for r in rows if (r["currency"] or "") == cur]
        lines += [
            f"| {md_label(rule_label(r['rule'], lang))} | {md_label(cur)}"
            f" | {format_count(r['transactions'], lang)}"
            f" | {format_money(int(r['amount_cents']), cur or None, lang)} |"
            for r in sorted(mine, key=lambda r: -int(r["amount_cents"]))
        ]
        if cur:
            lines.append(
                f"| **{md_label(word('total', lang, currency=cur))}** | {md_label(cur)}"
                f" | **{format_count(sum(r['transactions'] for r in mine), lang)}**"
                f" | **{format_money(sum(int(r['amount_cents']) for r in mine), cur, lang)}** |"
            )
    return lines


def _left_alone(stats: dict[str, Any], lang: Lang) -> list[str]:
    """ "Not customer payments, left alone: 5, 1 234,56 EUR" and how they were told apart."""
    n = int(stats.get("left_alone", 0) or 0)
    if not n:
        return []
    sums = ", ".join(
        format_money(int(v["amount_cents"]), cur, lang)
        for cur, v in sorted((stats.get("left_alone_by_currency") or {}).items())
    )
    how = word(
        "left_alone_how",
        lang,
        decided=format_count(stats.get("left_alone_by_decision", 0), lang),
        coded=format_count(stats.get("left_alone_by_code", 0), lang),
    )
    sep = " : " if lang == "fr" else ": "
    return ["", f"{word('left_alone', lang)}{sep}{format_count(n, lang)}, {sums} ({how})."]


def decision_lines(
    decisions: dict[str, Any] | None, lang: Lang, described: dict[str, str] | None = None
) -> list[str]:
    """Each decision line with its outcome (applied / refused and why), for finance."""
    if not decisions:
        return []
    lines = decisions.get("lines")
    if lines is None:  # counts only
        return ["", f"## {word('decisions', lang)}", ""] + [
            f"- {md_label(k)}: {md_label(v)}" for k, v in decisions.items()
        ]
    described = described or {}
    # A line split over several invoices is one decision, applied or refused whole.
    refused = len({r["line"] for r in lines if r["outcome"] == "refused"})
    applied = len({r["line"] for r in lines}) - refused
    out = ["", f"## {word('decisions', lang)}", ""]
    out += [word("applied_n", lang, applied=format_count(applied, lang),
                 refused=format_count(refused, lang)), ""]  # fmt: skip
    # What finance acts on first (outcome, why refused, what was decided), the payment last: its
    # words are long and the reason must stay on screen at 1366 px.
    keys = ("line", "outcome", "reason_head", "decision", "amount", "payment")
    head = [word(k, lang) for k in keys]
    out += ["| " + " | ".join(head) + " |", "|---:|---|---|---|---:|---|"]
    for r in lines:
        what = r.get("invoice_id")
        if what is None:
            what = word("not_customer", lang)
        elif str(what).strip().lower() in ("undo", "annuler"):
            what = word("undo", lang)
        elif found := _CANDIDATE.match(str(what)):
            what = word("candidate_n", lang, n=found[1])
        payment = described.get(r["transaction_id"] or "", r["transaction_id"] or "")
        why = refusal_label(r.get("reason") or "", lang) if r.get("reason") else ""
        out.append(
            f"| {r['line']} | {word(r['outcome'], lang)} | {md_text(why)} | {md_text(what)}"
            f" | {md_text(r.get('amount') or '')} | {md_text(payment)} |"
        )
    if refused:
        out += ["", word("refused_note", lang)]
    return out


def summary_markdown(
    stats: dict[str, Any],
    decisions: dict[str, Any] | None = None,
    lang: Lang | None = None,
    described: dict[str, str] | None = None,
) -> str:
    """The `reconciliation` artifact: counts, allocated per currency, what was left alone,
    matched by rule and currency with a total per currency, exceptions by reason in words,
    and each decision line's outcome (``described``: transaction_id -> the payment in words)."""
    lang = lang or company_language()
    rows = [
        ("considered", stats.get("transactions", 0)),
        ("settled", stats.get("settled", 0)),
        ("exceptions", stats.get("exceptions", 0)),
        ("left_by_decision", stats.get("left_by_decision", 0)),
        ("debits", stats.get("not_customer_debits", 0)),
    ]
    lines = [
        f"# {word('title', lang)}",
        "",
        f"| | {word('count', lang)} |",
        "|---|---:|",
        *(f"| {word(k, lang)} | {format_count(v or 0, lang)} |" for k, v in rows),
        "",
        *allocated_lines(stats, lang),
        *_left_alone(stats, lang),
        *_by_rule(stats, lang),
    ]
    reasons = stats.get("exceptions_by_reason") or {}
    if reasons:
        lines += ["", f"## {word('by_reason', lang)}", ""]
        lines += [f"| {word('reason_head', lang)} | {word('transactions', lang)} |", "|---|---:|"]
        lines += [
            f"| {md_label(reason_label(r, lang))} | {format_count(n, lang)} |"
            for r, n in sorted(reasons.items())
        ]
        lines += ["", word("how_to_decide", lang)]
    lines += decision_lines(decisions, lang, described)
    return "\n".join(lines) + "\n"


def open_exceptions(
    con: duckdb.DuckDBPyConnection, limit: int = 1000, lang: Lang | None = None
) -> list[dict[str, Any]]:
    """Open exceptions as finance reads them, oldest booking first: what the payment is (date,
    amount, payer), why it waits in words, the best candidate (decide with "candidate N"), then
    every candidate numbered with what points to it, its text, then the bank's reference,
    the payer's IBAN and the transaction id (what a decisions CSV names) last: at 1366 px the
    reason and the candidates are on screen (the UI's table cells do not wrap)."""
    lang = lang or company_language()
    rows = con.execute(
        """
        SELECT t.booking_date, t.amount, t.currency, t.counterparty_name,
               coalesce(t.remittance_structured, t.remittance_unstructured) AS remittance,
               e.reason, e.candidates, e.transaction_id, t.bank_reference, t.counterparty_iban
        FROM reconciliation_exceptions e
        JOIN bank_transactions t USING (transaction_id)
        WHERE e.status = 'open'
        ORDER BY t.booking_date, e.transaction_id
        LIMIT ?
        """,
        [limit],
    ).fetchall()
    keys = ["date", "amount", "payer", "reason", "candidates", "evidence", "text", "bank_ref",
            "iban", "transaction"]  # fmt: skip
    names = [word(f"col.{k}", lang) for k in keys]
    return [
        dict(
            zip(
                names,
                (
                    format_date(booked, lang),
                    format_money(amount, currency, lang),
                    short_payer(payer),
                    reason_label(reason, lang),
                    candidates_text(raw, currency, lang),
                    candidates_text(raw, currency, lang, evidence=True),
                    remittance,
                    bank_ref,
                    iban,
                    tx_id,
                ),
                strict=True,
            )
        )
        for booked, amount, currency, payer, remittance, reason, raw, tx_id, bank_ref, iban in rows
    ]


PAYER_WIDTH = 16  # characters of the payer's name in the exceptions table (cells do not wrap)


def short_payer(name: str | None) -> str | None:
    """The payer's name cut to PAYER_WIDTH with an ellipsis: the candidates stay on screen."""
    if name is None or len(name) <= PAYER_WIDTH:
        return name
    return name[: PAYER_WIDTH - 1].rstrip() + "…"


MAX_WHY = 2  # reasons shown per candidate: the strongest; the table and form stay narrow


def candidate_label(n: int, c: dict[str, Any], currency: str | None, lang: Lang) -> str:
    """ "1) FA-2026-0001 · 600,00 EUR · 65 % · n° au libellé, montant exact": candidate N, its
    invoices (what each receives when several), its score and what points to it, short."""
    ids = c.get("invoice_ids") or []
    amounts = c.get("amounts_cents")
    if amounts and len(amounts) == len(ids) and len(ids) > 1:
        what = " + ".join(
            f"{i} {format_money(a, None, lang)}" for i, a in zip(ids, amounts, strict=True)
        )
        if currency:
            what += f" {currency}"
    else:
        what = ", ".join(ids)
        if c.get("amount_cents") is not None:
            what += f" · {format_money(int(c['amount_cents']), currency, lang)}"
    parts = [what]
    if c.get("score") is not None:
        parts.append(format_percent(float(c["score"]), lang, places=0))
    whys = [why_label(w, lang) for w in (c.get("why") or [])[:MAX_WHY]]
    parts.append(", ".join(whys) or rule_label(c.get("rule") or "", lang))
    return f"{n}) " + " · ".join(p for p in parts if p)


CANDIDATES_SEPARATOR = " ; "  # between candidates in the exceptions table (" · " is inside one)


def candidates_text(
    raw: str | None,
    currency: str | None = None,
    lang: Lang | None = None,
    *,
    evidence: bool = False,
) -> str:
    """The candidates of an exception: the first one's documents and how many others, or
    (``evidence``) all of them, numbered as "candidate N" takes them, " ; " between, each with
    what it allocates, its score and what points to it."""
    if not raw:
        return ""
    try:
        candidates = json.loads(raw)
    except json.JSONDecodeError:
        return "" if evidence else raw
    lang = lang or company_language()
    if not evidence:  # the best one's documents only: the UI's table cells do not wrap
        if not candidates:
            return ""
        more = f" (+{len(candidates) - 1})" if len(candidates) > 1 else ""
        return "1) " + " + ".join(candidates[0].get("invoice_ids") or []) + more
    return CANDIDATES_SEPARATOR.join(
        candidate_label(n, c, currency, lang) for n, c in enumerate(candidates, 1)
    )
