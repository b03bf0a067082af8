"""Outside text in Markdown is shown, never run: checked by rendering with a CommonMark parser.

markdown-it-py (a dependency of rich) renders with raw HTML allowed and GFM tables on, like the
Prefect UI: the HTML it gives must hold no tag, link or image that the data brought, and every
table must keep its column count.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.tasks.common.escaping import csv_cell, csv_safe, md_cell, md_code, md_label, md_text
from tests.markdown_render import assert_inert, render

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "![t](http://evil/beacon.png)",
    "<http://evil/auto>",
    "www.evil.example and https://evil.example/x",
    "ACME\r\n| 999 | 0 |\nSA",
    "INV|42|",
    "a `b` ``c``",
    "NUL\x00byte",
    "&lt;b&gt; &#60;i&#62;",
    "# heading",
    "- item",
    "1. item",
    "> quote",
    "**bold** _em_ ~~gone~~",
    "trailing backslash \\",
    "bidi \u202eevil\u202c name",
]


def table(*rows: tuple[str, ...]) -> str:
    lines = ["| name | id | amount |", "|---|---|---:|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_in_prose_is_shown_as_written(text):
    tree = render(f"Customer {md_text(text)} is late.\n")
    assert_inert(tree)
    expected = " ".join(
        text.replace("\x00", "").replace("\u202e", "").replace("\u202c", "").split()
    )
    assert " ".join(tree.text_content().split()) == f"Customer {expected} is late."


@pytest.mark.parametrize("text", HOSTILE)
def test_md_cell_keeps_the_table_columns(text):
    tree = render(table((md_cell(text), md_cell(text), "12\u202f345,67\u00a0EUR")))
    assert_inert(tree)
    rows = tree.xpath("//tbody/tr")
    assert len(rows) == 1
    cells = rows[0].xpath("td")
    assert len(cells) == 3
    assert cells[2].text_content() == "12\u202f345,67\u00a0EUR"  # the amount under its header


def test_a_line_break_in_a_name_does_not_add_a_row():
    tree = render(table((md_cell("ACME\r\n| 999 | 0 |"), md_cell("FA-1"), "10,00")))
    assert len(tree.xpath("//tbody/tr")) == 1
    assert tree.xpath("//tbody/tr/td")[0].text_content() == "ACME | 999 | 0 |"


def test_a_pipe_in_an_id_stays_in_its_cell():
    tree = render(table((md_cell("ACME"), md_cell("STMT|2026|01"), "10,00")))
    assert [td.text_content() for td in tree.xpath("//tbody/tr/td")] == [
        "ACME",
        "STMT|2026|01",
        "10,00",
    ]


@pytest.mark.parametrize(
    "name", ["export`.csv", "``x``.csv", "`start.csv", "end.csv`", "a<b>.csv", "  ", "x|y.csv"]
)
def test_md_code_holds_any_backticks(name):
    tree = render(f"# Invoice load: {md_code(name)}\n")
    assert_inert(tree, "h1")
    codes = tree.xpath("//code")
    assert len(codes) == 1
    assert codes[0].text_content().strip() == name.strip() or name.strip() == ""


def test_md_code_in_a_table_cell_keeps_a_pipe_inside():
    tree = render(table((md_code("a|b.csv", cell=True), md_cell("x"), "1")))
    cells = tree.xpath("//tbody/tr/td")
    assert len(cells) == 3
    assert cells[0].xpath("code")[0].text_content() == "a|b.csv"


def test_md_label_keeps_our_words_and_the_table():
    assert md_label("due_date before issue_date") == "due_date before issue_date"
    tree = render(table((md_label("a | b\nc"), "x", "1")))
    assert [td.text_content() for td in tree.xpath("//tbody/tr/td")] == ["a | b c", "x", "1"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_in_a_cell_is_inert_and_keeps_the_columns(text):
    tree = render(table((md_cell(text), md_cell(text), "1")))
    assert_inert(tree)
    rows = tree.xpath("//tbody/tr")
    assert len(rows) == 1 and len(rows[0].xpath("td")) == 3


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("ACME", "ACME"),
        ("", ""),
        (12, 12),
        (None, None),
    ],
)
def test_csv_cell(value, safe):
    assert csv_cell(value) == safe


def test_csv_safe_only_touches_text_columns():
    frame = pl.DataFrame(
        {"name": ["=cmd|' /C calc'!A0", "ACME", None], "amount": [-1.5, 2.0, 3.0]}
    ).with_columns(kind=pl.Series(["-x", "y", "@z"]).cast(pl.Categorical))
    safe = csv_safe(frame)
    assert safe["name"].to_list() == ["'=cmd|' /C calc'!A0", "ACME", None]
    assert safe["kind"].to_list() == ["'-x", "y", "'@z"]
    assert safe["amount"].to_list() == [-1.5, 2.0, 3.0]
