"""The collector's worklist from a real warehouse: phone calls the plan reached, a promise
falling due, an old dispute, a bounced reminder; biggest amount first, then oldest."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from o2c.models.dunning import Channel, ExclusionKind
from o2c.tasks.dunning import run
from o2c.tasks.dunning.exclusions import Exclusion, add_exclusion
from o2c.tasks.dunning.policy import load_policy
from o2c.tasks.dunning.worklist import worklist, worklist_rows
from o2c.warehouse import connect
from tests.tasks.dunning.run_fixtures import AS_OF, make_warehouse, write_policy


def test_the_worklist_ranks_what_a_person_must_do(tmp_path):
    db = make_warehouse(tmp_path)
    with connect(db) as con:
        day = run.plan_day(con, AS_OF, load_policy(write_policy(tmp_path)))
        by_customer = {c.customer_id: c for c in day.communications}
        # C3's letter bounced; C1 is due a phone call today
        run.enqueue_all(con, run.render_all([by_customer["C3"]]))
        con.execute(
            "UPDATE dunning_outbox SET status = 'bounced', reply = '550 no such user'"
            " WHERE customer_id = 'C3'"
        )
        call = replace(by_customer["C1"], channel=Channel.PHONE_TASK, level_name="phone_call")
        add_exclusion(con, Exclusion("C2", ExclusionKind.PROMISE_TO_PAY, "virement annoncé",
                                     "Claire", until=date(2026, 7, 2), starts_on=date(2026, 6, 20)))  # fmt: skip
        add_exclusion(con, Exclusion("C2", ExclusionKind.DISPUTE, "livraison incomplète",
                                     "Claire", until=date(2026, 9, 30), invoice_id="FA-3",
                                     starts_on=date(2026, 5, 1)))  # fmt: skip
        add_exclusion(con, Exclusion("C1", ExclusionKind.DISPUTE, "récent", "Claire",
                                     until=date(2026, 9, 30), invoice_id="FA-2",
                                     starts_on=date(2026, 6, 25)))  # fmt: skip
        frame = worklist(con, AS_OF, [call, by_customer["C2"]])
    got = [
        (r["task"], r["customer_id"], r["amount_cents"], r["age_days"])
        for r in frame.rows(named=True)
    ]
    assert got == [
        ("phone_task", "C1", 150000, 29),  # FA-1 due 1 June: 29 days late
        ("dispute", "C2", 80000, 60),  # open since 1 May; C1's 5-day-old dispute is not listed
        ("promise", "C2", 80000, 10),  # ends 2 July, within three days
        ("bounced", "C3", 45000, 0),
    ]
    rows = worklist_rows(frame, "fr")
    assert list(rows[0]) == ["Tâche", "Client", "Montant", "Ancienneté (jours)", "Détail"]
    assert rows[0]["Tâche"] == "Appeler le client"
    assert rows[0]["Montant"] == "1\u202f500,00\u00a0EUR"
    assert rows[-1]["Détail"] == "550 no such user"
