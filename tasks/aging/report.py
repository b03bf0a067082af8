"""What finance reads about aging: the markdown summary, the customer table, the HTML report.

Plain text out of plain frames (those of aging.analysis and aging.store); the flow publishes them
as Prefect artifacts. Money and dates are written for the language (common.formatting: "12 345,67
EUR" and 04/12/2026 in French), and every figure stays in its own currency: one total line per
currency, never a sum across currencies. Tables put first what finance reads first (who, how much
overdue, how late) and stay narrow enough for the Prefect artifact pane (about 1000 px on a
1366 px screen); the full detail is in the workbook. Customer ids, names, entities and currencies
are data: escaped for Markdown (common.escaping) and for HTML.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from datetime import date

import polars as pl

from o2c.tasks.aging.analysis import (
    DEFAULT_BUCKETS,
    SMALL_BALANCE,
    UNAPPLIED_CREDIT,
    Buckets,
    as_buckets,
    bucket_order,
)
from o2c.tasks.aging.settings import DEFAULT_SETTINGS, AgingSettings
from o2c.tasks.common.escaping import md_cell
from o2c.tasks.common.formatting import Lang, format_count, format_date, format_days, format_money
from o2c.tasks.common.language import label

NOT_MEANINGFUL = "n/s"  # a DSO the period's revenue is too small to make meaningful (English)


def word(key: str, lang: Lang, /, **values: object) -> str:
    """`aging.<key>` from the label catalog (templates/labels/<lang>.toml, which a company may
    override through O2C_LABELS_DIR), placeholders filled."""
    return label(f"aging.{key}", lang, **values)


def col(key: str, lang: Lang, /, **values: object) -> str:
    """A column head of the summary's tables (`aging.col.<key>`)."""
    return label(f"aging.col.{key}", lang, **values)


def bucket_word(key: str, lang: Lang) -> str:
    """A bucket as the chart's legend names it: "1-30 jours", "plus de 120 jours"..."""
    if key in (UNAPPLIED_CREDIT, SMALL_BALANCE, "not_due"):
        return word(key, lang)
    if key.startswith("over_"):
        return word("over", lang, days=key.removeprefix("over_"))
    lo, _, hi = key.partition("_")
    return word("days", lang, lo=lo, hi=hi)


def _amount(cents: int, lang: Lang) -> str:
    """An amount in a table whose line (or section) names the currency: the figure alone, so
    that the table stays narrow enough for the artifact pane."""
    return format_money(cents, None, lang)


def _text(value: object) -> str:
    """Data (an id, a name, an entity, a currency) for a Markdown table cell: shown, not read."""
    return md_cell(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], right: set[int]) -> list[str]:
    """Header and cells are Markdown already: data went through `_text`, figures are ours."""
    aligns = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(aligns) + " |"]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return lines


def currency_totals(
    by_customer: pl.DataFrame, *, buckets: Buckets | Sequence[int] = DEFAULT_BUCKETS
) -> pl.DataFrame:
    """One line per currency (legal entities added, currencies never): cents per bucket, small
    balances, total, credits, balance, overdue gross and net; customers with anything open."""
    b = as_buckets(buckets)
    money = [b.column(k) for k in b.keys] + [
        "small_balance_cents",
        "total_cents",
        "credits_cents",
        "balance_cents",
        "overdue_cents",
        "overdue_net_cents",
    ]
    return (
        by_customer.group_by("currency")
        .agg(
            pl.col(money).sum(),
            pl.col("small_balance_items").sum(),
            pl.col("customer_id").n_unique().alias("customers"),
            pl.col("customer_id")
            .filter(pl.col("small_balance_items") > 0)
            .n_unique()
            .alias("small_balance_customers"),
        )
        .sort("currency")
    )


def late_payers(by_customer: pl.DataFrame, top: int) -> pl.DataFrame:
    """The `top` late payers of each currency, ranked within it (`rank` restarts at 1).

    A late payer owes debts past due net of its credits; small balances are no debt, so a
    customer owing only leftovers is not one. Most overdue net first, then gross, then oldest.
    """
    return (
        by_customer.filter(pl.col("overdue_net_cents") > 0)
        .sort(
            [
                "currency",
                "overdue_net_cents",
                "overdue_cents",
                "oldest_days_past_due",
                "customer_id",
            ],
            descending=[False, True, True, True, False],
        )
        .group_by("currency", maintain_order=True)
        .head(top)
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("currency"))
    )


