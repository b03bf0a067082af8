"""Text from customers, banks and files, made inert before it is shown to a person.

A customer name or a statement id is data: in a Markdown artifact it must not become a link,
an image, HTML or a new table column; in a CSV opened by Excel it must not become a formula.
Every report, artifact, export, email and letter that shows outside text goes through here.
"""

from __future__ import annotations

import re
import string

import polars as pl

# CommonMark lets any ASCII punctuation be escaped with a backslash, and then it is only
# itself: no emphasis, link, image, HTML tag, entity, table pipe or heading.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u0085\u2028\u2029]+")
# C0 controls and DEL, and the bidirectional overrides and isolates that would make a name
# display in another order than it is stored ("Trojan source"): none belongs in a report line.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# OWASP CSV injection: a text cell starting with one of these is read by a spreadsheet as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _one_line(text: object) -> str:
    """Outside text on one line: breaks become spaces, other control characters go."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", "" if text is None else str(text)))


def md_text(text: object) -> str:
    """Outside text placed in Markdown prose or a table cell: shown exactly, never interpreted."""
    return _PUNCTUATION.sub(r"\\\1", _one_line(text))


md_cell = md_text  # a table cell needs the same: `|` is punctuation, breaks are gone


def md_label(text: object) -> str:
    """Text o2c or a data engineer wrote (a rule, a reason from a suite) for a table cell.

    Kept readable as written (a label may use Markdown on purpose); only what would break the
    table is escaped: a `|` and line breaks. Text that comes from data goes through `md_cell`.
    """
    return _one_line(text).replace("|", "\\|")


def md_code(text: object, *, cell: bool = False) -> str:
    """Outside text as an inline code span (a file name, an id), whatever backticks it holds.

    In a table cell (`cell=True`) a `|` would still end the cell, code span or not (GFM): it is
    written `\\|`, which the table reads back as `|` inside the span.
    """
    line = _one_line(text)
    if cell:
        line = line.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if line.startswith("`") or line.endswith("`") or not line.strip() else ""
    return f"{fence}{pad}{line}{pad}{fence}"


def csv_cell(value: object) -> object:
    """A value for a CSV cell: text that a spreadsheet would run as a formula starts with `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """`csv_cell` over every text column (numbers, dates and decimals stay as they are).

    Categorical and enum columns (a DuckDB ENUM arrives as one) are text in the file too, so
    they are made safe as well, as plain text.
    """
    starts = "^[" + re.escape("".join(FORMULA_STARTS)) + "]"
    texts = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)
    ]
    return frame.with_columns(
        pl.when(text.str.contains(starts)).then(pl.lit("'") + text).otherwise(text).alias(name)
        for name in texts
        for text in [pl.col(name).cast(pl.String)]
    )
