"""What finance reads in the Prefect UI after `o2c demo` (issue 5, end to end).

The demo runs against a real `prefect server start`; its artifacts are read back through the
Prefect API by key and every figure is checked against the warehouse with SQL written here,
independently of the Polars code that produced them. Then headless Chromium opens the run pages
the way a credit controller would, and the screenshots are kept for a person to look at.
"""

from __future__ import annotations

import csv
import html
import json
import re
import struct
import subprocess
import time
import zlib
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import httpx
import pytest

from o2c.tasks.reconciliation.report import reason_label, rule_label, short_payer

from .conftest import BIN, PrefectServer, Processes, clean_env

pytestmark = pytest.mark.server

CHROMIUM = Path("/usr/bin/chromium")
KEYS = (
    "customer-ingestion",
    "invoice-ingestion",
    "bank-ingestion",
    "reconciliation",
    "reconciliation-exceptions",
    "aging-summary",
    "aging-by-customer",
    "aging-chart",
    "o2c-daily",
)
# The buckets of issue 5 as the French summary heads them, written out here rather than taken
# from o2c.tasks.aging.analysis.
BUCKETS = {
    "non échu": (None, 0),
    "1-30 jours": (1, 30),
    "31-60 jours": (31, 60),
    "61-90 jours": (61, 90),
    "91-120 jours": (91, 120),
    "plus de 120 jours": (121, None),
}


@dataclass(frozen=True)
class Demo:
    folder: Path  # the generated ERP exports and bank inbox
    db: str
    as_of: date
    daily_id: str
    daily_name: str
    tree: dict[str, str]  # flow run id -> flow name: o2c-daily and its subflows


def _flow_runs(api: httpx.Client, body: dict) -> list[dict]:
    found = api.post("/flow_runs/filter", json=body)
    found.raise_for_status()
    return found.json()