def _col(frame: pl.DataFrame, row: dict, name: str) -> object:
    return row.get(name) if name in frame.columns else None


def _who(frame: pl.DataFrame, row: dict) -> object:
    """The customer as finance names it: its name, its account id when the name is unknown."""
    return _col(frame, row, "customer_name") or row["customer_id"]


def _dso_trend(history: pl.DataFrame | None, as_of: date) -> dict:
    """(currency, entity) -> standard DSO of the latest snapshot before `as_of`."""
    if history is None or history.is_empty():
        return {}
    before = (
        history.filter(pl.col("as_of_date") < as_of)
        .sort("as_of_date")
        .group_by("currency", "legal_entity", maintain_order=True)
        .last()
    )
    return {(r["currency"], r["legal_entity"]): r for r in before.iter_rows(named=True)}


def _change(now: float | None, before: float | None, lang: Lang) -> str:
    if now is None or before is None:
        return "–"
    delta = round(now - before, 1)
    if delta == 0:
        return word("unchanged", lang)
    figure = f"{'+' if delta > 0 else '−'}{format_days(abs(delta), lang)}"
    return word("worse" if delta > 0 else "better", lang, delta=figure)


def _dso_cell(row: dict, column: str, lang: Lang) -> str:
    if row.get("dso_meaningful", True) is False:
        return word("not_meaningful", lang)
    return format_days(row[column], lang)


def dso_notes(dso: pl.DataFrame, settings: AgingSettings = DEFAULT_SETTINGS) -> list[str]:
    """One sentence per currency and entity whose DSO is not meaningful, saying why."""
    lang = settings.lang
    notes = []
    if "dso_meaningful" not in dso.columns:
        return notes
    for r in dso.filter(~pl.col("dso_meaningful")).iter_rows(named=True):
        cur = r["currency"]
        floor = settings.dso_min_revenue_cents(cur)
        entity = f" ({md_cell(r['legal_entity'])})" if r["legal_entity"] else ""
        notes.append(
            word(
                "dso_not_meaningful",
                lang,
                ns=word("not_meaningful", lang),
                currency=md_cell(cur),
                entity=entity,
                revenue=format_money(r["revenue_cents"], cur, lang),
                days=r["period_days"],
                floor=format_money(floor, cur, lang),
            )
        )
    return notes


def bucket_rows(
    totals: pl.DataFrame, b: Buckets, lang: Lang
) -> tuple[list[str], list[list[object]]]:
    """Header and rows of the debts per due-date bucket, one line per currency."""
    header = [col("currency", lang), *(bucket_word(k, lang) for k in b.keys)]
    rows = [
        [r["currency"], *(_amount(r[b.column(k)], lang) for k in b.keys)]
        for r in totals.iter_rows(named=True)
    ]
    return header, rows


def owed_rows(totals: pl.DataFrame, lang: Lang) -> tuple[list[str], list[list[object]]]:
    """Header and rows of what is owed, one line per currency: the figures finance reads first."""
    keys = ("currency", "overdue", "overdue_net", "total_owed", "credits", "balance", "customers")
    header = [col(k, lang) for k in keys]
    rows = []
    for r in totals.iter_rows(named=True):
        cur = r["currency"]
        rows.append(
            [
                cur,
                _amount(r["overdue_cents"], lang),
                _amount(r["overdue_net_cents"], lang),
                _amount(r["total_cents"], lang),
                _amount(r["credits_cents"], lang),
                _amount(r["balance_cents"], lang),
                format_count(r["customers"], lang),
            ]
        )
    return header, rows


def small_balance_rows(
    totals: pl.DataFrame, settings: AgingSettings
) -> tuple[list[str], list[list[object]]]:
    """Header and rows of the small balances offered for write-off, one line per currency."""
    lang = settings.lang
    header = [col(k, lang) for k in ("currency", "items", "total", "customers", "threshold")]
    rows = [
        [
            r["currency"],
            format_count(r["small_balance_items"], lang),
            _amount(r["small_balance_cents"], lang),
            format_count(r["small_balance_customers"], lang),
            _amount(settings.small_balance_cents(r["currency"]), lang),
        ]
        for r in totals.filter(pl.col("small_balance_items") > 0).iter_rows(named=True)
    ]
    return header, rows


