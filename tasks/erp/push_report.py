"""The erp-<source>-push artifact: what finance reads after payments were written back to an ERP.

In the company's language (French by default): how many were pushed, already there, failed;
then one line per allocation that failed, with the reason (text from the ERP, escaped), and the
ones pushed, amounts formatted in their currency. Never a secret: reasons are the HTTP client's
messages, redacted there.
"""

from __future__ import annotations

from o2c.tasks.common.escaping import md_text
from o2c.tasks.common.formatting import format_money
from o2c.tasks.common.language import Labels, company_language
from o2c.tasks.erp.push import ALREADY, FAILED, PUSHED, PushReport


def word(name: str, lang: str, **values: object) -> str:
    """An artifact word, from the label catalogs' [erp_push] section."""
    return Labels(lang)(f"erp_push.{name}", **values)


def push_markdown(report: PushReport, lang: str | None = None) -> str:
    lang = lang or company_language()
    lines = [
        f"# {word('title', lang, source=md_text(report.source))}",
        "",
        f"| {word('pushed', lang)} | {word('already', lang)} | {word('failed', lang)} |",
        "|---:|---:|---:|",
        f"| {report.count(PUSHED)} | {report.count(ALREADY)} | {report.count(FAILED)} |",
        "",
        word("queued", lang, count=report.queued),
    ]
    if not report.outcomes:
        return "\n".join([*lines, "", word("nothing", lang)]) + "\n"
    lines += [
        "",
        f"| {word('status', lang)} | {word('invoice', lang)} | {word('amount', lang)}"
        f" | {word('allocation', lang)} | {word('reason', lang)} |",
        "|---|---|---:|---|---|",
    ]
    order = {FAILED: 0, PUSHED: 1, ALREADY: 2}
    for o in sorted(report.outcomes, key=lambda o: (order.get(o.status, 3), o.invoice_id)):
        lines.append(
            f"| {word(o.status, lang) if o.status in order else md_text(o.status)}"
            f" | {md_text(o.invoice_id)} | {format_money(o.amount, o.currency, lang)}"  # type: ignore[arg-type]
            f" | {md_text(o.allocation_id)} | {md_text(o.reason or '')} |"
        )
    if report.count(FAILED):
        lines += ["", word("retry_note", lang)]
    return "\n".join(lines) + "\n"