@pytest.fixture(scope="module")
def demo(prefect_server: PrefectServer, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`o2c demo --invoices 300` once for the module, then the run tree it left on the server."""
    folder = tmp_path_factory.mktemp("demo")
    db = str(folder / "o2c.duckdb")
    env = clean_env(
        PREFECT_API_URL=prefect_server.api_url,
        PREFECT_HOME=str(folder / "prefect-home"),
        O2C_DB=db,
    )
    procs = Processes(folder, env)
    as_of = date.today()
    files = folder / "files"
    try:
        # The warehouse's one-writer slot on the server, as a data engineer sets it up.
        procs.run("o2c-init", [str(BIN / "o2c"), "init"], timeout=120)
        procs.run(
            "o2c-demo",
            [str(BIN / "o2c"), "demo", "--invoices", "300", "--seed", "7", "--folder", str(files)],
            timeout=240,
        )
    finally:
        procs.stop_all()
    assert date.today() == as_of, "the demo ran across midnight: run the test again"

    with prefect_server.client() as api:
        (parent,) = _flow_runs(
            api,
            {
                "flows": {"name": {"any_": ["o2c-demo"]}},
                "sort": "EXPECTED_START_TIME_DESC",
                "limit": 1,
            },
        )
        (daily,) = _flow_runs(
            api,
            {
                "flows": {"name": {"any_": ["o2c-daily"]}},
                "flow_runs": {"parent_flow_run_id": {"any_": [parent["id"]]}},
            },
        )
        children = _flow_runs(
            api, {"flow_runs": {"parent_flow_run_id": {"any_": [daily["id"]]}}, "limit": 200}
        )
        flows = {
            f["id"]: f["name"]
            for f in api.post("/flows/filter", json={"limit": 200}).raise_for_status().json()
        }
    assert daily["state_type"] == "COMPLETED", daily["state"]
    tree = {daily["id"]: "o2c-daily"} | {r["id"]: flows[r["flow_id"]] for r in children}
    return Demo(files, db, as_of, daily["id"], daily["name"], tree)


def latest_artifact(api: httpx.Client, key: str) -> dict:
    found = api.post("/artifacts/latest/filter", json={"artifacts": {"key": {"any_": [key]}}})
    found.raise_for_status()
    assert found.json(), f"no artifact under key {key!r}"
    (artifact,) = found.json()
    return artifact


def md_tables(markdown: str) -> list[list[dict[str, str]]]:
    """Every pipe table of a markdown text, as rows keyed by the header's cells."""
    tables, block = [], []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif block:
            header, _separator, *rows = block
            tables.append([dict(zip(header, r, strict=True)) for r in rows])
            block = []
    return tables


def table_with(markdown: str, column: str) -> list[dict[str, str]]:
    (table,) = [t for t in md_tables(markdown) if t and column in t[0]]
    return table


def count(text: str) -> int:
    """'1 234' (any kind of space between thousands) -> 1234."""
    return int(re.sub(r"\s", "", text))


def money(text: str) -> tuple[Decimal, str | None]:
    """'-12 345,67 EUR' -> (Decimal('-12345.67'), 'EUR'); French decimal comma."""
    match = re.fullmatch(r"(-?[\d\s]+),(\d{2})(?:\s+([A-Z]{3}))?", text.strip())
    assert match, f"not an amount: {text!r}"
    units = re.sub(r"\s", "", match[1])
    return Decimal(f"{units}.{match[2]}"), match[3]


def sql(db: str, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def test_every_artifact_is_under_its_key_in_the_daily_run_tree(
    demo: Demo, api: httpx.Client
) -> None:
    assert {"ingest-customers", "ingest-invoices", "reconcile", "aging"} <= set(demo.tree.values())
    for key in KEYS:
        artifact = latest_artifact(api, key)
        assert artifact["flow_run_id"] in demo.tree, f"{key}: from a run outside o2c-daily"
    assert latest_artifact(api, "o2c-daily")["flow_run_id"] == demo.daily_id
    aging_run = latest_artifact(api, "aging-summary")["flow_run_id"]
    assert demo.tree[aging_run] == "aging"
    assert latest_artifact(api, "aging-by-customer")["flow_run_id"] == aging_run


# The day's steps as the French artifact names them, and the flow each one runs.
STEP_NAMES = {
    "Clients": "customers",
    "Factures": "invoices",
    "Relevé bancaire": "bank statement",
    "Rapprochement": "reconcile",
    "Balance âgée": "aging",
    "Relances": "dunning",
}
ARTIFACTS_HEAD = "Artefacts"
STEP_FLOWS = {
    "customers": "ingest-customers",
    "invoices": "ingest-invoices",
    "bank statement": "ingest-bank-statement",
    "reconcile": "reconcile",
    "aging": "aging",
    "dunning": "dunning",
}


def prefect_server_url(api: httpx.Client) -> str:
    """The server's root (the UI) from the API client's base URL."""
    return str(api.base_url).rstrip("/").removesuffix("/api")


def test_ingestion_and_daily_artifacts_match_the_files_and_the_warehouse(
    demo: Demo, api: httpx.Client
) -> None:
    for key, name, table in (
        ("invoice-ingestion", "invoices.csv", "invoices"),
        ("customer-ingestion", "customers.csv", "customers"),
    ):
        with open(demo.folder / name, newline="", encoding="utf-8") as f:
            data_rows = sum(1 for _ in csv.DictReader(f))
        loads = table_with(latest_artifact(api, key)["data"], "rows")
        figures = {r["rows"]: count(r["count"]) for r in loads}
        (stored,) = sql(demo.db, f"SELECT count(*) FROM {table}")[0]
        assert figures["read"] == data_rows, key
        assert figures["new"] == stored == data_rows - figures["quarantined"], key

    statements = sorted(p.name for p in (demo.folder / "inbox").glob("*.xml"))
    processed = sorted(p.name for p in (demo.folder / "inbox" / "processed").glob("*/*.xml"))
    assert statements == [] and processed, "the demo inbox is handled: every file archived"
    daily = latest_artifact(api, "o2c-daily")
    # French first (O2C_LANGUAGE unset: the company is French)
    assert (
        daily["description"]
        == f"Journée du {demo.as_of:%d/%m/%Y}\u00a0: {len(demo.tree) - 1} étapes"
    )
    steps = [
        {"step": STEP_NAMES[r["Étape"]], "outcome": r["Résultat"], "artifacts": r[ARTIFACTS_HEAD]}
        for r in table_with(daily["data"], "Étape")
    ]
    loaded = sql(
        demo.db,
        "SELECT file_name, rows_in, rows_loaded FROM load_batches"
        " WHERE source = 'bank_statement' AND status = 'loaded' ORDER BY file_name",
    )
    assert [f for f, *_ in loaded] == processed
    # each bank file with its counts (file names as code spans), as load_batches has them
    bank = sorted(r["outcome"] for r in steps if r["step"] == "bank statement")
    assert bank == [
        f"`{name}`: {read} opérations, {new} chargées, {read - new} déjà connues"
        for name, read, new in loaded
    ]
    # every step links to the page of its own run in the tree, where its artifacts are
    ui = urlparse(prefect_server_url(api))
    for row in steps:
        link = re.fullmatch(r'\[ouvrir\]\((\S+) "(.+)"\)', row["artifacts"])
        assert link, row
        target = urlparse(link[1])
        assert (target.scheme, target.netloc) == (ui.scheme, ui.netloc), link[1]
        run_id = re.fullmatch(r"/runs/flow-run/([0-9a-f-]{36})", target.path)[1]
        assert target.query == "tab=Artifacts"
        assert demo.tree[run_id] == STEP_FLOWS[row["step"]], row
        keys = link[2].split(", ")
        published = {
            a["key"]
            for a in api.post(
                "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}
            ).json()
        }
        if not row["outcome"].startswith("aucune relance"):  # a refused dunning publishes none
            assert set(keys) <= published, (row["step"], keys, published)


def test_reconciliation_artifacts_match_the_warehouse(demo: Demo, api: httpx.Client) -> None:
    """The reconciliation artifacts in French (the company's language when O2C_LANGUAGE is
    unset), every figure against the warehouse; rule and reason words from the report's own
    labels (what is checked here is that each figure sits beside the right one)."""
    summary = latest_artifact(api, "reconciliation")["data"]
    counts = {r[""]: count(r["nombre"]) for r in table_with(summary, "nombre")}
    ((transactions, settled, open_exceptions),) = sql(
        demo.db,
        """SELECT (SELECT count(*) FROM bank_transactions),
                  (SELECT count(DISTINCT transaction_id) FROM allocations),
                  (SELECT count(*) FROM reconciliation_exceptions WHERE status = 'open')""",
    )
    assert settled > 0 and open_exceptions > 0, "the demo company has both"
    assert counts["opérations bancaires examinées"] == transactions  # first run: all of them
    assert counts["rapprochées automatiquement"] == settled
    assert counts["à décider par la comptabilité"] == open_exceptions
    # What was allocated to invoices: one line per currency, never two currencies added.
    paid = sql(
        demo.db,
        "SELECT currency, sum(amount) FROM allocations WHERE kind = 'payment' GROUP BY currency",
    )
    assert paid, "the demo's payments are allocated"
    block = re.search(r"Montant affecté aux factures, par devise\s?:\n\n((?:- .+\n)+)", summary)
    assert block, "the summary says what was allocated, one line per currency"
    listed = sorted(money(line.removeprefix("- ")) for line in block[1].splitlines())
    assert listed == sorted((amount, cur) for cur, amount in paid)

    # Matched by rule and currency, then a total line per currency.
    rows = table_with(summary, "règle")
    by_rule = {
        (r["règle"], r["devise"]): (count(r["opérations"]), money(r["montant"]))
        for r in rows
        if not r["règle"].startswith("**")
    }
    expected = sql(
        demo.db,
        "SELECT rule, currency, count(DISTINCT transaction_id), sum(amount)"
        " FROM allocations GROUP BY rule, currency",
    )
    assert by_rule == {
        (rule_label(rule, "fr"), cur): (n, (amount, cur)) for rule, cur, n, amount in expected
    }
    totals = {
        r["devise"]: money(r["montant"].strip("*")) for r in rows if r["règle"].startswith("**")
    }
    assert totals == {
        cur: (sum(a for _, c, _, a in expected if c == cur), cur) for _, cur, _, _ in expected
    }

    # The exceptions table: the payment (date, amount, payer), why it waits, the numbered
    # candidates, what points to each, its text, then the ids.
    exceptions = json.loads(latest_artifact(api, "reconciliation-exceptions")["data"])
    assert exceptions, "the demo leaves exceptions to finance"
    columns = list(exceptions[0])
    pick = "Candidats"
    assert columns[:7] == ["Date", "Montant", "Payeur", "Motif", pick, "Indices", "Libellé"], (
        columns
    )
    assert columns[-3:] == ["Réf. banque", "IBAN payeur", "Opération (id)"], columns
    stored = {
        tx_id: rest
        for tx_id, *rest in sql(
            demo.db,
            """SELECT transaction_id, booking_date, amount, currency, counterparty_name,
                      coalesce(remittance_structured, remittance_unstructured), reason,
                      candidates, bank_reference, counterparty_iban
               FROM reconciliation_exceptions JOIN bank_transactions USING (transaction_id)
               WHERE status = 'open'""",
        )
    }
    shown = {r["Opération (id)"]: r for r in exceptions}
    assert len(shown) == len(exceptions) and set(shown) == set(stored)
    for tx_id, (booked, amount, cur, payer, text, reason, raw, bank_ref, iban) in stored.items():
        row = shown[tx_id]
        assert row["Date"] == f"{booked:%d/%m/%Y}", tx_id
        assert money(row["Montant"]) == (amount, cur), tx_id
        assert (row["Payeur"], row["Libellé"]) == (short_payer(payer), text), tx_id
        assert row["Motif"] == reason_label(reason, "fr"), tx_id
        assert (row["Réf. banque"], row["IBAN payeur"]) == (bank_ref, iban), tx_id
        candidates = json.loads(raw) if raw else []  # the demo's no_match lines have none
        # The best candidate's documents in the narrow column, every one numbered beside.
        if candidates:
            assert row[pick].startswith("1) " + " + ".join(candidates[0]["invoice_ids"])), tx_id
        numbers = [int(n) for n in re.findall(r"(?:^| ; )(\d+)\) ", row["Indices"])]
        assert numbers == list(range(1, len(candidates) + 1)), (tx_id, row["Indices"])
        for n, candidate in enumerate(candidates, start=1):
            entry = re.search(rf"(?:^| ; ){n}\) (.*?)(?= ; \d+\) |$)", row["Indices"])[1]
            assert all(i in entry for i in candidate["invoice_ids"]), (tx_id, n, entry)

    daily = table_with(latest_artifact(api, "o2c-daily")["data"], "Étape")
    steps = {r["Étape"]: r["Résultat"] for r in daily}
    assert steps["Rapprochement"] == f"{settled} rapprochées, {open_exceptions} à décider"


# Aging's groups as of a date, written here in SQL (issue 16): open items (open_items_at) and
# overpayment credits (unapplied_credits_at) per customer, legal entity and currency. A negative
# open amount is a credit; what is left on a partly paid invoice up to 25,00 (the shipped
# threshold) is a small balance; the rest is a debt, in the bucket of its due date, overdue when
# it was due before the date. Columns after the group: the name, overdue, credits, owed (debts
# and small balances), small balances and their count, the oldest days late among the debts,
# then the debts per bucket of BUCKETS.
AGING_GROUPS = f"""
    WITH items AS (
        SELECT customer_id, legal_entity, currency, due_date, amount_total, amount_open
        FROM open_items_at($as_of)
        UNION ALL
        SELECT customer_id, legal_entity, currency, due_date, amount_total, amount_open
        FROM unapplied_credits_at($as_of)
    ), kinds AS (
        SELECT *, amount_open > 0 AND amount_open < amount_total AND amount_open <= 25 AS small,
               amount_open > 0 AND NOT (amount_open < amount_total AND amount_open <= 25) AS debt,
               date_diff('day', due_date, $as_of) AS late
        FROM items
    )
    SELECT customer_id, coalesce(legal_entity, ''), currency, any_value(name),
           coalesce(sum(amount_open) FILTER (WHERE debt AND late > 0), 0),
           coalesce(sum(amount_open) FILTER (WHERE amount_open < 0), 0),
           coalesce(sum(amount_open) FILTER (WHERE amount_open > 0), 0),
           coalesce(sum(amount_open) FILTER (WHERE small), 0),
           count(*) FILTER (WHERE small),
           greatest(coalesce(max(late) FILTER (WHERE debt), 0), 0),
           {
    ", ".join(
        "coalesce(sum(amount_open) FILTER (WHERE debt AND late"
        f" BETWEEN {-100_000 if lo is None else lo} AND {100_000 if hi is None else hi}), 0)"
        for lo, hi in BUCKETS.values()
    )
}
    FROM kinds LEFT JOIN (SELECT customer_id, name FROM customers) c USING (customer_id)
    GROUP BY customer_id, legal_entity, currency
"""
# The by-customer table's bucket columns, in the order of BUCKETS.
SHORT_BUCKETS = ("Non échu", "1-30", "31-60", "61-90", "91-120", "> 120")


def units(amount: Decimal) -> int:
    """An amount to the unit, half up, as the by-customer table shows the buckets."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_aging_artifacts_match_the_warehouse(demo: Demo, api: httpx.Client) -> None:
    summary = latest_artifact(api, "aging-summary")["data"]
    as_of = demo.as_of
    assert f"# Balance âgée au {as_of:%d/%m/%Y}" in summary  # French words and dates
    with duckdb.connect(demo.db, read_only=True) as con:
        groups = con.execute(AGING_GROUPS, {"as_of": as_of}).fetchall()
    assert groups, "the demo company has open items"
    assert any(g[5] for g in groups), "and customers with credits"

    # What is owed and overdue, one line per currency; the figures alone (the line names it).
    owed = {r["Devise"]: r for r in table_with(summary, "Total dû")}
    debts = {r["Devise"]: r for r in table_with(summary, "non échu")}
    small = (
        {r["Devise"]: r for r in table_with(summary, "Seuil")} if any(g[8] for g in groups) else {}
    )
    currencies = {g[2] for g in groups}
    assert set(owed) == set(debts) == currencies, (owed, debts, currencies)
    assert set(small) == {g[2] for g in groups if g[8]}
    for cur in currencies:
        mine = [g for g in groups if g[2] == cur]
        overdue, credits, total, small_total, small_items = (
            sum(g[i] for g in mine) for i in (4, 5, 6, 7, 8)
        )
        net_overdue = sum(max(g[4] + g[5], 0) for g in mine)
        by_bucket = [sum(g[10 + i] for g in mine) for i in range(len(BUCKETS))]
        row = owed[cur]
        assert money(row["Échu"]) == (overdue, None), cur
        assert money(row["Échu net"]) == (net_overdue, None), cur
        assert money(row["Total dû"]) == (total, None), cur
        assert money(row["Crédits"]) == (credits, None), cur
        assert money(row["Solde net"]) == (total + credits, None), cur
        assert count(row["Clients"]) == len({g[0] for g in mine}), cur
        assert [money(debts[cur][label]) for label in BUCKETS] == [(b, None) for b in by_bucket]
        assert sum(by_bucket) + small_total == total, cur
        if cur in small:
            assert count(small[cur]["Pièces"]) == small_items, cur
            assert money(small[cur]["Total"]) == (small_total, None), cur
            assert count(small[cur]["Clients"]) == len({g[0] for g in mine if g[8]}), cur

    # Per customer: who, in which currency, overdue, net of credits, days late, total, grade,
    # (the entity when several), credits, small balances, the buckets, the account id last.
    table = json.loads(latest_artifact(api, "aging-by-customer")["data"])
    entities = {g[1] for g in groups}
    columns = ["Client", "Dev.", "Échu", "Échu net", "Retard (j)", "Total", "Cote"]
    columns += ["Entité"] * (len(entities) > 1)
    columns += ["Crédits", "Petits soldes", *SHORT_BUCKETS, "Compte"]
    assert all(list(r) == columns for r in table), (list(table[0]), columns)
    (only_entity,) = entities if len(entities) == 1 else ("",)
    keyed = {(r["Compte"], r.get("Entité", only_entity), r["Dev."]): r for r in table}
    assert len(keyed) == len(table), "one row per customer, entity and currency"
    assert set(keyed) == {g[:3] for g in groups}
    for (
        customer,
        entity,
        cur,
        name,
        overdue,
        credits,
        total,
        small_total,
        _,
        late,
        *by_bucket,
    ) in groups:
        row = keyed[(customer, entity, cur)]
        assert row["Client"] == (name or customer), customer
        assert money(row["Échu"]) == (overdue, None), customer
        assert money(row["Échu net"]) == (max(overdue + credits, 0), None), customer
        assert money(row["Total"]) == (total, None), customer
        assert money(row["Crédits"]) == (credits, None), customer
        assert money(row["Petits soldes"]) == (small_total, None), customer
        assert row["Retard (j)"] == late, customer
        assert [count(row[label]) for label in SHORT_BUCKETS] == [units(b) for b in by_bucket]

    # The chart is inside the artifact (an image the UI draws), one per currency, nothing on disk.
    chart = latest_artifact(api, "aging-chart")
    assert (
        chart["description"]
        == f"Graphique de la balance âgée au {as_of:%d/%m/%Y}\u00a0: tranches sur les derniers instantanés"
    )
    images = re.findall(
        r"!\[Encours en (\w{3}) par tranche\]\(data:image/svg\+xml;base64,", chart["data"]
    )
    assert sorted(images) == sorted(currencies)
    assert "file:" not in chart["data"]


def png_size_and_rows(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct scanlines) of an 8-bit PNG, with the standard library only.

    A blank page (one colour) compresses to a handful of identical filtered scanlines; a page
    with text and tables has hundreds of different ones.
    """
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None, f"{path}: no IHDR"
    width, height, depth, colour = header[:4]
    assert depth == 8, f"{path}: bit depth {depth}"
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = 1 + width * channels
    rows = {raw[i : i + stride] for i in range(0, len(raw), stride)}
    return width, height, len(rows)


def chromium(url: str, png: Path, profile: Path, log: Path) -> str:
    """Headless Chromium: the page's DOM after the app settled, and its screenshot."""
    args = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--window-size=1400,1000",
        "--virtual-time-budget=15000", "--dump-dom", f"--screenshot={png}", url,
    ]  # fmt: skip
    with open(log, "ab") as err:
        done = subprocess.run(
            args, stdout=subprocess.PIPE, stderr=err, timeout=90, env=clean_env(), check=False
        )
    assert done.returncode == 0, f"chromium exited with {done.returncode} on {url}, see {log}"
    return done.stdout.decode("utf-8", errors="replace")


@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)
def test_run_pages_show_the_artifacts_in_chromium(
    demo: Demo, prefect_server: PrefectServer, api: httpx.Client, tmp_path: Path
) -> None:
    aging_id = latest_artifact(api, "aging-summary")["flow_run_id"]
    summary = latest_artifact(api, "aging-summary")
    owed = table_with(summary["data"], "Total dû")
    eur_total = {r["Devise"]: r["Total dû"] for r in owed}.get("EUR")
    assert eur_total, "the demo company invoices in EUR"
    ui = f"{prefect_server.url}/v2"  # the UI a browser lands on from the server's root URL
    pages = {
        # the day's run: its subflows in the timeline (a canvas), its own artifact in the tab
        "o2c-daily-run": (
            f"{ui}/runs/flow-run/{demo.daily_id}?tab=Artifacts",
            [demo.daily_name, "Completed", "o2c-daily", f"Journée du {demo.as_of:%d/%m/%Y}"],
        ),
        # the aging subflow: the three artifacts finance reads
        "aging-run": (
            f"{ui}/runs/flow-run/{aging_id}?tab=Artifacts",
            ["aging-summary", "aging-by-customer", "aging-chart"],
        ),
        # the summary itself, rendered: the EUR total must be on the page
        "aging-summary": (
            f"{ui}/artifacts/artifact/{summary['latest_id']}",
            [f"Balance âgée au {demo.as_of:%d/%m/%Y}", eur_total],
        ),
    }
    shots = []
    for name, (url, expected) in pages.items():
        png = tmp_path / f"{name}.png"
        dom = chromium(url, png, tmp_path / "chromium-profile", tmp_path / "chromium.log")
        # Whitespace folded on both sides: amounts use no-break spaces (U+202F) between thousands.
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())
        missing = [word for word in expected if " ".join(word.split()) not in text]
        assert not missing, f"{url}: {missing} not on the page (screenshot {png})"
        assert png.is_file() and png.stat().st_size > 20_000, f"{png}: missing or nearly empty"
        width, height, distinct = png_size_and_rows(png)
        assert (width, height) == (1400, 1000)
        assert distinct > 100, f"{png}: {distinct} distinct lines of pixels, a blank page?"
        shots.append(png)
    print("screenshots:", *shots, sep="\n  ")