def _escaped(rows: list[list[object]], text_columns: set[int]) -> list[list[object]]:
    return [[_text(c) if i in text_columns else c for i, c in enumerate(r)] for r in rows]


def summary_markdown(
    by_customer: pl.DataFrame,
    dso: pl.DataFrame,
    *,
    as_of: date,
    dso_history: pl.DataFrame | None = None,
    buckets: Buckets | Sequence[int] = DEFAULT_BUCKETS,
    top: int | None = None,
    settings: AgingSettings = DEFAULT_SETTINGS,
) -> str:
    """The run's markdown artifact: what is owed and overdue per currency, debts per bucket,
    small balances, DSO and its trend, the top late payers of each currency.

    `by_customer` is aging_by_customer's frame (with behaviour and names when known), `dso` is
    dso_table's, `dso_history` read_dso_history's (today's rows may be in it or not).
    """
    b = as_buckets(buckets)
    lang = settings.lang
    top = top or settings.top_late_payers
    out = [f"# {word('title', lang, date=format_date(as_of, lang))}", ""]
    out += [word("currency_note", lang), ""]

    totals = currency_totals(by_customer, buckets=b)
    out += [f"## {word('owed_title', lang)}", ""]
    if totals.is_empty():
        out += [word("nothing_open", lang), ""]
    else:
        header, rows = owed_rows(totals, lang)
        out += [*_table(header, _escaped(rows, {0}), set(range(1, len(header)))), ""]
        out += [word("credits_note", lang), ""]
        out += [f"## {word('buckets_title', lang)}", ""]
        header, rows = bucket_rows(totals, b, lang)
        out += [*_table(header, _escaped(rows, {0}), set(range(1, len(header)))), ""]

    header, rows = small_balance_rows(totals, settings)
    if rows:
        out += [f"## {word('small_title', lang)}", ""]
        out += [*_table(header, _escaped(rows, {0}), {1, 2, 3, 4}), ""]
        out += [word("small_note", lang), ""]

    out += [f"## {word('dso_title', lang)}", ""]
    if dso.is_empty():
        out += [word("dso_none", lang), ""]
    else:
        previous = _dso_trend(dso_history, as_of)
        period = int(dso["period_days"][0])
        keys = ("currency", "entity", "dso_standard", "dso_countback", "since", "receivables")
        header = [*(col(k, lang) for k in keys), col("revenue", lang, period=period)]
        rows = []
        for r in dso.iter_rows(named=True):
            before = previous.get((r["currency"], r["legal_entity"]), {})
            rows.append(
                [
                    _text(r["currency"]),
                    _text(r["legal_entity"]) or "–",
                    _dso_cell(r, "dso_standard", lang),
                    _dso_cell(r, "dso_countback", lang),
                    _change(r["dso_standard"], before.get("dso_standard"), lang),
                    _amount(r["receivables_cents"], lang),
                    _amount(r["revenue_cents"], lang),
                ]
            )
        out += [*_table(header, rows, {2, 3, 5, 6}), ""]
        out += [word("dso_how", lang, period=period), ""]
        for note in dso_notes(dso, settings):
            out += [note, ""]
        if dso_history is not None and not dso_history.is_empty():
            dates = dso_history["as_of_date"].n_unique()
            out += [f"### {word('trend_title', lang, count=dates)}", ""]
            rows = [
                [
                    format_date(r["as_of_date"], lang),
                    _text(r["currency"]),
                    _text(r["legal_entity"]) or "–",
                    format_days(r["dso_standard"], lang),
                    format_days(r["dso_countback"], lang),
                ]
                for r in dso_history.sort("as_of_date", "currency").iter_rows(named=True)
            ]
            keys = ("date", "currency", "entity", "dso_standard", "dso_countback")
            header = [col(k, lang) for k in keys]
            out += [*_table(header, rows, {3, 4}), ""]

    out += [f"## {word('late_title', lang, top=top)}", ""]
    late = late_payers(by_customer, top)
    if late.is_empty():
        out += [word("no_late", lang), ""]
    for (cur,), mine in late.group_by("currency", maintain_order=True):
        out += [f"### {_text(cur)}", ""]
        keys = ("rank", "customer", "overdue", "net", "oldest", "average", "grade", "account")
        header = [col(k, lang) for k in keys]
        rows = [
            [
                r["rank"],
                _text(_who(mine, r)),
                _amount(r["overdue_cents"], lang),
                _amount(r["overdue_net_cents"], lang),
                r["oldest_days_past_due"],
                format_days(_col(mine, r, "avg_days_late"), lang),
                _text(_col(mine, r, "grade")) or "–",
                _text(r["customer_id"]),
            ]
            for r in mine.iter_rows(named=True)
        ]
        out += [*_table(header, rows, {0, 2, 3, 4, 5}), ""]
    if not late.is_empty():
        out += [word("late_note", lang), ""]
    return "\n".join(out)


