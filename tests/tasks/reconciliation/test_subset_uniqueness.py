"""Never a guess on sums (issue 15). A customer pays several invoices in one transfer without
saying which ("VIREMENT"): a controller allocates it only when exactly one set of that customer's
open items makes the amount. When two do (one invoice of 1 935,00, or two of 437,40 and
1 497,60), or when the search could not look at them all, finance decides, with the sets listed."""

from __future__ import annotations

import json
from datetime import date

from o2c.tasks.reconciliation.config import ReconciliationConfig
from tests.tasks.reconciliation.conftest import item, pairs, tx

DUPONT = "FR1420041010050500013M02606"  # C1's own IBAN


def _candidates(result) -> list[list[str]]:
    (raw,) = result.exceptions["candidates"].to_list()
    return sorted(c["invoice_ids"] for c in json.loads(raw))


def test_one_invoice_and_a_pair_of_others_making_the_amount_is_a_question(run):
    items = [
        item("FA-171", "C1", 43_740),
        item("FA-317", "C1", 149_760),
        item("FA-321", "C1", 193_500),
    ]
    r = run(
        [tx("t1", 193_500, counterparty_iban=DUPONT, remittance_unstructured="VIREMENT")], items
    )
    assert r.allocations.height == 0
    assert r.exceptions["reason"].to_list() == ["ambiguous_amount"]
    assert _candidates(r) == [["FA-171", "FA-317"], ["FA-321"]]


def test_the_only_set_of_four_that_makes_the_amount_is_taken(run):
    items = [
        item("FA-55", "C1", 84_120, due_date=date(2026, 1, 10)),
        item("FA-135", "C1", 695_280, due_date=date(2026, 1, 20)),
        item("FA-141", "C1", 66_780, due_date=date(2026, 1, 25)),
        item("FA-204", "C1", 59_760, due_date=date(2026, 2, 5)),
        item("FA-300", "C1", 12_345, due_date=date(2026, 2, 6)),
    ]
    r = run([tx("t1", 905_940, counterparty_iban=DUPONT)], items)
    assert [p[1] for p in pairs(r)] == ["FA-135", "FA-141", "FA-204", "FA-55"]
    assert {p[4] for p in pairs(r)} == {"payer_iban_amount_set"}


def test_an_invoice_issued_after_the_money_arrived_is_not_an_answer(run):
    # FA-9 (same amount) was issued a week after the transfer: only FA-1 + FA-2 could be meant.
    items = [
        item("FA-1", "C1", 96_000, issue_date=date(2026, 1, 2)),
        item("FA-2", "C1", 96_000, issue_date=date(2026, 1, 3)),
        item("FA-9", "C1", 192_000, issue_date=date(2026, 1, 21)),
    ]
    r = run([tx("t1", 192_000, counterparty_iban=DUPONT, booking_date=date(2026, 1, 14))], items)
    assert [p[1] for p in pairs(r)] == ["FA-1", "FA-2"]


def test_a_later_transfer_paying_one_answer_does_not_settle_the_question(run):
    # On 26/03 both FA-321 and FA-171 + FA-317 fit; FA-321's own transfer on 02/04 names it. At
    # the date the money came both answers stood, so the first transfer stays finance's question.
    items = [
        item("FA-171", "C1", 43_740),
        item("FA-317", "C1", 149_760),
        item("FA-321", "C1", 193_500),
    ]
    grouped = tx("t1", 193_500, counterparty_iban=DUPONT, booking_date=date(2026, 3, 26))
    named = tx(
        "t2", 193_500, booking_date=date(2026, 4, 2), remittance_unstructured="FACTURE FA-321"
    )
    r = run([grouped, named], items)
    assert pairs(r) == [("t2", "FA-321", 193_500, "payment", "invoice_number")]
    assert r.exceptions.select("transaction_id", "reason").rows() == [("t1", "ambiguous_amount")]


