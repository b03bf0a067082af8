"""What the artifact history shows for a bank load: which statement and which day (issue 16)."""

from datetime import date

from o2c.tasks.bank.report import description
from tests.markdown_render import assert_inert, render

DAY = date(2026, 12, 4)


def shown(text: str) -> str:
    """The description as the UI shows it (Prefect renders descriptions as Markdown)."""
    tree = render(text)
    assert_inert(tree)
    return tree.text_content().strip()


def test_five_loads_can_be_told_apart_by_file_and_day():
    names = [f"camt053_EUR_18777{i}.xml" for i in range(5)]
    texts = [shown(description(n, DAY, "fr")) for n in names]
    assert texts[0] == "Relevé camt053_EUR_187770.xml · 04/12/2026"
    assert len(set(texts)) == 5
    english = shown(description(names[0], DAY, "en"))
    assert english == "Bank statement camt053_EUR_187770.xml · 2026-12-04"


def test_a_rejected_file_says_so_and_a_hostile_name_stays_text():
    name = "[x](http://evil) <img src=x onerror=alert(1)> *b*.xml"
    assert shown(description(name, DAY, "fr", rejected=True)) == (
        f"Relevé refusé {name} · 04/12/2026"
    )
    assert shown(description(None, DAY)) == "Relevé flux Open Banking · 04/12/2026"
