"""What finance reads about aging: the markdown summary, the customer table, the HTML report.

Plain text out of plain frames (those of aging.analysis and aging.store); the flow publishes them
as Prefect artifacts. Money is shown the French way, "12 345,67 EUR" (common.formatting), and every
figure stays in its own currency: there is no grand total across currencies. Customer ids, names,
entities and currencies are data: escaped for Markdown (common.escaping) and for HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

import polars as pl

from o2c.tasks.aging.analysis import (
    DEFAULT_BUCKETS,
    Buckets,
    as_buckets,
    bucket_label,
    bucket_order,
)
from o2c.tasks.common.escaping import md_cell
from o2c.tasks.common.formatting import format_days, format_money


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
    """Per currency: cents per bucket, total and overdue (legal entities added, currencies not)."""
    b = as_buckets(buckets)
    money = [b.column(k) for k in b.keys] + ["total_cents", "overdue_cents"]
    return (
        by_customer.group_by("currency")
        .agg(pl.col(money).sum(), pl.col("customer_id").n_unique().alias("customers"))
        .sort("currency")
    )


def _late_payers(by_customer: pl.DataFrame, top: int) -> pl.DataFrame:
    """Customers with money overdue, the most overdue first, `top` per currency."""
    return (
        by_customer.filter(pl.col("overdue_cents") > 0)
        .sort(
            ["currency", "overdue_cents", "oldest_days_past_due", "customer_id"],
            descending=[False, True, True, False],
        )
        .group_by("currency", maintain_order=True)
        .head(top)
    )


def _col(frame: pl.DataFrame, row: dict, name: str) -> object:
    return row.get(name) if name in frame.columns else None


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


def _change(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "–"
    delta = round(now - before, 1)
    if delta == 0:
        return "unchanged"
    word = "worse" if delta > 0 else "better"
    return f"{'+' if delta > 0 else '−'}{format_days(abs(delta))} days ({word})"


def summary_markdown(
    by_customer: pl.DataFrame,
    dso: pl.DataFrame,
    *,
    as_of: date,
    dso_history: pl.DataFrame | None = None,
    buckets: Buckets | Sequence[int] = DEFAULT_BUCKETS,
    top: int = 10,
) -> str:
    """The run's markdown artifact: totals per bucket and currency, DSO and its trend, late payers.

    `by_customer` is aging_by_customer's frame (with behaviour and names when known), `dso` is
    dso_table's, `dso_history` read_dso_history's (today's rows may be in it or not).
    """
    b = as_buckets(buckets)
    out = [f"# Receivables aging as of {as_of.isoformat()}", ""]

    totals = currency_totals(by_customer, buckets=b)
    out += ["## Open amounts per bucket", ""]
    if totals.is_empty():
        out += ["Nothing is open.", ""]
    else:
        header = ["Currency", *b.labels, "Total", "Overdue", "Customers"]
        rows = [
            [
                _text(r["currency"]),
                *(format_money(r[b.column(k)], r["currency"]) for k in b.keys),
                format_money(r["total_cents"], r["currency"]),
                format_money(r["overdue_cents"], r["currency"]),
                r["customers"],
            ]
            for r in totals.iter_rows(named=True)
        ]
        out += [*_table(header, rows, set(range(1, len(header)))), ""]
        out += [
            "Credit notes count in the bucket of their own due date, as negative amounts.",
            "",
        ]

    out += ["## Days sales outstanding", ""]
    if dso.is_empty():
        out += ["No receivables and no revenue: DSO is not defined.", ""]
    else:
        previous = _dso_trend(dso_history, as_of)
        period = int(dso["period_days"][0])
        header = [
            "Currency",
            "Entity",
            "Receivables",
            f"Revenue ({period} days)",
            "DSO standard",
            "DSO countback",
            "Since last snapshot",
        ]
        rows = []
        for r in dso.iter_rows(named=True):
            before = previous.get((r["currency"], r["legal_entity"]), {})
            rows.append(
                [
                    _text(r["currency"]),
                    _text(r["legal_entity"]) or "–",
                    format_money(r["receivables_cents"], r["currency"]),
                    format_money(r["revenue_cents"], r["currency"]),
                    format_days(r["dso_standard"]),
                    format_days(r["dso_countback"]),
                    _change(r["dso_standard"], before.get("dso_standard")),
                ]
            )
        out += [*_table(header, rows, {2, 3, 4, 5}), ""]
        out += [
            f"Standard: receivables / revenue of the last {period} days × {period}. "
            "Countback: days of the latest sales, month by month, that the receivables "
            "still cover.",
            "",
        ]
        if dso_history is not None and not dso_history.is_empty():
            dates = dso_history["as_of_date"].n_unique()
            out += [f"### Trend over the last {dates} snapshots", ""]
            rows = [
                [
                    r["as_of_date"].isoformat(),
                    _text(r["currency"]),
                    _text(r["legal_entity"]) or "–",
                    format_days(r["dso_standard"]),
                    format_days(r["dso_countback"]),
                ]
                for r in dso_history.sort("as_of_date", "currency").iter_rows(named=True)
            ]
            header = ["Date", "Currency", "Entity", "DSO standard", "DSO countback"]
            out += [*_table(header, rows, {3, 4}), ""]

    out += [f"## Top {top} late payers per currency", ""]
    late = _late_payers(by_customer, top)
    if late.is_empty():
        out += ["No customer has anything overdue.", ""]
    else:
        header = [
            "#",
            "Customer",
            "Name",
            "Currency",
            "Overdue",
            "Oldest days past due",
            "Avg days late",
            "Grade",
        ]
        rows = []
        for rank, r in enumerate(late.iter_rows(named=True), start=1):
            rows.append(
                [
                    rank,
                    _text(r["customer_id"]),
                    _text(_col(late, r, "customer_name")),
                    _text(r["currency"]),
                    format_money(r["overdue_cents"], r["currency"]),
                    r["oldest_days_past_due"],
                    format_days(_col(late, r, "avg_days_late")),
                    _text(_col(late, r, "grade")) or "–",
                ]
            )
        out += [*_table(header, rows, {0, 4, 5, 6}), ""]
        out += [
            "Ranked by overdue amount within each currency. Average days late: weighted by "
            "amount over fully paid invoices, early payments counting as 0. Grades: "
            "A ≤ 5 days, B ≤ 15, C ≤ 30, D ≤ 60, E above; – without a paid invoice yet.",
            "",
        ]
    return "\n".join(out)


def customer_table(
    by_customer: pl.DataFrame, *, buckets: Buckets | Sequence[int] = DEFAULT_BUCKETS
) -> list[dict]:
    """Rows of the table artifact: one per customer, currency and entity, most overdue first."""
    b = as_buckets(buckets)
    ordered = by_customer.sort(
        ["currency", "overdue_cents", "customer_id"], descending=[False, True, False]
    )
    rows = []
    for r in ordered.iter_rows(named=True):
        cur = r["currency"]
        rows.append(
            {
                "Customer": r["customer_id"],
                "Name": _col(ordered, r, "customer_name") or "",
                "Entity": r["legal_entity"] or "",
                "Currency": cur,
                **{
                    label: format_money(r[b.column(k)], cur)
                    for k, label in zip(b.keys, b.labels, strict=True)
                },
                "Total": format_money(r["total_cents"], cur),
                "Overdue": format_money(r["overdue_cents"], cur),
                "Oldest days past due": r["oldest_days_past_due"],
                "Avg days late": format_days(_col(ordered, r, "avg_days_late")),
                "Grade": _col(ordered, r, "grade") or "–",
            }
        )
    return rows


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
.note{color:#52606d;font-size:.85rem}
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


def bucket_chart_svg(history: pl.DataFrame, currency: str, *, width: int = 760) -> str:
    """Stacked bars of one currency's open amounts per bucket, one bar per snapshot date.

    Credit balances (negative buckets) are stacked below the zero line so they stay visible.
    """
    rows = history.filter(pl.col("currency") == currency)
    keys = sorted(rows["bucket"].unique().to_list(), key=bucket_order)
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

    def y(value: int) -> float:
        return upper + plot_h * (top - value) / (top - bottom)

    slot = plot_w / max(len(dates), 1)
    bar = min(56.0, slot * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Open amounts in {html.escape(currency)} per bucket over time">'
    ]
    for tick in range(bottom, top + 1, step):
        ty = y(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{"#9aa5b1" if tick == 0 else "#e4e7eb"}"/>'
            f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#52606d">{html.escape(format_money(tick, currency, decimals=False))}</text>'
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
            tip = f"{d.isoformat()} · {bucket_label(k)}: {format_money(value, currency)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{min(y0, y1):.1f}" width="{bar:.1f}" '
                f'height="{abs(y1 - y0):.1f}" fill="{bucket_colour(keys.index(k), len(keys))}">'
                f"<title>{html.escape(tip)}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - lower + 16}" text-anchor="middle" '
                f'font-size="11" fill="#52606d">{d.isoformat()}</text>'
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{bucket_colour(i, len(keys))}"></i>'
        f"{html.escape(bucket_label(k))}</span>"
        for i, k in enumerate(keys)
    )
    return "".join(parts) + f'<div class="legend">{legend}</div>'


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
    title: str = "Receivables aging",
) -> str:
    """A self-contained HTML page (inline CSS and SVG, no script): charts, DSO, customers.

    `aging_history` is read_aging_history's frame; write today's snapshot before reading it so
    that today's bar is drawn.
    """
    b = as_buckets(buckets)
    esc = html.escape
    body = [f"<h1>{esc(title)}</h1>", f'<p class="meta">As of {as_of.isoformat()}</p>']

    totals = currency_totals(by_customer, buckets=b)
    body.append("<h2>Open amounts per bucket</h2>")
    if totals.is_empty():
        body.append("<p>Nothing is open.</p>")
    else:
        rows = [
            [
                r["currency"],
                *(format_money(r[b.column(k)], r["currency"]) for k in b.keys),
                format_money(r["total_cents"], r["currency"]),
                format_money(r["overdue_cents"], r["currency"]),
            ]
            for r in totals.iter_rows(named=True)
        ]
        header = ["Currency", *b.labels, "Total", "Overdue"]
        body.append(_html_table(header, rows, set(range(1, len(header)))))

    body.append("<h2>Buckets over time</h2>")
    currencies = (
        sorted(aging_history["currency"].unique().to_list()) if aging_history.height else []
    )
    if not currencies:
        body.append("<p>No snapshot yet.</p>")
    for cur in currencies:
        dates = aging_history.filter(pl.col("currency") == cur)["as_of_date"].n_unique()
        body.append(
            f"<figure>{bucket_chart_svg(aging_history, cur)}<figcaption>Open amounts in "
            f"{esc(cur)}, {dates} snapshot(s). Hover a bar for its amount.</figcaption></figure>"
        )

    body.append("<h2>Days sales outstanding</h2>")
    if dso.is_empty():
        body.append("<p>No receivables and no revenue: DSO is not defined.</p>")
    else:
        rows = [
            [
                r["currency"],
                r["legal_entity"] or "–",
                format_money(r["receivables_cents"], r["currency"]),
                format_money(r["revenue_cents"], r["currency"]),
                format_days(r["dso_standard"]),
                format_days(r["dso_countback"]),
            ]
            for r in dso.iter_rows(named=True)
        ]
        period = int(dso["period_days"][0])
        header = ["Currency", "Entity", "Receivables", f"Revenue ({period} days)"]
        header += ["DSO standard", "DSO countback"]
        body.append(_html_table(header, rows, {2, 3, 4, 5}))
    if dso_history is not None and not dso_history.is_empty():
        rows = [
            [
                r["as_of_date"].isoformat(),
                r["currency"],
                r["legal_entity"] or "–",
                format_days(r["dso_standard"]),
                format_days(r["dso_countback"]),
            ]
            for r in dso_history.sort("as_of_date", "currency").iter_rows(named=True)
        ]
        body.append("<h3>DSO over the last snapshots</h3>")
        header = ["Date", "Currency", "Entity", "DSO standard", "DSO countback"]
        body.append(_html_table(header, rows, {3, 4}))

    body.append("<h2>By customer</h2>")
    table = customer_table(by_customer, buckets=b)
    if table:
        header = list(table[0])
        right = {
            i
            for i, h in enumerate(header)
            if h not in ("Customer", "Name", "Entity", "Currency", "Grade")
        }
        body.append(_html_table(header, [list(r.values()) for r in table], right))
    else:
        body.append("<p>No customer has anything open.</p>")
    body.append(
        '<p class="note">Credit notes count in the bucket of their own due date, as negative '
        "amounts. Grades from the amount-weighted average days late of fully paid invoices: "
        "A ≤ 5, B ≤ 15, C ≤ 30, D ≤ 60, E above.</p>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} – {as_of.isoformat()}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
