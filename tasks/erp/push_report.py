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

# Words of the artifact until the label catalogs carry an [erp_push] section (the keys below,
# under `erp_push.`, win when a catalog has them), as tasks/ere/sync.py does.
_WORDS = {
    "fr": {
        "title": "Paiements transmis à l'ERP\u00a0: {source}",
        "description": "Derniers paiements transmis à {source}",
        "pushed": "Transmis",
        "already": "Déjà dans l'ERP",
        "failed": "En échec",
        "queued": "Nouveaux paiements mis en file\u00a0: {count}.",
        "nothing": "Aucun paiement à renvoyer.",
        "status": "Statut",
        "invoice": "Facture",
        "amount": "Montant",
        "reason": "Raison",
        "allocation": "Affectation",
        "retry_note": "Un échec dû à l'ERP (indisponible, délai dépassé) est retenté au"
        " prochain passage\u00a0; un refus (4xx) attend une correction, puis"
        " `o2c push erp SOURCE --retry-failed`.",
    },
    "en": {
        "title": "Payments written back to the ERP: {source}",
        "description": "Last write-back of payments to {source}",
        "pushed": "Pushed",
        "already": "Already there",
        "failed": "Failed",
        "queued": "New payments queued: {count}.",
        "nothing": "No payment to write back.",
        "status": "Status",
        "invoice": "Invoice",
        "amount": "Amount",
        "reason": "Reason",
        "allocation": "Allocation",
        "retry_note": "A failure on the ERP's side (unavailable, timed out) is retried at the"
        " next run; a refusal (4xx) waits for a correction, then"
        " `o2c push erp SOURCE --retry-failed`.",
    },
}


def word(name: str, lang: str, **values: object) -> str:
    """An artifact word: the label catalog's `erp_push.<name>` if it has one, else ours."""
    lang = lang if lang in _WORDS else "fr"
    text = Labels(lang).words.get(f"erp_push.{name}", _WORDS[lang][name])
    return text.format(**values) if values else text


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