def customer_table(
    by_customer: pl.DataFrame,
    *,
    buckets: Buckets | Sequence[int] = DEFAULT_BUCKETS,
    lang: Lang = "fr",
) -> list[dict]:
    """Rows of the table artifact: one per customer, currency and entity, most overdue first.

    Columns in the order finance reads them: who (and in which currency), overdue (gross, then
    net of credits), oldest days late, total, grade, then credits, small balances and the
    buckets, the account id last. Amounts without the currency code (the Cur. column says it
    once) and the buckets to the unit, so that the columns up to the grade fit the artifact
    pane (about 650 px in the newer UI at 1366 px wide, 800 px in the classic one); the workbook
    has every cent. The Entity column (after the grade) is there only when the customers' items
    belong to more than one legal entity.
    """
    b = as_buckets(buckets)
    ordered = by_customer.sort(
        ["currency", "overdue_cents", "overdue_net_cents", "customer_id"],
        descending=[False, True, True, False],
    )
    entities = ordered["legal_entity"].n_unique() > 1
    head = {k: label(f"aging.table.{k}", lang) for k in TABLE_COLUMNS}
    shorts = {k: short_label(k, lang) for k in b.keys}
    rows = []
    for r in ordered.iter_rows(named=True):

        def money(column: str, *, cents: bool = True, row: dict = r) -> str:
            return format_money(row[column], None, lang, decimals=cents)

        rows.append(
            {
                head["customer"]: _who(ordered, r),
                head["currency"]: r["currency"],
                head["overdue"]: money("overdue_cents"),
                head["net"]: money("overdue_net_cents"),
                head["days_late"]: r["oldest_days_past_due"],
                head["total"]: money("total_cents"),
                head["grade"]: _col(ordered, r, "grade") or "–",
                **({head["entity"]: r["legal_entity"] or ""} if entities else {}),
                head["credits"]: money("credits_cents"),
                head["small"]: money("small_balance_cents"),
                **{shorts[k]: money(b.column(k), cents=False) for k in b.keys},
                head["account"]: r["customer_id"],
            }
        )
    return rows


TABLE_COLUMNS = ("customer", "currency", "overdue", "net", "days_late", "total", "grade",
                 "entity", "credits", "small", "account")  # fmt: skip
_TEXT_COLUMNS = ("customer", "currency", "grade", "entity", "account")  # left-aligned


def short_label(key: str, lang: Lang = "fr") -> str:
    """A bucket's column head in the narrow table: 'Not due', '1-30', '> 120'."""
    if key == UNAPPLIED_CREDIT:
        return word("short_credits", lang)
    if key == SMALL_BALANCE:
        return word("short_small", lang)
    if key == "not_due":
        return word("short_not_due", lang)
    if key.startswith("over_"):
        return f"> {key.removeprefix('over_')}"
    return key.replace("_", "-")


