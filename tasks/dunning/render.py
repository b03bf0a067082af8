"""A planned communication rendered as the email (subject, plain text, HTML) its customer reads.

Templates are Jinja2 files under templates/dunning/: one layout per format (`_layout.html.j2`,
`_layout.txt.j2`: the items table, credits netted, amount due, payment link, contact, legal
mentions) and one file of wording per level and language (`<lang>/<template>.j2`: subject,
opening and closing paragraphs), so a company rewrites a level's tone without touching tables.
HTML is rendered with autoescape on: a customer's name or an invoice number is text, never markup.

The letter is in the customer's language (else the company's, O2C_LANGUAGE). French legal
mentions (C. com. L441-10: penalties at the ECB rate + 10 points with the amount accrued per
invoice, the 40 EUR flat indemnity, D441-5) appear for a business customer as soon as one item is
past due; a consumer's letter carries neither (that article governs dealings between businesses).
Penalties and indemnities are computed by the plan (tasks/dunning/penalties.py) and shown as owed
in addition to the amount asked, which is the overdue items net of credits.

Each rendering carries two hashes for the audit log: `template_sha256` over every source it used
(the layouts, the level's wording, the label catalogs), `content_sha256` over what it produced.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from jinja2 import meta
from markupsafe import Markup

import o2c.templates
from o2c.models.dunning import Channel, Communication, CustomerKind, DunnedItem, RenderedMessage
from o2c.tasks.common.language import (
    FALLBACK,
    Labels,
    LanguageSettings,
    catalog_files,
    format_date,
    format_money,
    language_for,
    normalise,
)
from o2c.tasks.dunning.settings import SenderSettings

TEMPLATES_DIR = Path(o2c.templates.__file__).parent
LAYOUTS = {"html": "dunning/_layout.html.j2", "text": "dunning/_layout.txt.j2"}
PREVIEW = "dunning/_preview.html.j2"
NOT_SENT = (Channel.PHONE_TASK, Channel.LITIGATION)  # a worklist line, not a message


class TemplateError(ValueError):
    """A communication names a template (or language) with no file: says which, and where."""


@lru_cache(maxsize=8)
def _environment(html: bool, own: Path | None = None) -> jinja2.Environment:
    """Templates from the company's folder first (O2C_COMPANY_TEMPLATES_DIR), then shipped."""
    folders = [own, TEMPLATES_DIR] if own is not None else [TEMPLATES_DIR]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=html,
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails loudly, never blank
        keep_trailing_newline=False,
        auto_reload=True,
    )


def prose_name(template: str, lang: str) -> str:
    """Where a level's wording lives: dunning/<lang>/<template>.j2."""
    return f"dunning/{lang}/{template}.j2"


def _sources(env: jinja2.Environment, names: Iterable[str]) -> dict[str, str]:
    """Each template by name with its source, and every template those include or extend."""
    loader = env.loader
    assert loader is not None
    todo, seen = list(names), {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        source, _, _ = loader.get_source(env, name)
        seen[name] = source
        todo.extend(n for n in meta.find_referenced_templates(env.parse(source)) if n)
    return seen


def template_sha256(
    template: str,
    lang: str,
    own: Path | None = None,
    settings: LanguageSettings | None = None,
) -> str:
    """SHA-256 over every source a rendering reads: both layouts, the level's wording in that
    language, and the label catalogs (English underneath, the language, the company's own).
    Of their content, not their place: the same files copied elsewhere hash the same."""
    env = _environment(False, own)
    names = [*LAYOUTS.values(), prose_name(template, lang)]
    labels = [p for each in dict.fromkeys((FALLBACK, lang)) for p in catalog_files(each, settings)]  # type: ignore[arg-type]
    # what the files are now (a template edited while a flow runs is seen, as Jinja sees it)
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in labels)
    loader = env.loader
    assert isinstance(loader, jinja2.FileSystemLoader)
    where = tuple(
        (str(Path(d) / n), (Path(d) / n).stat().st_mtime_ns)
        for d in loader.searchpath
        for n in names
        if (Path(d) / n).is_file()
    )
    return _template_sha256(own, tuple(names), tuple(labels), stamp + where)


