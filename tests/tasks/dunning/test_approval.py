"""Finance's approval: choices people read, exclusions from the answer, what still goes."""

from __future__ import annotations

from datetime import date

from o2c.models.dunning import ExclusionKind
from o2c.tasks.dunning.approval import Approval, approved, decision_of, form_choices
from o2c.tasks.dunning.exclusions import Exclusion
from tests.tasks.dunning.outbox_fixtures import communication

AS_OF = date(2026, 3, 3)


def test_choices_name_customers_then_invoices_and_the_answer_maps_back():
    a = communication("C1", ("F1", 10000), ("F2", 5000))
    b = communication("C2", ("F3", 20000))
    choices = form_choices([a, b], "fr")
    labels = [c.label for c in choices]
    assert labels[0].startswith("Client C1 · Client C1 · friendly · 150,00")
    assert labels[2].startswith("Facture F1 · Client C1 · 100,00")
    assert len(set(labels)) == len(labels) == 5
    answer = {
        "decided_by": " Claire ",
        "exclusions": [
            {"target": labels[1], "reason": "litige", "until": date(2026, 4, 1)},
            {"target": labels[3], "reason": "avoir à venir", "until": "2026-04-15"},
        ],
    }
    decision = decision_of(answer, choices, AS_OF)
    assert decision.decided_by == "Claire"
    c2, f2 = decision.exclusions
    assert (c2.customer_id, c2.invoice_id, c2.kind, c2.until, c2.starts_on) == (
        "C2", None, ExclusionKind.OPT_OUT, date(2026, 4, 1), AS_OF
    )  # fmt: skip
    assert (f2.customer_id, f2.invoice_id, f2.kind, f2.until) == (
        "C1", "F2", ExclusionKind.DISPUTE, date(2026, 4, 15)
    )  # fmt: skip

    going = approved([a, b], decision)
    assert [(c.customer_id, [i.invoice_id for i in c.items]) for c in going] == [("C1", ["F1"])]
    assert going[0].key != a.key  # another set of items, another communication


def test_approve_all_keeps_everything_and_an_invoice_alone_left_out_drops_its_letter():
    a = communication("C1", ("F1", 10000))
    b = communication("C2", ("F3", 20000))
    assert approved([a, b], Approval("approve_all")) == [a, b]
    only = Exclusion("C1", ExclusionKind.DISPUTE, "litige", "Claire", date(2026, 4, 1), "F1")
    assert approved([a, b], Approval("Claire", (only,))) == [b]
