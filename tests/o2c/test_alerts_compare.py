"""`o2c alerts register` says "unchanged" for an automation the server holds as declared.

Prefect holds a trigger's `expect` as a set, dumped as a list whose order can follow how the set
was filled (when its strings share a hash slot, which changes from one process to the next): the
file's order for the declared automation, the server's for the stored one. Compared as dumped,
the second run of CI's alerts test once said "updated" for o2c-flow-run-failed (two events
expected)."""

from __future__ import annotations

import uuid

from o2c.commands.alerts import DEFAULT_FILE, _comparable, declared, sets_sorted


def test_set_fields_compare_in_any_order_nested_triggers_too() -> None:
    one = {"type": "event", "expect": ["prefect.flow-run.Failed", "prefect.flow-run.Crashed"]}
    two = {"type": "event", "expect": ["prefect.flow-run.Crashed", "prefect.flow-run.Failed"]}
    assert one != two and sets_sorted(one) == sets_sorted(two)
    compound = {"type": "compound", "triggers": [one, {"after": ["b", "a"], "expect": ["x"]}]}
    assert sets_sorted(compound)["triggers"][1]["after"] == ["a", "b"]
    assert sets_sorted(compound)["triggers"][0] == sets_sorted(two)


def test_the_declared_automations_compare_with_their_sets_sorted() -> None:
    for automation in declared(DEFAULT_FILE, {"o2c-alerts": uuid.uuid4()}):
        trigger = _comparable(automation)["trigger"]
        if isinstance(trigger.get("expect"), list):
            assert trigger["expect"] == sorted(trigger["expect"]), automation.name
