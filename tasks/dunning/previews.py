"""The day's planned messages for finance: one HTML page beside the warehouse, and an artifact.

The page (render.preview_html) shows each message as its customer would read it. The artifact
repeats each message's subject and plain text in the Prefect UI, as indented code blocks: a
customer's name or an invoice number in them is shown as typed, never read as Markdown or HTML.
"""

from __future__ import annotations

from pathlib import Path

from o2c.models.dunning import Communication
from o2c.tasks.common.escaping import md_code, md_text
from o2c.tasks.common.formatting import format_money
from o2c.tasks.common.language import Labels, Lang, LanguageSettings
from o2c.tasks.dunning.render import NOT_SENT, TemplateError, preview_html, render
from o2c.tasks.dunning.settings import SenderSettings

MAX_SHOWN = 50  # the artifact shows this many messages in full; the page has them all


def write_page(communications: list[Communication], page: Path) -> Path:
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(preview_html(communications), encoding="utf-8")
    return page


def _indented(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def previews_markdown(communications: list[Communication], lang: Lang, page: Path) -> str:
    """Each planned message, level and amount first, then its subject and text."""
    t = Labels(lang)
    fr = lang == "fr"
    sender, words = SenderSettings(), LanguageSettings()
    lines = [
        f"# {t('dunning.preview.title')}",
        "",
        t("dunning.preview.summary", count=len(communications)),
        "",
        (f"Page complète : {md_code(page)}" if fr else f"Full page: {md_code(page)}"),
    ]
    for n, c in enumerate(communications[:MAX_SHOWN], start=1):
        due = format_money(c.due_cents, c.currency, lang)
        approval = f" · {t('dunning.preview.approval')}" if c.needs_approval else ""
        lines += [
            "",
            f"## {n}. {md_text(c.customer_name)} ({md_text(c.customer_id)})",
            "",
            f"{t('dunning.preview.level')} {c.level} {md_text(c.level_name)} · "
            f"{t(f'dunning.channel.{c.channel.value}')} · {due}{approval}",
        ]
        if c.channel in NOT_SENT:
            lines += ["", t("dunning.preview.no_message")]
            continue
        try:
            message = render(c, sender, language_settings=words)
        except TemplateError as exc:
            lines += ["", f"{t('dunning.preview.problem')}: {md_text(exc)}"]
            continue
        lines += ["", _indented(f"{message.subject}\n\n{message.text}")]
    if len(communications) > MAX_SHOWN:
        more = len(communications) - MAX_SHOWN
        lines += ["", f"… {more} de plus sur la page complète." if fr else f"… {more} more."]
    return "\n".join(lines) + "\n"
