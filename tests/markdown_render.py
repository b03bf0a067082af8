"""Markdown as a reader's browser gets it: rendered by a CommonMark parser, checked to be inert."""

from __future__ import annotations

from lxml import html as lxml_html
from markdown_it import MarkdownIt

ALLOWED_TAGS = {"html", "body", "div", "p", "table", "thead", "tbody", "tr", "th", "td", "code"}


def render(markdown: str) -> lxml_html.HtmlElement:
    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return lxml_html.fromstring(f"<div>{parser.render(markdown)}</div>")


def assert_inert(tree: lxml_html.HtmlElement, *ours: str) -> None:
    """Only the structure we wrote (`ours`: our headings) and tables; no link, image, script."""
    tags = {el.tag for el in tree.iter() if isinstance(el.tag, str)}
    assert tags <= ALLOWED_TAGS | set(ours), tags - ALLOWED_TAGS
    assert not tree.xpath("//@href | //@src | //@onerror")