# The Prefect UIs a finance user lands on: the classic one at the server's root, the newer one
# under /v2 (Prefect 3.8 offers both, "Switch to V2 UI").
UIS = {"classic": "", "v2": "/v2"}
SCREEN = {"width": 1366, "height": 768}
CHART_ALT = "Encours en {} par tranche"
# The columns a decision needs, which must be on screen without scrolling sideways (French: the
# company's language when O2C_LANGUAGE is unset).
DECIDING_COLUMNS = {
    "aging-summary": ("Devise", "Échu", "Échu net", "Total dû", "Clients"),
    "aging-by-customer": ("Client", "Dev.", "Échu", "Échu net", "Retard (j)", "Total", "Cote"),
    # what finance decides an exception with: the payment, why it waits, its candidates
    "reconciliation-exceptions": ("Date", "Montant", "Payeur", "Motif", "Candidats"),
    # a statement's balance check: its result first, then the figures behind it
    "bank-ingestion": ("Résultat", "Compte", "Dev.", "Ouverture", "Mouvements", "Clôture"),
}


def on_screen(page, locator, settle: float = 5.0) -> dict:
    """Where an element is drawn and whether it is what a person sees at its centre (not
    under a side panel): its box, and the element the browser hits at that point. Asked again
    for a few seconds while the page still settles (the newer UI animates in)."""
    locator.wait_for(state="visible", timeout=30_000)
    deadline = time.monotonic() + settle
    while True:
        where = locator.evaluate(
            """el => { const r = el.getBoundingClientRect();
                       const hit = document.elementFromPoint(r.left + r.width / 2,
                                                             r.top + r.height / 2);
                       return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                               seen: el === hit || el.contains(hit),
                               hit: hit ? hit.outerHTML.slice(0, 200) : null}; }"""
        )
        if where["seen"] or time.monotonic() > deadline:
            return where
        page.wait_for_timeout(250)


