import re
from datetime import date, timedelta

import polars as pl
import pytest
from lxml import etree
from lxml import html as lxml_html

from o2c.models.schemas import OPEN_ITEM
from o2c.tasks.aging.analysis import DSO_ROW, age_open_items, aging_by_customer
from o2c.tasks.aging.report import (
    customer_table,
    format_money,
    render_html_report,
    summary_markdown,
)

AS_OF = date(2026, 3, 31)


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (1_234_567, "12\u202f345,67\u00a0EUR"),
        (5, "0,05\u00a0EUR"),
        (99_999, "999,99\u00a0EUR"),
        (100_000, "1\u202f000,00\u00a0EUR"),
        (-123_456_789, "-1\u202f234\u202f567,89\u00a0EUR"),
        (0, "0,00\u00a0EUR"),
    ],
)
def test_money_is_written_the_french_way(cents, text):
    assert format_money(cents, "EUR") == text


def test_money_without_decimals_rounds_half_up():
    assert format_money(1_234_550, "EUR", decimals=False) == "12\u202f346\u00a0EUR"
    assert format_money(1_234_549, "EUR", decimals=False) == "12\u202f345\u00a0EUR"


def open_item(invoice_id, customer, days_late, cents, currency="EUR"):
    due = AS_OF - timedelta(days=days_late)
    doc = "credit_note" if cents < 0 else "invoice"
    return (
        invoice_id,
        doc,
        customer,
        "FR01",
        due - timedelta(days=30),
        due,
        currency,
        cents,
        cents,
        None,
    )


@pytest.fixture
def by_customer():
    items = [
        open_item("A1", "ACME", 10, 1_000_000),  # 10 000,00 in 1-30
        open_item("A2", "ACME", 130, 250_050),  # 2 500,50 over 120
        open_item("A3", "ACME", -5, 300_000),  # 3 000,00 not yet due
        open_item("B1", "BETA", 45, 50_000),  # 500,00 in 31-60
        open_item(
            "B2",
            "BETA",
            20,
            -20_000,
        ),  # credit note -200,00 in 1-30
        open_item("U1", "ACME", 70, 700_000, "USD"),  # 7 000,00 USD in 61-90
    ]
    # twelve small late payers so the top 10 has to cut
    items += [open_item(f"S{n}", f"SMALL{n:02d}", 5, 100 + n) for n in range(12)]
    aged = age_open_items(pl.DataFrame(items, schema=OPEN_ITEM, orient="row"), as_of=AS_OF)
    behaviour = pl.DataFrame(
        {"customer_id": ["ACME"], "currency": ["EUR"], "paid_invoices": [4]}
    ).with_columns(avg_days_late=pl.lit(21.7), grade=pl.lit("C"))
    names = pl.DataFrame({"customer_id": ["ACME", "BETA"], "name": ["Acme | Fils", "<b>Béta</b>"]})
    return aging_by_customer(aged, behaviour=behaviour, names=names)


def dso_frame(as_of, standard, countback):
    return pl.DataFrame(
        [(as_of, "EUR", "FR01", 1_348_062, 5_000_000, 90, standard, countback)],
        schema=DSO_ROW,
        orient="row",
    )


