"""Finance decides the paused reconcile run's exceptions in the Prefect UI, in Chromium (issue 16).

Real parts only: `prefect server start`, the reconcile flow in its own process, and Debian's
Chromium driven by Playwright (no browser download) at 1366x768, used as a credit controller
would: the flow run's "Resume" button opens the form, every choice is made by clicking, only
"Décidé par" and an amount are typed. Then the run's end state, the warehouse (SQL) and the
reconciliation artifact, opened in the same browser, say what happened.
"""

from __future__ import annotations

import os
import re
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from o2c.warehouse import connect

from .conftest import BIN, PrefectServer, Processes, wait_for
from .test_decide_in_ui import WAIT, _paused, _schema, _sections, _warehouse
from .test_finance_ui import on_screen

pytestmark = [pytest.mark.server, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
SCREEN = {"width": 1366, "height": 768}
# Screenshots go to the test's tmp folder; O2C_SCREENSHOTS=docs/screenshots keeps them for the docs.
SHOTS_ENV = "O2C_SCREENSHOTS"
SPLIT = "Répartir selon les lignes ci-dessous"
DECIDED_BY = "Claire Martin (recouvrement)"


def _heading(field: str, schema: dict) -> str:
    """What the UI writes above a field: its title, else its name made readable."""
    prop = schema["properties"][field]
    return prop.get("title") or field.replace("_", " ").capitalize()


def _property(scope, heading: str):
    """The form's property whose own label starts with ``heading`` (the UI adds "(Optional)")."""
    return scope.locator(
        "xpath=.//div[contains(concat(' ', @class, ' '), ' schema-form-property ')]"
        "[./div[contains(@class, 'p-label__header')]"
        f"//span[contains(@class, 'schema-form-property__label')][starts-with(., \"{heading}\")]]"
    ).first


def _choose(page, prop, option: str, shot: Path | None = None) -> None:
    """Open a property's select by its arrow and click the option whose text starts with
    ``option``. (In headless Chromium a click on the select's text leaves its list closed; a
    click on its arrow opens it.)"""
    prop.locator(".p-select-button__icon").first.click(force=True)
    choice = page.locator(".p-select-option").filter(
        has_text=re.compile(r"^\s*" + re.escape(option))
    )
    choice.first.wait_for(state="visible", timeout=30_000)
    if shot is not None:
        page.screenshot(path=shot)
    choice.first.click()
    page.keyboard.press("Escape")  # a multiple select stays open after a click


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
def test_finance_clicks_a_candidate_in_chromium_and_a_refused_split_is_reported(
    o2c_env: dict[str, str],
    procs: Processes,
    api: httpx.Client,
    prefect_server: PrefectServer,
    tmp_path: Path,
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    db = Path(o2c_env["O2C_DB"])
    _warehouse(db)  # B2 (100,00) with ranked candidates FA-1/FA-2; B3 (7,00) without
    procs.run("o2c-init", [str(BIN / "o2c"), "init"], timeout=WAIT)
    code = "from o2c.flows.reconcile import reconcile; reconcile(ask_finance=True, wait_minutes=5)"
    runner = procs.start("reconcile", [sys.executable, "-c", code])
    run = wait_for("the reconcile run to pause for finance", lambda: _paused(api),
                   timeout=WAIT, context=procs.report)  # fmt: skip
    schema = _schema(api, run)
    sections = _sections(schema)
    b2 = next(s for t, s in sections.items() if t.startswith("06/11/2026 · 100,00"))
    b3 = next(s for t, s in sections.items() if t.startswith("07/11/2026 · 7,00"))
    candidate_1 = next(c for c in b2["properties"]["decision"]["enum"] if c.startswith("1) "))
    invoice = candidate_1.split(")", 1)[1].split(" · ")[0].strip()  # "1) FA-1 · …"
    other = "FA-2" if invoice == "FA-1" else "FA-1"  # still open after candidate 1

    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as play:
        browser = play.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=SCREEN)
            page.goto(f"{prefect_server.url}/runs/flow-run/{run['id']}", wait_until="networkidle")
            page.get_by_role("button", name="Resume").first.click()
            modal = page.locator(".p-modal").filter(has_text="Resume Flow Run")
            modal.wait_for(state="visible", timeout=30_000)

            # The 100,00 from Dupont: its first ranked candidate, by clicking.
            first = _property(modal, _heading(b2["field"], schema))
            _choose(page, _property(first, "Décision"), "1) ", shots / "decide-choices.png")
            # The 7,00: a split of 50,00 on the other open invoice, which the form lets
            # through (a well-formed amount) and the run must refuse (more than the payment).
            second = _property(modal, _heading(b3["field"], schema))
            _choose(page, _property(second, "Décision"), SPLIT)
            split = _property(second, "Répartition")
            split.get_by_role("button", name="Add item").click()
            _choose(page, _property(split, "Facture"), other)
            _property(split, "Montant").locator("textarea, input").first.fill("50,00")
            # Without a name the form is not sent: the run waits and nothing chosen is lost.
            modal.get_by_role("button", name="Submit").click()
            page.wait_for_timeout(3_000)
            assert modal.is_visible()
            modal.locator(".p-modal__body").first.evaluate("b => b.scrollTop = 0")
            page.screenshot(path=shots / "decide-no-name.png")
            state = api.get(f"/flow_runs/{run['id']}").raise_for_status().json()["state_type"]
            assert state == "PAUSED"
            decision = _property(first, "Décision").locator(".p-select-button__value")
            assert decision.inner_text().startswith("1) ")
            _property(modal, "Décidé par").locator("textarea, input").first.fill(DECIDED_BY)

            # What finance sees before submitting, the whole form at the screen's width.
            page.set_viewport_size({"width": SCREEN["width"], "height": 2000})
            modal.locator(".p-modal__body").first.evaluate("b => b.scrollTop = 0")
            page.screenshot(path=shots / "decide-form.png")
            page.set_viewport_size(SCREEN)
            modal.get_by_role("button", name="Submit").click()

            runner.wait(timeout=WAIT)
            final = api.get(f"/flow_runs/{run['id']}").raise_for_status().json()
            assert final["state_type"] == "COMPLETED", final["state"]

            with connect(db, read_only=True) as con:
                allocated = con.execute(
                    """SELECT t.bank_reference, a.invoice_id, a.amount, a.rule FROM allocations a
                       JOIN bank_transactions t USING (transaction_id) ORDER BY 1"""
                ).fetchall()
                still_open = con.execute(
                    """SELECT t.bank_reference FROM reconciliation_exceptions e
                       JOIN bank_transactions t USING (transaction_id) WHERE e.status = 'open'"""
                ).fetchall()
                decided = con.execute(
                    """SELECT t.bank_reference, d.invoice_id, d.decided_by, d.source
                       FROM reconciliation_decisions d JOIN bank_transactions t
                       USING (transaction_id)"""
                ).fetchall()
            assert allocated == [
                ("B1", "FA-3", Decimal("200.00"), "invoice_number"),
                ("B2", invoice, Decimal("100.00"), "manual"),
            ]
            assert still_open == [("B3",)]
            assert decided == [("B2", invoice, DECIDED_BY, "ui")]  # the refused line kept nothing

            (artifact,) = (
                api.post(
                    "/artifacts/filter",
                    json={
                        "artifacts": {
                            "key": {"any_": ["reconciliation"]},
                            "flow_run_id": {"any_": [run["id"]]},
                        },
                        "sort": "CREATED_DESC",
                        "limit": 1,
                    },
                )
                .raise_for_status()
                .json()
            )
            summary = artifact["data"].replace("\\", "")
            assert "1 appliquée(s), 1 refusée(s)" in summary
            assert "07/11/2026 · 7,00\u00a0EUR · DUPONT SARL · ACOMPTE" in summary
            refused = "plus que le paiement de 7,00"  # store.py's reason, worded in French
            assert refused in summary, summary

            # The artifact as finance opens it: the refused line and its reason on screen, inside
            # the 1366 px width (the reason comes before the long payment words).
            page.goto(
                f"{prefect_server.url}/artifacts/artifact/{artifact['id']}",
                wait_until="networkidle",
            )
            reason = page.locator("td").filter(has_text=refused).first
            reason.wait_for(state="visible", timeout=30_000)
            heading = page.get_by_role("heading", name="Décisions").first
            heading.evaluate("h => h.scrollIntoView({block: 'start'})")
            page.screenshot(path=shots / "decide-result.png")
            where = on_screen(page, reason)
            assert where["left"] >= 0 and where["right"] <= SCREEN["width"], where
            assert where["seen"], where
            assert "7,00" in page.locator("table").filter(has=reason).first.inner_text()
        finally:
            browser.close()
