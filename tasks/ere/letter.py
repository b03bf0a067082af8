"""The formal notice to pay ("mise en demeure de payer") as a PDF/A, in the debtor's language.

Engine: Typst, from the `typst` wheel (compiler and fonts in one package from PyPI, no system
library; WeasyPrint needs Pango). A Jinja2 template per language (templates/ere/<lang>/
formal_notice.typ.j2) writes Typst source; the wheel compiles it to PDF/A-2b with only its own
embedded fonts, so the same input gives the same bytes on any machine.

Text from customers (names, addresses, invoice numbers, a payment link) never becomes Typst
markup or code: every value a template prints goes through `finalize`, which writes it as a Typst
string literal (`#"...";`, with `\\` and `"` escaped), and Typst shows a string as text whatever
it holds (`#`, `$`, `\\`, `<`, `{`, `]` ...). Only `Markup` values built here pass through as
written.

The PDF's creation date is the communication's date (`as_of`), its SHA-256 goes in the audit log.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import jinja2
import typst
from markupsafe import Markup

import o2c.templates
from o2c.models.dunning import Channel, Communication, CustomerKind, DunnedItem
from o2c.tasks.common.language import format_date, format_money, language_for
from o2c.tasks.dunning.settings import SenderSettings
from o2c.warehouse import first_row

TEMPLATES_DIR = Path(o2c.templates.__file__).parent
TEMPLATE = "formal_notice"
PDF_STANDARD = "a-2b"  # PDF/A-2b: fonts embedded, an archive format a court file keeps
DEFAULT_NOTICE_DAYS = 8  # models.dunning_policy.DunningPolicy.formal_notice_days' default
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")


class LetterError(ValueError):
    """A communication that cannot become a formal notice: says which and why."""


@dataclass(frozen=True)
class Debtor:
    """Whom the notice is addressed to, as the customer master holds it (sql/001 customers).

    Here rather than on Communication because only the letter needs a postal address and SIREN."""

    name: str
    address_lines: tuple[str, ...] = ()
    siren: str | None = None


@dataclass(frozen=True)
class RenderedLetter:
    """What the audit log and the ERE letters' table keep of a rendered notice."""

    key: str
    language: str
    subject: str
    filename: str
    template_sha256: str
    content_sha256: str  # of the PDF bytes
    total_claimed_cents: int


def typst_string(value: object) -> str:
    """A Typst string literal holding `value` as text: quotes and backslashes escaped, control
    characters written as Unicode escapes, so nothing in it can end the string."""
    text = str(value)
    text = "".join(_ESCAPES.get(ch, ch) for ch in text)
    text = _CONTROL.sub(lambda m: f"\\u{{{ord(m.group()):x}}}", text)
    return f'"{text}"'