@lru_cache(maxsize=64)
def _template_sha256(
    own: Path | None, names: tuple[str, ...], labels: tuple[Path, ...], _stamp: tuple
) -> str:
    sources = _sources(_environment(False, own), names)
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(f"{name}\0{sources[name]}\0".encode())
    for path in labels:
        digest.update(f"labels/{path.name}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()


def content_sha256(subject: str, text: str, html: str | None) -> str:
    return hashlib.sha256("\0".join([subject, text, html or ""]).encode()).hexdigest()


def _columns(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """A plain-text table: columns padded to their widest cell, amounts aligned right."""
    lines = ([list(header)] if header else []) + [list(r) for r in rows]
    if not lines:
        return ""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]

    def cell(i: int, text: str) -> str:
        return text.rjust(widths[i]) if i in right else text.ljust(widths[i])

    out = ["  ".join(cell(i, t) for i, t in enumerate(line)).rstrip() for line in lines]
    if header:
        out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def is_legal(communication: Communication) -> bool:
    """L441-10 mentions: a business customer with at least one item past due."""
    return communication.customer_kind == CustomerKind.BUSINESS and any(
        i.days_late > 0 for i in communication.items
    )


def _check_link(communication: Communication) -> None:
    link = communication.payment_link
    if link is not None and urlsplit(link).scheme not in ("https", "http"):
        raise ValueError(
            f"communication {communication.key} ({communication.customer_id}): payment link "
            f"{link[:40]!r} is not an http(s) address"
        )


def _context(
    c: Communication, lang: str, sender: SenderSettings, words: LanguageSettings
) -> dict[str, object]:
    t = Labels(lang, words)

    def money(cents: int) -> str:
        return format_money(cents, c.currency, lang, symbol=True)  # type: ignore[arg-type]

    def day(value: date | None) -> str:
        return format_date(value, lang)  # type: ignore[arg-type]

    def long_day(value: date | None) -> str:
        return format_date(value, lang, long=True)  # type: ignore[arg-type]

    def late(item: DunnedItem) -> str:
        return str(item.days_late) if item.days_late > 0 else t("dunning.items.not_due")

    def kind(item: DunnedItem) -> str:
        known = {"credit_note", "unapplied_credit", "invoice", "instalment"}
        return t(f"common.{item.document_type}") if item.document_type in known else ""

    legal = is_legal(c)
    item_header = [
        t("dunning.items.number"),
        t("dunning.items.issue_date"),
        t("dunning.items.due_date"),
        t("dunning.items.amount"),
        t("dunning.items.open"),
        t("dunning.items.days_late"),
        *([t("dunning.items.penalty"), t("dunning.items.indemnity")] if legal else []),
    ]
    item_rows = [
        [
            # A missed instalment of a payment plan says so beside its number.
            f"{i.invoice_id} ({kind(i)})" if i.document_type == "instalment" else i.invoice_id,
            day(i.issue_date),
            day(i.due_date),
            money(i.total_cents),
            money(i.open_cents),
            late(i),
            *([money(i.penalty_cents), money(i.indemnity_cents)] if legal else []),
        ]
        for i in c.items
    ]
    credit_header = [
        t("dunning.credits.number"),
        t("dunning.credits.kind"),
        t("dunning.credits.issue_date"),
        t("dunning.credits.open"),
    ]
    credit_rows = [
        [x.invoice_id, kind(x), day(x.issue_date), money(x.open_cents)] for x in c.credits
    ]
    total_rows = [
        [t("dunning.totals.overdue"), money(c.overdue_cents)],
        *([[t("dunning.totals.credits"), money(c.credits_cents)]] if c.credits else []),
        [t("dunning.totals.due"), money(c.due_cents)],
    ]
    return {
        "c": c,
        "lang": lang,
        "sender": sender,
        "legal": legal,
        "indemnity": legal,  # D441-5: business customers only, like the penalties
        "pay_by": c.as_of + timedelta(days=sender.pay_within_days),
        "prose": prose_name(c.template, lang),
        "br": Markup("<br>\n"),  # a line break inside an HTML paragraph (a signature)
        "t": t,
        "money": money,
        "day": day,
        "long_day": long_day,
        "late": late,
        "kind": kind,
        # the plain-text tables, laid out here (Jinja cannot pad a column)
        "item_table": _columns(item_header, item_rows, set(range(3, len(item_header)))),
        "credit_table": _columns(credit_header, credit_rows, {3}),
        "total_table": _columns([], total_rows, {1}),
    }


def render(
    communication: Communication,
    settings: SenderSettings | None = None,
    *,
    company_language: str | None = None,
    language_settings: LanguageSettings | None = None,
) -> RenderedMessage:
    """The communication as subject, plain text and HTML, in the customer's language.

    A caller rendering many passes its settings once (reading them is most of the cost)."""
    sender = settings or SenderSettings()
    words = language_settings or LanguageSettings()
    lang = language_for(communication.language, company_language or words.language)  # type: ignore[arg-type]
    _check_link(communication)
    if communication.channel in NOT_SENT:
        raise TemplateError(
            f"communication {communication.key}: a {communication.channel.value} level sends no "
            "message, there is nothing to render"
        )
    name = prose_name(communication.template, lang)
    own = sender.templates_dir
    text_env, html_env = _environment(False, own), _environment(True, own)
    try:
        prose_template = text_env.get_template(name)
    except jinja2.TemplateNotFound as err:
        where = " or ".join(str(d / name) for d in (own, TEMPLATES_DIR) if d is not None)
        raise TemplateError(
            f"no template {communication.template!r} in {lang!r} for communication "
            f"{communication.key} ({communication.customer_id}, level {communication.level}): "
            f"expected {where}"
        ) from err
    context = _context(communication, lang, sender, words)
    prose = prose_template.make_module(context)
    subject = " ".join(str(prose.subject).split())  # one line: a name cannot add a header
    text = text_env.get_template(LAYOUTS["text"]).render(context).strip() + "\n"
    html = html_env.get_template(LAYOUTS["html"]).render(context)
    return RenderedMessage(
        key=communication.key,
        language=lang,
        subject=subject,
        text=text,
        html=html,
        template_sha256=template_sha256(communication.template, lang, own, words),
        content_sha256=content_sha256(subject, text, html),
    )


def preview_html(
    communications: Iterable[Communication],
    settings: SenderSettings | None = None,
    *,
    company_language: str | None = None,
    renderer: Callable[..., RenderedMessage] = render,
) -> str:
    """One HTML page showing each planned communication as its customer would read it, for
    finance's approval and `o2c dunning plan`. A level that sends nothing (phone task,
    litigation) is listed; one whose template is missing is shown with the reason, not skipped."""
    sender = settings or SenderSettings()
    words = LanguageSettings()
    entries = []
    for c in communications:
        entry: dict[str, object] = {"c": c, "message": None, "problem": None}
        if c.channel not in NOT_SENT:
            try:
                message = renderer(
                    c, sender, company_language=company_language, language_settings=words
                )
            except TemplateError as err:
                entry["problem"] = str(err)
            else:
                entry["message"] = message
                entry["body"] = Markup(_body(message.html or ""))
        entries.append(entry)
    lang = normalise(company_language) or words.language
    env = _environment(True, sender.templates_dir)
    return env.get_template(PREVIEW).render(
        entries=entries,
        lang=lang,
        t=Labels(lang, words),
        money=lambda c, cents: format_money(cents, c.currency, lang),  # type: ignore[arg-type]
    )


def _body(html: str) -> str:
    """The inside of a rendered message's <body>, to sit in the preview page."""
    start = html.find("<body")
    start = html.find(">", start) + 1 if start >= 0 else 0
    end = html.rfind("</body>")
    return html[start : end if end >= 0 else len(html)]