# ---------------------------------------------------------------------------------------------
# HTML report

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#1f2933;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:1px solid #d9e2ec;padding-bottom:.2rem}
.meta{color:#52606d;margin-top:0}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.92rem}
th,td{padding:.3rem .6rem;border-bottom:1px solid #e4e7eb;text-align:left}
th{background:#f5f7fa;font-weight:600}td.n,th.n{text-align:right;white-space:nowrap}
tr:hover td{background:#f0f4f8}figure{margin:1rem 0}figcaption{color:#52606d;font-size:.9rem}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-1px}
.note{color:#52606d;font-size:.85rem}.wide{overflow-x:auto}.wide table{font-size:.85rem}
"""


_PALETTE = ("#43a047", "#c0ca33", "#fdd835", "#fb8c00", "#e53935", "#8e1b1b")


def bucket_colour(index: int, count: int) -> str:
    """Green for not yet due through yellow and orange to dark red for the oldest bucket."""
    if count <= len(_PALETTE):
        return _PALETTE[round(index * (len(_PALETTE) - 1) / max(count - 1, 1))]
    share = index / (count - 1)
    return f"hsl({round(120 * (1 - share))},70%,{round(48 - 18 * share)}%)"


def _nice_step(span: int) -> int:
    raw = max(span / 5, 1)
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for m in (1, 2, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


_APART_COLOURS = {UNAPPLIED_CREDIT: "#1e88e5", SMALL_BALANCE: "#9aa5b1"}


def bucket_chart_svg(
    history: pl.DataFrame,
    currency: str,
    *,
    width: int = 760,
    lang: Lang = "fr",
    standalone: bool = False,
) -> str:
    """Stacked bars of one currency's open amounts per bucket, one bar per snapshot date.

    Unapplied credits (and the negative buckets of snapshots taken before they had their own
    column) are stacked below the zero line so they stay visible; small balances in grey.
    `standalone`: one SVG document with its legend drawn inside, for an image (the Prefect UI
    shows a markdown image but strips inline SVG); otherwise the legend is HTML after the SVG.
    """
    rows = history.filter(pl.col("currency") == currency)
    keys = sorted(rows["bucket"].unique().to_list(), key=bucket_order)
    # colours from every currency's buckets: "1-30 days" has one colour in all the charts
    every = sorted(history["bucket"].unique().to_list(), key=bucket_order)
    aged_keys = [k for k in every if k not in _APART_COLOURS]

    def colour(key: str) -> str:
        if key in _APART_COLOURS:
            return _APART_COLOURS[key]
        return bucket_colour(aged_keys.index(key), len(aged_keys))

    dates = sorted(rows["as_of_date"].unique().to_list())
    cents = {
        (r["as_of_date"], r["bucket"]): r["amount_open_cents"] for r in rows.iter_rows(named=True)
    }
    up = [sum(max(cents.get((d, k), 0), 0) for k in keys) for d in dates]
    down = [sum(min(cents.get((d, k), 0), 0) for k in keys) for d in dates]
    top, bottom = max([*up, 0]), min([*down, 0])
    step = _nice_step(max(top - bottom, 100))
    top = -(-top // step) * step
    bottom = -(-bottom // step) * step if bottom >= 0 else -((-bottom + step - 1) // step) * step
    if top == bottom:
        top = bottom + step

    height, left, right, upper, lower = 320, 110, 20, 16, 48
    plot_w, plot_h = width - left - right, height - upper - lower
    legend_rows = -(-len(keys) // 3) if standalone else 0
    full_height = height + 20 * legend_rows

    def y(value: int) -> float:
        return upper + plot_h * (top - value) / (top - bottom)

    slot = plot_w / max(len(dates), 1)
    bar = min(56.0, slot * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{full_height}" '
        f'viewBox="0 0 {width} {full_height}" role="img" font-family="sans-serif" '
        f'aria-label="{html.escape(word("chart_alt", lang, currency=currency))}">'
    ]
    if standalone:
        parts.append(f'<rect width="{width}" height="{full_height}" fill="#ffffff"/>')
    for tick in range(bottom, top + 1, step):
        ty = y(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{"#9aa5b1" if tick == 0 else "#e4e7eb"}"/>'
            f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#52606d">'
            f"{html.escape(format_money(tick, currency, lang, decimals=False))}</text>"
        )
    label_every = max(1, -(-len(dates) // 12))
    for i, d in enumerate(dates):
        x = left + slot * i + (slot - bar) / 2
        pos = neg = 0
        for k in keys:
            value = cents.get((d, k), 0)
            if value == 0:
                continue
            base = pos if value > 0 else neg
            y0, y1 = y(base), y(base + value)
            if value > 0:
                pos += value
            else:
                neg += value
            day = format_date(d, lang)
            tip = f"{day} · {bucket_word(k, lang)}: {format_money(value, currency, lang)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{min(y0, y1):.1f}" width="{bar:.1f}" '
                f'height="{abs(y1 - y0):.1f}" fill="{colour(k)}">'
                f"<title>{html.escape(tip)}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - lower + 16}" text-anchor="middle" '
                f'font-size="11" fill="#52606d">{format_date(d, lang)}</text>'
            )
    if standalone:
        column = (width - left) / 3
        for i, k in enumerate(keys):
            lx, ly = left + column * (i % 3), height + 20 * (i // 3)
            parts.append(
                f'<rect x="{lx:.1f}" y="{ly - 10}" width="11" height="11" fill="{colour(k)}"/>'
                f'<text x="{lx + 16:.1f}" y="{ly}" font-size="12" fill="#1f2933">'
                f"{html.escape(bucket_word(k, lang))}</text>"
            )
        parts.append("</svg>")
        return "".join(parts)
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{colour(k)}"></i>{html.escape(bucket_word(k, lang))}</span>'
        for k in keys
    )
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def svg_data_uri(svg: str) -> str:
    """An SVG document as a data: URI, which the Prefect UI loads as a markdown image."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


CHART_WIDTH = 600  # fits the artifact pane of both Prefect UIs at 1366 px (about 610 px)


def chart_markdown(
    history: pl.DataFrame, *, as_of: date, lang: Lang = "fr", width: int = CHART_WIDTH
) -> str:
    """The buckets-over-time view as a markdown artifact the Prefect UI renders: per currency,
    the stacked-bar chart as an image (data: URI, nothing on the server's disk) and the figures
    behind it (an image has no hover), one line per snapshot, amounts to the unit."""
    out = [f"# {word('chart_title', lang, date=format_date(as_of, lang))}", ""]
    if history.is_empty():
        return "\n".join([*out, word("no_snapshot", lang), ""])
    out += [word("currency_note", lang), ""]
    for cur in sorted(history["currency"].unique().to_list()):
        mine = history.filter(pl.col("currency") == cur)
        keys = sorted(mine["bucket"].unique().to_list(), key=bucket_order)
        svg = bucket_chart_svg(history, cur, width=width, lang=lang, standalone=True)
        dates = mine["as_of_date"].n_unique()
        out += [f"## {_text(cur)}", ""]
        out += [f"![{word('chart_alt', lang, currency=_text(cur))}]({svg_data_uri(svg)})", ""]
        wide = mine.pivot(on="bucket", index="as_of_date", values="amount_open_cents")
        rows = [
            [format_date(r["as_of_date"], lang)]
            + [format_money(r.get(k) or 0, None, lang, decimals=False) for k in keys]
            for r in wide.sort("as_of_date", descending=True).iter_rows(named=True)
        ]
        header = [word("date", lang), *(short_label(k, lang) for k in keys)]
        out += [*_table(header, rows, set(range(1, len(header)))), ""]
        out += [word("chart_note", lang, count=dates, currency=_text(cur)), ""]
    return "\n".join(out)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[object]], right: set[int]) -> str:
    def cell(tag: str, i: int, value: object) -> str:
        cls = ' class="n"' if i in right else ""
        return f"<{tag}{cls}>{html.escape('' if value is None else str(value))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html_report(
    by_customer: pl.DataFrame,
    dso: pl.DataFrame,
    aging_history: pl.DataFrame,
    *,
    as_of: date,
    dso_history: pl.DataFrame | None = None,
    buckets: Buckets | Sequence[int] = DEFAULT_BUCKETS,
    title: str | None = None,
    settings: AgingSettings = DEFAULT_SETTINGS,
) -> str:
    """A self-contained HTML page (inline CSS and SVG, no script): charts, DSO, customers.

    The same tables as the summary and the customer artifact, in the same order. `aging_history`
    is read_aging_history's frame; write today's snapshot before reading it so that today's bar
    is drawn.
    """
    b = as_buckets(buckets)
    lang = settings.lang
    title = title or word("html_title", lang)
    esc = html.escape
    day = format_date(as_of, lang)
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{esc(word("html_as_of", lang, date=day))}'
        f" {esc(word('currency_note', lang))}</p>",
    ]

    totals = currency_totals(by_customer, buckets=b)
    body.append(f"<h2>{esc(word('owed_title', lang))}</h2>")
    if totals.is_empty():
        body.append(f"<p>{esc(word('nothing_open', lang))}</p>")
    else:
        header, rows = owed_rows(totals, lang)
        body.append(_html_table(header, rows, set(range(1, len(header)))))
        body.append(f'<p class="note">{esc(word("credits_note", lang))}</p>')
        body.append(f"<h2>{esc(word('buckets_title', lang))}</h2>")
        header, rows = bucket_rows(totals, b, lang)
        body.append(_html_table(header, rows, set(range(1, len(header)))))
    header, rows = small_balance_rows(totals, settings)
    if rows:
        body.append(f"<h2>{esc(word('small_title', lang))}</h2>")
        body.append(_html_table(header, rows, {1, 2, 3, 4}))

    body.append(f"<h2>{esc(word('html_over_time', lang))}</h2>")
    currencies = (
        sorted(aging_history["currency"].unique().to_list()) if aging_history.height else []
    )
    if not currencies:
        body.append(f"<p>{esc(word('no_snapshot', lang))}</p>")
    for cur in currencies:
        dates = aging_history.filter(pl.col("currency") == cur)["as_of_date"].n_unique()
        caption = esc(word("html_caption", lang, currency=cur, count=dates))
        body.append(
            f"<figure>{bucket_chart_svg(aging_history, cur, lang=lang)}"
            f"<figcaption>{caption}</figcaption></figure>"
        )

    body.append(f"<h2>{esc(word('dso_title', lang))}</h2>")
    if dso.is_empty():
        body.append(f"<p>{esc(word('dso_none', lang))}</p>")
    else:
        rows = [
            [
                r["currency"],
                r["legal_entity"] or "–",
                _dso_cell(r, "dso_standard", lang),
                _dso_cell(r, "dso_countback", lang),
                _amount(r["receivables_cents"], lang),
                _amount(r["revenue_cents"], lang),
            ]
            for r in dso.iter_rows(named=True)
        ]
        period = int(dso["period_days"][0])
        keys = ("currency", "entity", "dso_standard", "dso_countback", "receivables")
        header = [*(col(k, lang) for k in keys), col("revenue", lang, period=period)]
        body.append(_html_table(header, rows, {2, 3, 4, 5}))
        for note in dso_notes(dso, settings):
            body.append(f'<p class="note">{esc(note)}</p>')
    if dso_history is not None and not dso_history.is_empty():
        rows = [
            [
                format_date(r["as_of_date"], lang),
                r["currency"],
                r["legal_entity"] or "–",
                format_days(r["dso_standard"], lang),
                format_days(r["dso_countback"], lang),
            ]
            for r in dso_history.sort("as_of_date", "currency").iter_rows(named=True)
        ]
        body.append(f"<h3>{esc(word('html_dso_history', lang))}</h3>")
        keys = ("date", "currency", "entity", "dso_standard", "dso_countback")
        header = [col(k, lang) for k in keys]
        body.append(_html_table(header, rows, {3, 4}))

    body.append(f"<h2>{esc(word('html_by_customer', lang))}</h2>")
    table = customer_table(by_customer, buckets=b, lang=lang)
    if table:
        header = list(table[0])
        text = {label(f"aging.table.{k}", lang) for k in _TEXT_COLUMNS}
        right = {i for i, h in enumerate(header) if h not in text}
        rows = [list(r.values()) for r in table]
        body.append(f'<div class="wide">{_html_table(header, rows, right)}</div>')
    else:
        body.append(f"<p>{esc(word('html_no_customer', lang))}</p>")
    body.append(f'<p class="note">{esc(word("html_note", lang))}</p>')
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} – {day}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