@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)
@pytest.mark.parametrize("ui", UIS)
def test_overdue_is_on_screen_at_1366_and_the_chart_renders(
    demo: Demo, prefect_server: PrefectServer, api: httpx.Client, tmp_path: Path, ui: str
) -> None:
    """Playwright drives Debian's Chromium (no browser download) at 1366×768, as issue 16's
    acceptance asks: the Overdue column of both aging artifacts, its header and its first
    figure, the exceptions' reason (header and first cell), the bank balance check's result,
    and the other columns a decision needs are inside the viewport and not covered; each
    currency's chart is drawn."""
    sync_api = pytest.importorskip("playwright.sync_api")
    summary = latest_artifact(api, "aging-summary")
    exceptions = json.loads(latest_artifact(api, "reconciliation-exceptions")["data"])
    bank = latest_artifact(api, "bank-ingestion")["data"]
    # the one figure or word of each table whose cell must be seen (first row)
    first_overdue = {
        "aging-summary": ("Échu", table_with(summary["data"], "Total dû")[0]["Échu"]),
        "aging-by-customer": (
            "Échu",
            json.loads(latest_artifact(api, "aging-by-customer")["data"])[0]["Échu"],
        ),
        "reconciliation-exceptions": ("Motif", exceptions[0]["Motif"]),
        "bank-ingestion": ("Résultat", table_with(bank, "Résultat")[0]["Résultat"]),
    }
    chart = latest_artifact(api, "aging-chart")
    currencies = re.findall(r"!\[Encours en (\w{3}) par tranche\]", chart["data"])
    assert currencies, "the chart artifact has a chart per currency"
    with sync_api.sync_playwright() as play:
        browser = play.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=SCREEN)
            for key, (column, figure) in first_overdue.items():
                artifact = latest_artifact(api, key)
                url = f"{prefect_server.url}{UIS[ui]}/artifacts/artifact/{artifact['latest_id']}"
                page.goto(url, wait_until="networkidle")
                if key == "bank-ingestion":  # below the counts: its heading brought to the top
                    heading = page.get_by_role("heading", name="Contrôle des soldes").first
                    heading.wait_for(state="visible", timeout=30_000)
                    heading.evaluate("h => h.scrollIntoView({block: 'start'})")
                # the table with that column (the bank artifact has others before it)
                table = page.locator("table").filter(
                    has=page.locator("th").filter(has_text=re.compile(rf"^\s*{column}\s*$"))
                )
                # any space between words (amounts use U+202F), Markdown's escapes out
                text = r"\s*".join(map(re.escape, figure.replace("\\", "").split()))
                cell = table.first.locator("td").filter(has_text=re.compile(rf"^\s*{text}\s*$"))
                shown = [(f"{column} of the first row", cell.first)] + [
                    (
                        head,
                        table.first.locator("th").filter(
                            has_text=re.compile(rf"^\s*{re.escape(head)}\s*$")
                        ),
                    )
                    for head in DECIDING_COLUMNS[key]
                ]
                widths = {}
                for what, locator in shown:
                    where = on_screen(page, locator.first)
                    widths[what] = round(where["right"])
                    page.screenshot(path=tmp_path / f"{ui}-{key}.png")
                    assert where["left"] >= 0 and where["right"] <= SCREEN["width"], (
                        key,
                        what,
                        where,
                    )
                    assert where["bottom"] <= SCREEN["height"], (key, what, where)
                    assert where["seen"], f"{key}: {what} under {where['hit']} ({tmp_path})"
                print(f"{ui} {key}: right edge (px) at {SCREEN['width']} wide: {widths}")
            page.goto(
                f"{prefect_server.url}{UIS[ui]}/artifacts/artifact/{chart['latest_id']}",
                wait_until="networkidle",
            )
            for cur in currencies:
                image = page.locator(f'img[alt="{CHART_ALT.format(cur)}"]')
                for _ in range(20):  # the newer UI renders the markdown twice as it loads
                    try:
                        image.scroll_into_view_if_needed(timeout=5_000)
                        drawn = image.evaluate("i => [i.complete, i.naturalWidth, i.naturalHeight]")
                        break
                    except sync_api.Error:
                        page.wait_for_timeout(500)
                else:
                    raise AssertionError(f"{cur}: the chart image never settled on {page.url}")
                assert drawn[0] and drawn[1] > 0 and drawn[2] > 0, (cur, drawn)
                where = on_screen(page, image)
                assert where["right"] <= SCREEN["width"] and where["seen"], (cur, where)
            page.screenshot(path=tmp_path / f"{ui}-aging-chart.png")
        finally:
            browser.close()
