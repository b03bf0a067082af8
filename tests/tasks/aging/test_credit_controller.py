"""Aging as a credit controller reads it (issue 16), on a small hand-written ledger in a real
DuckDB warehouse, every figure computed by hand below.

As of 2026-06-30, settings at their defaults (small balance 25,00, DSO needs 1 000,00 of revenue
over 90 days) unless a test says otherwise:

C1 Dupont SARL, EUR
  I1   1 000,00  due 01/05 (60 days late, 31-60)   unpaid
  I2     500,00  due 20/06 (1-30)                  490,00 paid 25/06: 10,00 left, a small balance
  I3     300,00  due 30/07                         not yet due
  CN1   -150,00  credit note                       an unapplied credit
  I4     200,00  due 01/06                         paid by T9 (240,00 on 15/06): 40,00 overpaid
  -> debts 1 000 + 300, small balance 10, credits -150 - 40 = -190
     total owed 1 310,00; net balance 1 120,00; overdue 1 000,00, net of credits 810,00
C3 Gamma SA, EUR
  I30    100,00  due 15/05                         T20 (150,00 on 01/06) paid it and 50,00 more;
                                                   T21 (-150,00 on 20/06) returned the transfer
  -> on 30/06: 100,00 open, 46 days late (31-60), no credit; on 10/06: nothing owed, 50,00 credit
C2 Leftovers Ltd, GBP: I20 100,00 (87,50 paid: 12,50 left), I21 80,00 (55,00 paid: 25,00 left)
  -> only small balances: 37,50 GBP over 2 items, no late payer
C4 Brit Ltd, GBP: I40 1 000,00 due 31/05 (30 days), I42 20,00 due 29/06 (1 day), both unpaid
  -> overdue 1 020,00 GBP (a 20,00 invoice nobody paid is a debt, not a leftover)
C5 Yankee Inc, USD: I50 117,00 due 31/05, unpaid: 117,00 USD of revenue over 90 days
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from o2c.tasks.aging import store
from o2c.tasks.aging.pipeline import compute_aging
from o2c.tasks.aging.report import NOT_MEANINGFUL, customer_table, late_payers, summary_markdown
from o2c.tasks.aging.settings import AgingSettings
from o2c.tasks.aging.workbook import aging_workbook_views, write_aging_workbook
from o2c.tasks.common.language import company_language
from o2c.warehouse import connect

AS_OF = date(2026, 6, 30)
DEFAULTS = AgingSettings.model_construct()
NB, NNB = "\u00a0", "\u202f"


def _invoice(con, invoice_id, customer, currency, total, issued, due, doc="invoice"):
    con.execute(
        "INSERT INTO invoices (invoice_id, document_type, customer_id, legal_entity, issue_date,"
        " due_date, currency, amount_total, row_hash, first_loaded_at, updated_at)"
        " VALUES (?, ?, ?, 'FR01', ?, ?, ?, ?, 'h', now(), now())",
        [invoice_id, doc, customer, issued, due, currency, total],
    )


def _transaction(con, transaction_id, currency, amount, booked):
    con.execute(
        "INSERT INTO bank_transactions (transaction_id, account_iban, currency, booking_date,"
        " amount, source, loaded_at) VALUES (?, 'FR7630001007941234567890185', ?, ?, ?,"
        " 'camt.053', now())",
        [transaction_id, currency, booked, amount],
    )


def _allocation(con, allocation_id, transaction_id, invoice_id, customer, amount, currency,
                kind="payment", reverses=None):  # fmt: skip
    con.execute(
        "INSERT INTO allocations VALUES (?, ?, ?, ?, ?, ?, ?, 'reference', 1.0, ?, NULL,"
        " TIMESTAMP '2026-06-30 20:00')",
        [allocation_id, transaction_id, invoice_id, customer, amount, currency, kind, reverses],
    )


def _pay(con, tx, invoice_id, customer, currency, amount, booked):
    _transaction(con, tx, currency, amount, booked)
    _allocation(con, f"A-{tx}", tx, invoice_id, customer, amount, currency)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("aging") / "o2c.duckdb"
    with connect(path) as con:
        for customer, name in [
            ("C1", "Dupont SARL"),
            ("C2", "Leftovers Ltd"),
            ("C3", "Gamma SA"),
            ("C4", "Brit Ltd"),
            ("C5", "Yankee Inc"),
        ]:
            con.execute(
                "INSERT INTO customers (customer_id, name, row_hash, updated_at)"
                " VALUES (?, ?, 'h', now())",
                [customer, name],
            )
        _invoice(con, "I1", "C1", "EUR", "1000.00", "2026-04-02", "2026-05-01")
        _invoice(con, "I2", "C1", "EUR", "500.00", "2026-05-21", "2026-06-20")
        _invoice(con, "I3", "C1", "EUR", "300.00", "2026-06-30", "2026-07-30")
        _invoice(con, "CN1", "C1", "EUR", "-150.00", "2026-06-10", "2026-06-10", "credit_note")
        _invoice(con, "I4", "C1", "EUR", "200.00", "2026-05-02", "2026-06-01")
        _pay(con, "T2", "I2", "C1", "EUR", "490.00", "2026-06-25")
        # T9 pays I4 and 40,00 more: an overpayment credit, as reconciliation writes it
        _transaction(con, "T9", "EUR", "240.00", "2026-06-15")
        _allocation(con, "A-T9", "T9", "I4", "C1", "200.00", "EUR")
        _allocation(con, "A-T9-credit", "T9", None, "C1", "40.00", "EUR", "unapplied_credit")
        # C3: paid with 50,00 more, then the transfer came back: the credit is undone too
        _invoice(con, "I30", "C3", "EUR", "100.00", "2026-04-15", "2026-05-15")
        _transaction(con, "T20", "EUR", "150.00", "2026-06-01")
        _allocation(con, "A-T20", "T20", "I30", "C3", "100.00", "EUR")
        _allocation(con, "A-T20-credit", "T20", None, "C3", "50.00", "EUR", "unapplied_credit")
        _transaction(con, "T21", "EUR", "-150.00", "2026-06-20")
        _allocation(con, "R-1", "T21", "I30", "C3", "-100.00", "EUR", "reversal", "A-T20")
        _allocation(con, "R-2", "T21", None, "C3", "-50.00", "EUR", "reversal", "A-T20-credit")
        _invoice(con, "I20", "C2", "GBP", "100.00", "2026-04-01", "2026-05-01")
        _invoice(con, "I21", "C2", "GBP", "80.00", "2026-04-01", "2026-05-01")
        _pay(con, "T30", "I20", "C2", "GBP", "87.50", "2026-05-10")
        _pay(con, "T31", "I21", "C2", "GBP", "55.00", "2026-05-10")
        _invoice(con, "I40", "C4", "GBP", "1000.00", "2026-05-01", "2026-05-31")
        _invoice(con, "I42", "C4", "GBP", "20.00", "2026-05-30", "2026-06-29")
        _invoice(con, "I50", "C5", "USD", "117.00", "2026-05-01", "2026-05-31")
    return path


@pytest.fixture(scope="module")
def views(db: Path):
    with connect(db, read_only=True) as con:
        return compute_aging(con, as_of=AS_OF, settings=DEFAULTS)


def row(views, customer: str, currency: str) -> dict:
    frame = views.by_customer.filter(
        (pl.col("customer_id") == customer) & (pl.col("currency") == currency)
    )
    assert frame.height == 1, (customer, currency, frame)
    return frame.row(0, named=True)


def test_overpayment_credits_are_read_as_of_the_date(db: Path):
    with connect(db, read_only=True) as con:
        on_30_june = store.read_unapplied_credits(con, as_of=AS_OF)
        on_10_june = store.read_unapplied_credits(con, as_of=date(2026, 6, 10))
        on_14_may = store.read_unapplied_credits(con, as_of=date(2026, 5, 14))
    # T20's 50,00 was undone by T21 on 20/06: only T9's 40,00 is left on 30/06
    assert on_30_june.select("invoice_id", "customer_id", "amount_open_cents").rows() == [
        ("T9", "C1", -4_000)
    ]
    assert on_30_june.row(0, named=True)["legal_entity"] == "FR01"  # that of I4, which T9 paid
    assert on_30_june.row(0, named=True)["due_date"] == date(2026, 6, 15)
    assert on_10_june.select("invoice_id", "amount_open_cents").rows() == [("T20", -5_000)]
    assert on_14_may.is_empty()


def test_credits_have_their_own_column_and_overdue_is_gross_and_net(views):
    c1 = row(views, "C1", "EUR")
    assert c1["customer_name"] == "Dupont SARL"
    # no bucket is negative: the credit note and the overpayment are credits
    assert (c1["not_due_cents"], c1["1_30_cents"], c1["31_60_cents"]) == (30_000, 0, 100_000)
    assert c1["credits_cents"] == -19_000  # -150,00 credit note, -40,00 overpaid
    assert c1["total_cents"] == 131_000  # 1 000 + 300 + 10,00 small balance
    assert c1["balance_cents"] == 112_000  # 1 310,00 - 190,00
    assert (c1["overdue_cents"], c1["overdue_net_cents"]) == (100_000, 81_000)
    assert c1["oldest_days_past_due"] == 60
    buckets = [views.buckets.column(k) for k in views.buckets.keys]
    assert views.by_customer.select(pl.min_horizontal(buckets).min()).item() >= 0
    c3 = row(views, "C3", "EUR")
    assert (c3["31_60_cents"], c3["credits_cents"], c3["overdue_net_cents"]) == (10_000, 0, 10_000)


def test_credits_larger_than_overdue_leave_nothing_overdue_net(db: Path):
    with connect(db, read_only=True) as con:
        early = compute_aging(con, as_of=date(2026, 6, 10), settings=DEFAULTS)
    # On 10/06 C3 owes nothing and holds the 50,00 credit of T20; C1 holds no credit yet, and
    # I1 (1 000,00) is 40 days late, I4 (200,00) 9 days, I2 not yet due
    c3 = row(early, "C3", "EUR")
    assert (c3["total_cents"], c3["credits_cents"], c3["balance_cents"]) == (0, -5_000, -5_000)
    assert (c3["overdue_cents"], c3["overdue_net_cents"]) == (0, 0)
    c1 = row(early, "C1", "EUR")
    assert (c1["overdue_cents"], c1["credits_cents"], c1["overdue_net_cents"]) == (
        120_000,
        -15_000,  # the credit note, issued on 10/06
        105_000,
    )


def test_small_balances_are_apart_and_never_late_payers(views):
    c1 = row(views, "C1", "EUR")
    assert (c1["small_balance_cents"], c1["small_balance_items"]) == (1_000, 1)
    assert c1["1_30_cents"] == 0  # I2's 10,00 is not a debt in 1-30
    c2 = row(views, "C2", "GBP")
    assert (c2["small_balance_cents"], c2["small_balance_items"]) == (3_750, 2)
    assert (c2["overdue_cents"], c2["overdue_net_cents"], c2["oldest_days_past_due"]) == (0, 0, 0)
    c4 = row(views, "C4", "GBP")
    assert (c4["1_30_cents"], c4["small_balance_items"]) == (102_000, 0)
    assert "C2" not in late_payers(views.by_customer, 10)["customer_id"].to_list()


def test_the_threshold_is_a_setting_per_currency(db: Path):
    settings = AgingSettings(small_balance_by_currency={"GBP": Decimal("20.00")})
    with connect(db, read_only=True) as con:
        views = compute_aging(con, as_of=AS_OF, settings=settings)
    c2 = row(views, "C2", "GBP")
    # I21's 25,00 is above 20,00 GBP: a debt due 01/05, 60 days late; I20's 12,50 stays apart
    assert (c2["small_balance_cents"], c2["31_60_cents"], c2["overdue_cents"]) == (
        1_250,
        2_500,
        2_500,
    )
    assert row(views, "C1", "EUR")["small_balance_cents"] == 1_000  # EUR keeps 25,00
    with pytest.raises(ValueError, match="ISO 4217"):
        AgingSettings(small_balance_by_currency={"euro": Decimal("1.00")})


def test_settings_come_from_the_environment(db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("O2C_AGING_SMALL_BALANCE", "5.00")
    monkeypatch.setenv("O2C_AGING_DSO_MIN_REVENUE_BY_CURRENCY", '{"USD": "100.00"}')
    with connect(db, read_only=True) as con:
        views = compute_aging(con, as_of=AS_OF)  # AgingSettings() read from O2C_AGING_*
    # 5,00: I2's 10,00 (due 20/06, 10 days late) is a debt again, C2's leftovers too
    c1 = row(views, "C1", "EUR")
    assert (c1["small_balance_cents"], c1["1_30_cents"], c1["overdue_cents"]) == (
        0,
        1_000,
        101_000,
    )
    assert row(views, "C2", "GBP")["overdue_cents"] == 3_750
    # USD needs 100,00 now: 117,00 is enough; 117,00 owed / 117,00 invoiced x 90 = 90 days
    usd = views.dso.filter(pl.col("currency") == "USD").row(0, named=True)
    assert (usd["dso_meaningful"], usd["dso_standard"]) == (True, 90.0)
    monkeypatch.setenv("O2C_AGING_SMALL_BALANCE", "a lot")
    with pytest.raises(ValueError, match="small_balance"):
        AgingSettings()


def test_late_payers_are_ranked_within_each_currency(views):
    late = late_payers(views.by_customer, 10)
    got = late.select("currency", "rank", "customer_id", "overdue_net_cents").rows()
    assert got == [
        ("EUR", 1, "C1", 81_000),
        ("EUR", 2, "C3", 10_000),
        ("GBP", 1, "C4", 102_000),
        ("USD", 1, "C5", 11_700),
    ]


def test_dso_is_not_meaningful_on_a_tiny_revenue(views):
    dso = {r["currency"]: r for r in views.dso.iter_rows(named=True)}
    # USD: 117,00 invoiced over 90 days, under the 1 000,00 default
    usd = dso["USD"]
    assert (usd["revenue_cents"], usd["dso_meaningful"]) == (11_700, False)
    assert (usd["dso_standard"], usd["dso_countback"]) == (None, None)
    # EUR: receivables 1 120,00 (C1) + 100,00 (C3) = 1 220,00, credits included; revenue
    # 1 000 + 500 + 300 - 150 + 200 + 100 = 1 950,00 issued from 02/04 (90 days up to 30/06);
    # 1 220 / 1 950 x 90 = 56.3 days
    eur = dso["EUR"]
    assert (eur["receivables_cents"], eur["revenue_cents"]) == (122_000, 195_000)
    assert (eur["dso_meaningful"], eur["dso_standard"]) == (True, 56.3)
    # GBP: I20 and I21 were issued on 01/04, 90 days before: out; 1 000 + 20 = 1 020,00 GBP
    assert (dso["GBP"]["revenue_cents"], dso["GBP"]["dso_meaningful"]) == (102_000, True)


def md_table(md: str, heading: str) -> list[dict]:
    """The first Markdown table after `heading`, as dicts of stripped cells."""
    lines = md.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    header = [c.strip() for c in lines[start].strip("|").split(" | ")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def test_summary_one_line_per_currency_and_what_it_says(views):
    md = summary_markdown(views.by_customer, views.dso, as_of=AS_OF, settings=views.settings)
    assert md.startswith("# Balance âgée au 30/06/2026")
    owed = md_table(md, "## Dû et échu, par devise")
    assert [r["Devise"] for r in owed] == ["EUR", "GBP", "USD"]
    eur = owed[0]
    # overdue 1 000,00 (C1) + 100,00 (C3); net 810,00 + 100,00; owed 1 310,00 + 100,00
    assert eur["Échu"] == f"1{NNB}100,00"
    assert eur["Échu net"] == "910,00"
    assert eur["Total dû"] == f"1{NNB}410,00"
    assert eur["Crédits"] == "-190,00"
    assert eur["Solde net"] == f"1{NNB}220,00"
    assert (eur["Clients"], owed[1]["Clients"]) == ("2", "2")
    small = md_table(md, "## Petits soldes, proposés en perte")
    assert small == [
        {"Devise": "EUR", "Pièces": "1", "Total": "10,00", "Clients": "1",
         "Seuil": "25,00"},
        {"Devise": "GBP", "Pièces": "2", "Total": "37,50", "Clients": "1",
         "Seuil": "25,00"},
    ]  # fmt: skip
    dso = {r["Devise"]: r for r in md_table(md, "## Délai moyen de paiement (DSO)")}
    assert (dso["USD"]["DSO standard"], dso["USD"]["DSO épuisement"]) == ("n.s.", "n.s.")
    assert dso["EUR"]["DSO standard"] == "56,3"
    assert f"n.s. : le DSO en USD (FR01) n'est pas significatif : 117,00{NB}USD facturés" in md
    assert f"sous les 1{NNB}000,00{NB}USD nécessaires" in md
    assert NOT_MEANINGFUL not in dso["EUR"].values()
    late = md.split("## Les 10 plus gros retards, par devise")[1]
    assert [r["Compte"] for r in md_table(late, "### EUR")] == ["C1", "C3"]
    assert [(r["#"], r["Client"]) for r in md_table(late, "### GBP")] == [("1", "Brit Ltd")]
    assert [r["#"] for r in md_table(late, "### USD")] == ["1"]
    assert "Leftovers Ltd" not in late


def test_customer_table_answers_first(views):
    rows = customer_table(views.by_customer, buckets=views.buckets, lang="fr")
    assert list(rows[0])[:7] == [
        "Client", "Dev.", "Échu", "Échu net", "Retard (j)", "Total", "Cote",
    ]  # fmt: skip
    first = rows[0]  # EUR, most overdue first: Dupont SARL
    assert (first["Client"], first["Compte"]) == ("Dupont SARL", "C1")
    assert (first["Échu"], first["Échu net"], first["Retard (j)"]) == (
        f"1{NNB}000,00",
        "810,00",
        60,
    )
    assert (first["Total"], first["Crédits"], first["Petits soldes"]) == (
        f"1{NNB}310,00",
        "-190,00",
        "10,00",
    )
    assert [r["Compte"] for r in rows] == ["C1", "C3", "C4", "C2", "C5"]
    english = customer_table(views.by_customer, buckets=views.buckets, lang="en")
    assert list(english[0])[:7] == [
        "Customer", "Cur.", "Overdue", "Net of credits", "Days late", "Total", "Grade",
    ]  # fmt: skip
    assert english[0]["Overdue"] == "1,000.00"


def test_an_english_company_reads_the_summary_in_english(views, monkeypatch):
    """O2C_LANGUAGE=en: the same figures, the English catalog's words, ISO dates."""
    monkeypatch.setenv("O2C_LANGUAGE", "en")
    settings = views.settings.model_copy(update={"lang": company_language()})
    md = summary_markdown(views.by_customer, views.dso, as_of=AS_OF, settings=settings)
    assert md.startswith("# Receivables aging as of 2026-06-30")
    eur = md_table(md, "## Owed and overdue, per currency")[0]
    assert (eur["Currency"], eur["Overdue"], eur["Overdue net of credits"]) == (
        "EUR", "1,100.00", "910.00",
    )  # fmt: skip
    assert "n/s: DSO in USD (FR01) is not meaningful" in md
    assert "## Top 10 late payers, per currency" in md
    assert "Échu" not in md and "Balance âgée" not in md


def test_workbook_same_order_and_credits(views, tmp_path: Path, db: Path):
    with connect(db, read_only=True) as con:
        history = store.read_dso_history(con)
    path = write_aging_workbook(
        tmp_path / "aging.xlsx",
        aging_workbook_views(views.by_customer, views.aged, history, buckets=views.buckets),
    )
    book = openpyxl.load_workbook(path)
    ws = book["By customer"]
    header = [c.value for c in ws[1]]
    assert header[:8] == [
        "Name", "Customer", "Entity", "Currency", "Overdue", "Overdue net of credits",
        "Oldest days late", "Total owed",
    ]  # fmt: skip
    c1 = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[1] == "C1")
    cell = dict(zip(header, c1, strict=True))
    assert cell["Overdue net of credits"] == pytest.approx(810.00)
    assert cell["Unapplied credits"] == pytest.approx(-190.00)
    assert cell["Small balances"] == pytest.approx(10.00)
    items = book["Open items"]
    kinds = {r[0]: (r[1], r[-1]) for r in items.iter_rows(min_row=2, values_only=True)}
    assert kinds["T9"] == ("overpayment", "unapplied credits")
    assert kinds["CN1"] == ("credit_note", "unapplied credits")
    assert kinds["I2"][1] == "small balances"