def md_table(md, first_header):
    """The Markdown table whose header starts with `first_header`, as dicts of stripped cells."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    header = [c.strip() for c in lines[start].strip("|").split(" | ")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(
            dict(zip(header, [c.strip() for c in line.strip("|").split(" | ")], strict=True))
        )
    return rows


def test_summary_totals_per_bucket_and_currency(by_customer):
    md = summary_markdown(by_customer, dso_frame(AS_OF, 24.3, 30.0), as_of=AS_OF)
    assert not any(line.startswith((" ", "\t")) for line in md.splitlines())
    assert md.startswith("# Balance âgée au 31/03/2026")
    owed = {r["Devise"]: r for r in md_table(md, "Devise")}
    eur = owed["EUR"]
    # overdue, gross: 10 000,00 + 2 500,50 (ACME) + 500,00 (BETA) + 1,00..1,11 (12,66)
    assert eur["Échu"] == "13\u202f013,16"
    # net of credits: BETA 500,00 - 200,00 = 300,00, so 200,00 less
    assert eur["Échu net"] == "12\u202f813,16"
    assert eur["Total dû"] == "16\u202f013,16"  # + 3 000,00 not yet due
    assert eur["Crédits"] == "-200,00"
    assert eur["Solde net"] == "15\u202f813,16"
    assert eur["Clients"] == "14"
    assert owed["USD"]["Échu"] == "7\u202f000,00"
    buckets = {
        r["Devise"]: r
        for r in md_table(md.split("## Créances par tranche d'échéance")[1], "Devise")
    }
    # the credit note is in no bucket: 1-30 is 10 000,00 + 12,66, never less
    assert buckets["EUR"]["1-30 jours"] == "10\u202f012,66"
    assert buckets["EUR"]["non échu"] == "3\u202f000,00"
    assert buckets["EUR"]["plus de 120 jours"] == "2\u202f500,50"
    assert buckets["USD"]["61-90 jours"] == "7\u202f000,00"


def test_summary_dso_and_its_trend(by_customer):
    history = pl.concat(
        [dso_frame(AS_OF - timedelta(days=1), 26.0, 31.0), dso_frame(AS_OF, 24.3, 30.0)]
    )
    md = summary_markdown(
        by_customer, dso_frame(AS_OF, 24.3, 30.0), as_of=AS_OF, dso_history=history
    )
    row = next(line for line in md.splitlines() if line.startswith("| EUR | FR01 |"))
    assert "| 24,3 | 30,0 |" in row
    # 24,3 - 26,0 = -1,7 days: better
    assert "−1,7 j (mieux)" in row
    assert "### Évolution sur les 2 derniers instantanés" in md


def test_summary_top_late_payers(by_customer):
    md = summary_markdown(by_customer, dso_frame(AS_OF, 24.3, 30.0), as_of=AS_OF, top=10)
    section = md.split("## Les 10 plus gros retards, par devise")[1]
    eur = md_table(section.split("### EUR")[1], "#")
    usd = md_table(section.split("### USD")[1], "#")
    # EUR: ACME (12 500,50 overdue), BETA (300,00 net), then 8 of the 12 small ones; USD: ACME,
    # ranked 1 in its own currency
    assert [r["#"] for r in eur] == [str(n) for n in range(1, 11)]
    assert eur[0] == {
        "#": "1",
        "Client": "Acme \\| Fils",
        "Échu": "12\u202f500,50",
        "Échu net": "12\u202f500,50",
        "Retard max (j)": "130",
        "Retard moyen (j)": "21,7",
        "Cote": "C",
        "Compte": "ACME",
    }
    assert (eur[1]["Compte"], eur[1]["Échu"], eur[1]["Échu net"]) == (
        "BETA",
        "500,00",
        "300,00",
    )
    assert [(r["#"], r["Compte"], r["Échu"]) for r in usd] == [("1", "ACME", "7\u202f000,00")]


def test_customer_table_rows(by_customer):
    rows = customer_table(by_customer)
    acme = next(r for r in rows if r["Compte"] == "ACME" and r["Dev."] == "EUR")
    # what finance reads first comes first; one legal entity, so no Entity column
    assert list(acme)[:8] == [
        "Client", "Dev.", "Échu", "Échu net", "Retard (j)", "Total", "Cote",
        "Crédits",
    ]  # fmt: skip
    assert list(acme)[-1] == "Compte"
    assert acme["Client"] == "Acme | Fils"
    assert acme["1-30"] == "10\u202f000"
    assert acme["> 120"] == "2\u202f501"  # buckets to the unit: 2 500,50 rounds half up
    assert acme["Total"] == "15\u202f500,50"
    assert (acme["Retard (j)"], acme["Cote"]) == (130, "C")
    beta = next(r for r in rows if r["Compte"] == "BETA")
    assert beta["1-30"] == "0" and beta["Crédits"] == "-200,00"
    assert (beta["Échu"], beta["Échu net"]) == ("500,00", "300,00")
    assert beta["Cote"] == "–"
    assert [r["Dev."] for r in rows] == ["EUR"] * 14 + ["USD"]


def history_frame():
    d1, d2 = date(2026, 3, 24), date(2026, 3, 31)
    return pl.DataFrame(
        {
            "as_of_date": [d1, d1, d2, d2, d2],
            "currency": ["EUR"] * 5,
            "bucket": ["not_due", "1_30", "not_due", "1_30", "over_120"],
            "amount_open_cents": [300_000, 100_000, 200_000, 200_000, -100_000],
            "items": [1, 1, 1, 1, 1],
        }
    )


def test_html_report_is_self_contained_and_escapes_names(by_customer):
    page = render_html_report(
        by_customer, dso_frame(AS_OF, 24.3, 30.0), history_frame(), as_of=AS_OF
    )
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    assert "&lt;b&gt;Béta&lt;/b&gt;" in page
    tree = lxml_html.fromstring(page)
    assert tree.findtext(".//h1") == "Balance âgée"
    assert "12\u202f813,16" in tree.text_content()  # EUR overdue net of credits


def test_html_chart_bars_are_proportional_and_credits_below_zero(by_customer):
    page = render_html_report(
        by_customer, dso_frame(AS_OF, 24.3, 30.0), history_frame(), as_of=AS_OF
    )
    svg_text = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    svg = etree.fromstring(svg_text.encode())
    ns = {"s": "http://www.w3.org/2000/svg"}
    rects = {
        r.findtext("s:title", namespaces=ns): (float(r.get("y")), float(r.get("height")))
        for r in svg.findall(".//s:rect", ns)
    }
    assert len(rects) == 5  # one per non-empty bucket and date
    h = {k.split(" · ")[0] + " " + k.split(" · ")[1].split(":")[0]: v for k, v in rects.items()}
    h = {f"{k[6:10]}-{k[3:5]}-{k[0:2]}{k[10:]}": v for k, v in h.items()}  # dd/mm/yyyy
    # 3 000 not due vs 1 000 in 1-30 on the first date: three times as tall
    assert h["2026-03-24 non échu"][1] == pytest.approx(3 * h["2026-03-24 1-30 jours"][1], rel=0.01)
    # the credit (-1 000,00) hangs from the zero line, where the positive bars stand
    zero = h["2026-03-31 non échu"][0] + h["2026-03-31 non échu"][1]
    assert h["2026-03-31 plus de 120 jours"][0] == pytest.approx(zero, abs=0.2)
    assert h["2026-03-31 plus de 120 jours"][1] == pytest.approx(
        h["2026-03-24 1-30 jours"][1], rel=0.01
    )
    assert "31/03/2026 · plus de 120 jours: -1\u202f000,00\u00a0EUR" in rects


HOSTILE_NAME = "<img src=x onerror=alert(1)>\r\n| 1 | x | ![t](http://evil/beacon.png)"
HOSTILE_ENTITY = "[x](javascript:alert(1))"


@pytest.fixture
def hostile_customers():
    items = [
        open_item("H1", "C|1`", 40, 123_456),
        open_item("H2", "<script>alert(1)</script>", 10, 500),
    ]
    aged = age_open_items(
        pl.DataFrame(items, schema=OPEN_ITEM, orient="row").with_columns(
            legal_entity=pl.lit(HOSTILE_ENTITY)
        ),
        as_of=AS_OF,
    )
    names = pl.DataFrame(
        {"customer_id": ["C|1`", "<script>alert(1)</script>"], "name": [HOSTILE_NAME, "x\x00y"]}
    )
    return aging_by_customer(aged, names=names)


def test_hostile_names_in_the_summary_are_inert(hostile_customers):
    from tests.markdown_render import assert_inert, render

    dso = dso_frame(AS_OF, 24.3, 30.0).with_columns(legal_entity=pl.lit(HOSTILE_ENTITY))
    md = summary_markdown(hostile_customers, dso, as_of=AS_OF, dso_history=dso)
    tree = render(md)
    assert_inert(tree, "h1", "h2", "h3")
    for table in tree.xpath("//table"):
        width = len(table.xpath("thead/tr/th"))
        assert all(len(tr.xpath("td")) == width for tr in table.xpath("tbody/tr"))
    late = tree.xpath("//table")[-1].xpath("tbody/tr")
    assert len(late) == 2  # a line break in a name adds no row
    first = [td.text_content() for td in late[0].xpath("td")]
    assert (first[1], first[-1]) == (" ".join(HOSTILE_NAME.split()), "C|1`")
    assert first[2] == "1\u202f234,56"  # the amount stays under "Overdue"
    second = [td.text_content() for td in late[1].xpath("td")]
    assert (second[1], second[-1]) == ("xy", "<script>alert(1)</script>")
    tables = tree.xpath("//table")
    dso_table = next(t for t in tables if "DSO standard" in t.xpath("string(thead)"))
    dso_row = [td.text_content() for td in dso_table.xpath("tbody/tr/td")]
    assert dso_row[1] == HOSTILE_ENTITY


def test_hostile_names_in_the_html_report_are_text(hostile_customers):
    dso = dso_frame(AS_OF, 24.3, 30.0).with_columns(legal_entity=pl.lit(HOSTILE_ENTITY))
    page = render_html_report(hostile_customers, dso, history_frame(), as_of=AS_OF)
    tree = lxml_html.fromstring(page)
    assert not tree.xpath("//script | //img | //a | //iframe | //@onerror")
    assert not re.search(r"""(src|href)=["']?(https?|javascript):""", page)
    cells = [td.text_content() for td in tree.xpath("//td")]
    assert HOSTILE_NAME.replace("\r\n", "\n") in cells  # the parser reads CR LF as LF
    assert "<script>alert(1)</script>" in cells
    assert HOSTILE_ENTITY in cells
