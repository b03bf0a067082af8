"""The aging chart as the Prefect UI shows it: an image inside the markdown artifact (issue 16).

The UI refuses file:/// links and strips inline SVG, but draws a markdown image whose source is
a data: URI (seen in Chromium on both Prefect 3.8 UIs): the chart travels inside the artifact.
"""

import base64
import re
from datetime import date

import polars as pl
from lxml import etree
from lxml import html as lxml_html
from markdown_it import MarkdownIt

from o2c.tasks.aging.report import chart_markdown

DAYS = (date(2026, 11, 30), date(2026, 12, 4))
# Open cents per snapshot date and bucket, EUR and CHF, with a credit below zero.
HISTORY = pl.DataFrame(
    {
        "as_of_date": [DAYS[0], DAYS[0], DAYS[1], DAYS[1], DAYS[1], DAYS[1]],
        "currency": ["EUR", "EUR", "EUR", "EUR", "EUR", "CHF"],
        "bucket": ["not_due", "1_30", "not_due", "1_30", "unapplied_credit", "over_120"],
        "amount_open_cents": [100_000, 25_050, 80_000, 50_049, -12_000, 711_953],
        "items": [3, 1, 2, 2, 1, 4],
    }
)


def images(markdown: str) -> dict[str, bytes]:
    """alt text -> the decoded SVG of every image of the rendered markdown.

    markdown-it refuses data:image/svg+xml links by default (the Prefect UI's renderer does
    not): the check is lifted here so that the image is parsed as the UI parses it.
    """
    parser = MarkdownIt("commonmark").enable("table")
    parser.validateLink = lambda url: True
    out = {}
    for img in lxml_html.fromstring(f"<div>{parser.render(markdown)}</div>").xpath("//img"):
        src = img.get("src")
        assert src.startswith("data:image/svg+xml;base64,"), src[:40]
        out[img.get("alt")] = base64.b64decode(src.split(",", 1)[1])
    return out


def test_each_currency_has_its_chart_inside_the_artifact_not_on_disk():
    text = chart_markdown(HISTORY, as_of=DAYS[1], lang="fr")
    assert "file:" not in text and "<svg" not in text  # inline SVG is stripped by the UI
    charts = images(text)
    assert set(charts) == {"Encours en CHF par tranche", "Encours en EUR par tranche"}
    eur = etree.fromstring(charts["Encours en EUR par tranche"])
    assert eur.tag == "{http://www.w3.org/2000/svg}svg"
    words = [t.text for t in eur.iter("{http://www.w3.org/2000/svg}text")]
    # the legend is drawn inside the image (an image has no HTML legend beside it)
    assert {"non échu", "1-30 jours", "crédits non affectés"} <= set(words)
    assert {"30/11/2026", "04/12/2026"} <= set(words)  # French dates under the bars
    bars = [r for r in eur.iter("{http://www.w3.org/2000/svg}rect") if r.find("*") is not None]
    assert len(bars) == 5  # one rectangle per non-zero (date, bucket) of EUR


def test_the_figures_behind_the_chart_are_listed_latest_first_to_the_unit():
    text = chart_markdown(HISTORY, as_of=DAYS[1], lang="fr")
    eur = text.split("## EUR")[1]
    rows = [line for line in eur.splitlines() if re.match(r"\| \d\d/", line)]
    assert rows == [
        "| 04/12/2026 | -120 | 800 | 500 |",  # 500,49 to the unit
        "| 30/11/2026 | 0 | 1\u202f000 | 251 |",  # 250,50 rounds half up
    ]
    assert "| Date | Crédits | Non échu | 1-30 |" in eur


def test_no_snapshot_says_so():
    empty = HISTORY.clear()
    assert "Aucun instantané pour l'instant." in chart_markdown(empty, as_of=DAYS[1])


def test_an_english_company_reads_it_in_english():
    text = chart_markdown(HISTORY, as_of=DAYS[1], lang="en")
    assert text.startswith("# Open amounts per bucket over time, as of 2026-12-04\n")
    charts = images(text)
    eur = etree.fromstring(charts["Open amounts in EUR per bucket"])
    words = {t.text for t in eur.iter("{http://www.w3.org/2000/svg}text")}
    assert {"not yet due", "1-30 days", "unapplied credits", "2026-12-04"} <= words
    assert "| Date | Credits | Not due | 1-30 |" in text