def test_an_answer_an_earlier_transfer_paid_was_no_longer_open_when_the_money_came(run):
    # A bar pays its monthly 237,60 by cheque. January's cheque pays January's invoice; in May,
    # January's is no longer open, so May's cheque pays April's, the one open then.
    items = [
        item("FA-37", "C1", 23_760, issue_date=date(2025, 1, 13)),
        item("FA-335", "C1", 23_760, issue_date=date(2025, 4, 24)),
    ]
    january = tx("t1", 23_760, counterparty_iban=DUPONT, booking_date=date(2025, 1, 28))
    may = tx("t2", 23_760, counterparty_iban=DUPONT, booking_date=date(2025, 5, 6))
    assert [p[:2] for p in pairs(run([january, may], items))] == [("t1", "FA-37"), ("t2", "FA-335")]


def test_a_set_found_when_the_payer_has_more_items_than_the_search_reads_is_listed(run):
    items = [item(f"FA-{k}", "C1", 10_000 * k, due_date=date(2026, 1, k)) for k in range(1, 6)]
    config = ReconciliationConfig(max_set_items=3)
    # 10 + 20 + ... only FA-1 + FA-2 make 300,00 among the three oldest; FA-3 alone does too.
    r = run([tx("t1", 30_000, counterparty_iban=DUPONT)], items, config=config)
    assert r.allocations.height == 0
    assert _candidates(r) == [["FA-1", "FA-2"], ["FA-3"]]
    # 700,00: FA-3 + FA-4 is beyond the three oldest, FA-2 + FA-5 too; nothing taken either.
    r = run([tx("t2", 70_000, counterparty_iban=DUPONT)], items, config=config)
    assert r.allocations.height == 0


def test_an_item_near_the_amount_is_no_answer_when_the_search_could_not_read_them_all(run):
    # "Solde compte": 0,91 short of one invoice, which bank charges could explain; but the payer
    # has more open items than the search reads, and a set of them may be the exact answer.
    items = [
        item("FA-1", "C1", 38_729, due_date=date(2026, 1, 1)),
        *(item(f"AV-{k}", "C1", -1_000 * k, due_date=date(2026, 1, 1 + k)) for k in range(1, 4)),
        item("FA-9", "C1", 44_000, due_date=date(2026, 1, 9)),
    ]
    paid = tx("t1", 38_638, counterparty_iban=DUPONT, remittance_unstructured="Solde compte")
    bounded = run([paid], items, config=ReconciliationConfig(max_set_items=3))
    assert bounded.allocations.height == 0
    assert _candidates(bounded) == [["FA-1"]]
    # Every item read and no exact answer: the near one is the payment, less charges.
    whole = run([paid], items)
    assert pairs(whole) == [
        ("t1", "FA-1", 38_638, "payment", "payer_iban_amount"),
        ("t1", "FA-1", 91, "write_off", "short_payment_write_off"),
    ]


def test_everything_open_paid_at_once_is_proven_however_many_items(run):
    # "SOLDE COMPTE" after the harvest: twelve invoices, more than any set the search forms;
    # all invoices, so no other set of them makes the same total.
    items = [
        item(f"FA25-{k:05d}", "C1", 1_000 * k + 7, due_date=date(2026, 1, k)) for k in range(1, 13)
    ]
    total = sum(1_000 * k + 7 for k in range(1, 13))
    r = run(
        [tx("t1", total, counterparty_iban=DUPONT, remittance_unstructured="SOLDE COMPTE")], items
    )
    assert len(pairs(r)) == 12 and r.allocations["amount_cents"].sum() == total
    # With a credit note as large as an invoice (3 007,00 = FA25-00003), that invoice and the
    # credit note left out make the same total: two answers, asked.
    credit = item("AV25-0001", "C1", -3_007, due_date=date(2026, 1, 20))
    r = run(
        [tx("t1", total - 3_007, counterparty_iban=DUPONT, remittance_unstructured="SOLDE")],
        [*items, credit],
    )
    assert r.allocations.height == 0
    # A credit note smaller than every invoice nets nothing away: everything, proven.
    small = item("AV25-0002", "C1", -907, due_date=date(2026, 1, 20))
    r = run(
        [tx("t1", total - 907, counterparty_iban=DUPONT, remittance_unstructured="SOLDE")],
        [*items, small],
    )
    assert len(pairs(r)) == 13 and r.allocations["amount_cents"].sum() == total - 907
