"""The day's dunning actions as a sheet of the finance workbook, beside aging's four."""

from __future__ import annotations

import openpyxl

from o2c.tasks.aging import store as aging_store
from o2c.tasks.aging import workbook
from o2c.tasks.aging.pipeline import compute_aging
from o2c.tasks.channels.email import SmtpSettings, email_sender
from o2c.tasks.dunning import outbox, run
from o2c.tasks.dunning.journal import day_actions
from o2c.tasks.dunning.policy import load_policy
from o2c.warehouse import connect
from tests.tasks.dunning.run_fixtures import AS_OF, make_warehouse, write_policy


def test_the_workbook_gets_a_sheet_of_the_days_actions(tmp_path, monkeypatch):
    monkeypatch.delenv("O2C_SMTP_HOST", raising=False)
    db = make_warehouse(tmp_path)
    with connect(db) as con:
        day = run.plan_day(con, AS_OF, load_policy(write_policy(tmp_path)))
        run.enqueue_all(con, run.render_all(day.communications))
        # a customer name a spreadsheet would run as a formula, were it written as one
        con.execute("UPDATE customers SET name = '=HYPERLINK(1)' WHERE customer_id = 'C3'")
    outbox.send_pending(db, email_sender(SmtpSettings(), db=db))
    with connect(db, read_only=True) as con:
        views = compute_aging(con, as_of=AS_OF)
        sheets = workbook.aging_workbook_views(
            views.by_customer,
            views.aged,
            aging_store.read_dso_history(con, last=24, until=AS_OF),
            buckets=views.buckets,
            dunning_actions=day_actions(con, AS_OF),
        )
    path = workbook.write_aging_workbook(tmp_path / "finance.xlsx", sheets)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Summary by bucket", "By customer", "Open items", "DSO history", "Dunning actions"
    ]  # fmt: skip
    rows = list(book["Dunning actions"].iter_rows(values_only=True))
    assert rows[0][:8] == (
        "Customer", "Name", "Level", "Level name", "Channel", "Currency", "Amount due", "Status"
    )  # fmt: skip
    body = {r[0]: r for r in rows[1:]}
    assert set(body) == {"C1", "C2", "C3"}
    assert body["C1"][6] == 1500 and body["C1"][7] == "sent"  # 1 500,00 EUR as a number
    assert book["Dunning actions"]["G2"].number_format.endswith('"EUR"')
    assert body["C3"][1] == "=HYPERLINK(1)"  # kept as text
    cell = next(c for c in book["Dunning actions"]["B"] if c.value == "=HYPERLINK(1)")
    assert cell.data_type == "s"
