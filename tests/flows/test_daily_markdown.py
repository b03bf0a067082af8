"""The day's artifact as plain text in, markdown out: steps, counts, links, French first."""

from datetime import date

from prefect.settings import PREFECT_UI_URL, temporary_settings

from o2c.flows.daily import Step, daily_markdown
from tests.markdown_render import render

RUN = "0c2fa764-a2d3-4e4f-bb56-34d2ed55254b"
HOSTILE = "[x](http://evil) <img src=x onerror=alert(1)> |.xml"


def test_each_step_with_its_counts_and_file_names_stay_text():
    steps = [
        Step("bank statement", HOSTILE, "13 opérations, 13 chargées, 0 déjà connues"),
        Step("reconcile", None, "245 rapprochées, 4 à décider"),
    ]
    text = daily_markdown(steps, [HOSTILE], date(2026, 12, 4), "fr")
    tree = render(text)
    assert tree.findtext(".//h1") == "Journée o2c du 04/12/2026"
    assert not tree.xpath("//img | //a | //@onerror")  # no run link without a UI, no markup
    cells = [[td.text_content() for td in tr.xpath("td")] for tr in tree.xpath("//tbody/tr")]
    assert cells == [
        ["Relevé bancaire", "bank-ingestion", f"{HOSTILE}: 13 opérations, 13 chargées, 0 déjà connues"],
        ["Rapprochement", "reconciliation, reconciliation-exceptions", "245 rapprochées, 4 à décider"],
    ]  # fmt: skip
    assert "**1 relevé(s) refusé(s)**\u00a0: voir `rejected/`" in text


def test_a_step_links_to_its_run_page_where_its_artifacts_are():
    with temporary_settings({PREFECT_UI_URL: "http://127.0.0.1:4200"}):  # a served UI
        text = daily_markdown(
            [Step("aging", None, "76 open items", RUN)], [], date(2026, 12, 4), "en"
        )
    assert text.startswith("# o2c daily run of 2026-12-04\n")
    (link,) = render(text).xpath("//td/a")
    assert link.text_content() == "open"
    assert link.get("href") == f"http://127.0.0.1:4200/runs/flow-run/{RUN}?tab=Artifacts"
    assert link.get("title") == "aging-summary, aging-by-customer, aging-chart"