def _finalize(value: object) -> object:
    """Every `{{ value }}` in markup: Markup built here as written, anything else as a string."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return Markup("#" + typst_string(value) + ";")  # `;` ends it: a `(` or `[` after is text


def _code(value: object) -> Markup:
    """A value inside Typst code (`title: {{ x | code }}`): a bare string literal."""
    return Markup(typst_string(value))


def environment(own: Path | None = None) -> jinja2.Environment:
    folders = [own, TEMPLATES_DIR] if own is not None else [TEMPLATES_DIR]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=False,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        # Typst uses { } and [ ] itself; Jinja's block syntax stays as usual, on its own lines.
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["code"] = _code
    return env


def template_name(lang: str) -> str:
    return f"ere/{lang}/{TEMPLATE}.typ.j2"


def place_of(address: str) -> str:
    """The town a letter is dated from: the part of the sender's address after a postal code
    ('12 rue X, 69002 Lyon, France' -> 'Lyon'); the whole last part otherwise."""
    for part in (p.strip() for p in address.split(",")):
        match = re.match(r"^\d{4,5}\s+(.+)$", part)
        if match:
            return match.group(1)
    return address.split(",")[-1].strip()


def total_claimed_cents(c: Communication) -> int:
    """What the notice demands: the overdue items net of credits, plus the penalties and
    indemnities the plan computed (zero for a consumer)."""
    return c.due_cents + c.penalties_cents + c.indemnities_cents


def _context(
    c: Communication, lang: str, sender: SenderSettings, debtor: Debtor, notice_days: int
) -> dict[str, object]:
    def money(cents: int) -> str:
        return format_money(cents, c.currency, lang, symbol=True)  # type: ignore[arg-type]

    def day(value: date | None) -> str:
        return format_date(value, lang)  # type: ignore[arg-type]

    def kind(item: DunnedItem) -> str:
        words = {
            "fr": {"credit_note": "Avoir", "unapplied_credit": "Paiement non affecté"},
            "en": {"credit_note": "Credit note", "unapplied_credit": "Unapplied payment"},
        }
        return words[lang].get(item.document_type, item.document_type)

    business = c.customer_kind == CustomerKind.BUSINESS
    return {
        "c": c,
        "sender": sender,
        "debtor": debtor,
        "debtor_siren": _siren_display(debtor.siren),
        "business": business,
        "place": place_of(sender.address),
        "date_long": format_date(c.as_of, lang, long=True),  # type: ignore[arg-type]
        "notice_days": notice_days,
        "money": money,
        "day": day,
        "kind": kind,
        "total_claimed": total_claimed_cents(c),
        # the PDF's creation date: the communication's, so the same input gives the same bytes
        "pdf_date": Markup(
            f"datetime(year: {c.as_of.year}, month: {c.as_of.month}, day: {c.as_of.day})"
        ),
    }


def _siren_display(siren: str | None) -> str | None:
    digits = re.sub(r"\s", "", siren or "")
    if len(digits) == 9 and digits.isdigit():
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return siren or None


def template_sha256(lang: str, own: Path | None = None) -> str:
    """SHA-256 of the template source a letter in `lang` is rendered from."""
    env = environment(own)
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, template_name(lang))
    return hashlib.sha256(f"{template_name(lang)}\0{source}".encode()).hexdigest()


def typst_source(
    communication: Communication,
    settings: SenderSettings | None = None,
    debtor: Debtor | None = None,
    *,
    notice_days: int = DEFAULT_NOTICE_DAYS,
    company_language: str | None = None,
) -> tuple[str, str]:
    """(language, Typst source) of the notice: what `render_letter` compiles."""
    sender = settings or SenderSettings()
    c = communication
    if c.channel != Channel.ERE_LETTER:
        raise LetterError(
            f"communication {c.key} ({c.customer_id}, level {c.level}): channel "
            f"{c.channel.value}, a formal notice is sent as an ere_letter"
        )
    if not c.items:
        raise LetterError(f"communication {c.key} ({c.customer_id}): no overdue item to claim")
    lang = language_for(c.language, company_language)  # type: ignore[arg-type]
    env = environment(sender.templates_dir)
    try:
        template = env.get_template(template_name(lang))
    except jinja2.TemplateNotFound as err:
        raise LetterError(
            f"no formal notice template in {lang!r}: expected {TEMPLATES_DIR / template_name(lang)}"
        ) from err
    who = debtor or Debtor(name=c.customer_name)
    return lang, template.render(_context(c, lang, sender, who, notice_days))


def render_letter(
    communication: Communication,
    settings: SenderSettings | None = None,
    debtor: Debtor | None = None,
    *,
    notice_days: int = DEFAULT_NOTICE_DAYS,
    company_language: str | None = None,
) -> tuple[bytes, str, RenderedLetter]:
    """The notice as PDF/A bytes, their SHA-256, and what the audit log keeps of it.

    `notice_days` is the policy's deadline to pay (DunningPolicy.formal_notice_days); `debtor`
    the customer's postal address and SIREN (`debtor_from_warehouse`), else its name alone."""
    sender = settings or SenderSettings()
    lang, source = typst_source(
        communication,
        sender,
        debtor,
        notice_days=notice_days,
        company_language=company_language,
    )
    stamp = datetime(
        communication.as_of.year, communication.as_of.month, communication.as_of.day, tzinfo=UTC
    )
    try:
        pdf = typst.compile(
            source.encode(),
            pdf_standards=PDF_STANDARD,
            ignore_system_fonts=True,  # the wheel's own fonts: the same bytes on every machine
            timestamp=int(stamp.timestamp()),
        )
    except RuntimeError as err:  # a company's own template that does not compile
        raise LetterError(
            f"communication {communication.key}: the formal notice template "
            f"{template_name(lang)} does not compile: {err}"
        ) from err
    assert isinstance(pdf, bytes)
    digest = hashlib.sha256(pdf).hexdigest()
    subject = "Mise en demeure de payer" if lang == "fr" else "Formal notice to pay"
    meta = RenderedLetter(
        key=communication.key,
        language=lang,
        subject=subject,
        filename=f"{communication.key}.pdf",
        template_sha256=template_sha256(lang, sender.templates_dir),
        content_sha256=digest,
        total_claimed_cents=total_claimed_cents(communication),
    )
    return pdf, digest, meta


def letter_png(
    communication: Communication,
    settings: SenderSettings | None = None,
    debtor: Debtor | None = None,
    *,
    notice_days: int = DEFAULT_NOTICE_DAYS,
    ppi: int = 110,
) -> bytes:
    """The notice's first page as a PNG: what finance looks at before approving, or the docs."""
    _, source = typst_source(communication, settings, debtor, notice_days=notice_days)
    pages = typst.compile(source.encode(), format="png", ppi=ppi, ignore_system_fonts=True)
    first = pages[0] if isinstance(pages, list) else pages
    assert isinstance(first, bytes)
    return first


def debtor_from_warehouse(con: duckdb.DuckDBPyConnection, customer_id: str) -> Debtor:
    """The debtor as the customer master holds it: name, postal address, SIREN."""
    row = first_row(
        con,
        """SELECT name, address_line1, address_line2, postal_code, city, country, siren
           FROM customers WHERE customer_id = ?""",
        [customer_id],
    )
    if row is None:
        raise LetterError(f"customer {customer_id!r} is not in the customers table")
    name, line1, line2, postal_code, city, country, siren = row
    town = " ".join(p for p in (postal_code, city) if p)
    lines = tuple(p for p in (line1, line2, town, country) if p)
    return Debtor(name=name or customer_id, address_lines=lines, siren=siren)
