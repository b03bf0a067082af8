"""Finance approves a paused dunning run in the Prefect UI, in Chromium (issue 17).

Real parts only: `prefect server start`, the dunning flow in its own process (one level that
needs approval, three customers), and Debian's Chromium driven by Playwright at 1366x768: the
flow run's "Resume" button opens the approval form, one customer is excluded by picking it from
the select, a reason and "Décidé par" are typed, submitted. Then the .eml files, the warehouse's
exclusion and the outbox say who was written to.
"""

from __future__ import annotations

import email
import os
import sys
from pathlib import Path

import duckdb
import httpx
import pytest

from o2c.tasks.dunning.approval import default_until
from tests.tasks.dunning.run_fixtures import AS_OF, eml_files, make_warehouse, write_policy

from .conftest import BIN, PrefectServer, Processes, wait_for
from .test_browser_decide import CHROMIUM, SCREEN, SHOTS_ENV, _choose, _property
from .test_dunning_approval import SCRIPT, _paused

pytestmark = [pytest.mark.server, pytest.mark.browser]

DECIDED_BY = "Claire Martin (recouvrement)"
REASON = "litige commercial en cours"


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
def test_finance_excludes_one_customer_by_clicking_and_approves_the_rest(
    procs: Processes,
    api: httpx.Client,
    o2c_env: dict[str, str],
    prefect_server: PrefectServer,
    tmp_path: Path,
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    db = make_warehouse(tmp_path)
    assert str(db) == o2c_env["O2C_DB"]
    policy = write_policy(tmp_path, needs_approval=True)
    procs.run("init", [str(BIN / "o2c"), "init"], timeout=120)  # the warehouse's writer slot
    runner = procs.start("dunning", [sys.executable, "-c", SCRIPT, AS_OF.isoformat(), str(policy)])

    def paused() -> dict | None:
        procs.check_alive()
        return _paused(api)

    run = wait_for("the dunning run to pause", paused, timeout=180, context=procs.report)
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

            lines = _property(modal, "Ne pas envoyer à")
            lines.get_by_role("button", name="Add item").click()
            _choose(page, _property(lines, "Client ou facture"), "Client C2 · Martin SAS")
            _property(lines, "Motif").locator("textarea, input").first.fill(REASON)
            _property(modal, "Décidé par").locator("textarea, input").first.fill(DECIDED_BY)

            page.set_viewport_size({"width": SCREEN["width"], "height": 1400})
            page.screenshot(path=shots / "dunning-form.png")
            page.set_viewport_size(SCREEN)
            modal.get_by_role("button", name="Submit").click()
            assert runner.wait(timeout=180) == 0, procs.report()
        finally:
            browser.close()

    final = api.get(f"/flow_runs/{run['id']}").raise_for_status().json()
    assert final["state_type"] == "COMPLETED", final["state"]
    recipients = sorted(email.message_from_bytes(p.read_bytes())["To"] for p in eml_files(db))
    assert recipients == ["ap@acme.example", "compta@dupont.example"]  # Martin got nothing
    with duckdb.connect(str(db), read_only=True) as con:
        exclusions = con.execute(
            "SELECT customer_id, invoice_id, reason, until, created_by, origin FROM dunning_exclusions"
        ).fetchall()
        outbox = con.execute("SELECT customer_id FROM dunning_outbox ORDER BY 1").fetchall()
    # the end date the form offered (the UI's date picker showed it), kept as sent
    assert exclusions == [("C2", None, REASON, default_until(AS_OF), DECIDED_BY, "approval")]
    assert outbox == [("C1",), ("C3",)]
