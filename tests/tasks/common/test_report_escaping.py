"""The load and reconciliation summaries with hostile outside text: rendered, nothing runs.

(The aging summary and HTML report have theirs in tests/tasks/aging/test_report.py.)
"""

from __future__ import annotations

from decimal import Decimal

from o2c.tasks.bank.report import summary_markdown as bank_summary
from o2c.tasks.bank.statements.balance import BalanceCheck
from o2c.tasks.bank.store import BankLoadResult
from o2c.tasks.erp.report import summary_markdown as erp_summary
from o2c.tasks.erp.store import LoadResult
from o2c.tasks.reconciliation.report import summary_markdown as reconciliation_summary
from tests.markdown_render import assert_inert, render

HOSTILE_ID = "STMT|1|<img src=x onerror=alert(1)>|[x](javascript:alert(1))"


def tables_keep_their_columns(tree) -> None:
    for table in tree.xpath("//table"):
        width = len(table.xpath("thead/tr/th"))
        assert all(len(tr.xpath("td")) == width for tr in table.xpath("tbody/tr"))


def test_a_hostile_statement_id_in_the_bank_report_is_inert():
    check = BalanceCheck(
        HOSTILE_ID,
        "FR76\r\n| 0 | 0 |",
        "EU|R",
        Decimal("1000.00"),
        Decimal("-250.50"),
        Decimal("749.50"),
        Decimal("0"),
        "unbalanced",
        "entries in ![t](http://evil/beacon.png), statement in EUR",
    )
    result = BankLoadResult(7, "loaded", 1, 1, 3, 3, 0, [check], "camt`.xml`<b>", "ab" * 32)
    tree = render(bank_summary(result))
    assert_inert(tree, "h1", "h2")
    tables_keep_their_columns(tree)
    assert tree.xpath("//h1/code")[0].text_content() == "camt`.xml`<b>"
    cells = [td.text_content() for td in tree.xpath("//table")[1].xpath("tbody/tr/td")]
    # the result first (in French by default), the statement's id last
    assert cells[0] == "déséquilibré (opérations en ![t](http://evil/beacon.png), relevé en EUR)"
    assert cells[1:3] == ["FR76 | 0 | 0 |", "EU|R"]
    # the amounts stay under opening, movements, closing
    assert cells[3:6] == ["1\u202f000,00", "-250,50", "749,50"]
    assert cells[6] == HOSTILE_ID


def test_a_hostile_file_name_in_the_erp_report_is_a_code_span():
    result = LoadResult(
        "invoices", "x`</code><script>alert(1)</script>`.csv", "cd" * 32, "loaded", 1, 2, 2
    )
    tree = render(erp_summary(result))
    assert_inert(tree, "h1")
    assert tree.xpath("//h1/code")[0].text_content() == result.file_name
    tables_keep_their_columns(tree)


def test_reasons_and_decisions_keep_the_reconciliation_tables():
    stats = {
        "transactions": 3,
        "settled": 1,
        "exceptions": 2,
        "amount_matched_cents": 123_456,
        "exceptions_by_reason": {"no_match": 1, "odd | reason\nhere": 1},
    }
    tree = render(reconciliation_summary(stats, {"applied": 1}))
    assert_inert(tree, "h1", "h2", "ul", "li")
    tables_keep_their_columns(tree)
    assert "Montant affecté aux factures : 1\u202f234,56" in tree.text_content()
