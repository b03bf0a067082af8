"""The policy file a credit controller edits: the shipped one loads, mistakes name their line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from o2c.models.dunning import Channel
from o2c.models.dunning_policy import Calendar, cents_for
from o2c.tasks.dunning.policy import (
    DEFAULT_POLICY_FILE,
    POLICY_ENV,
    PolicyError,
    business_days_between,
    check_fresh_data,
    load_policy,
    parse_policy,
)

SMALL = """\
version: 1
segments:
  default:
    grace_days: 2
    levels:
      - name: first
        days: 3
        channel: email
        template: reminder_friendly
        min_open: {default: "15.00", JPY: "2000"}
      - name: notice
        days: 20
        channel: ere_letter
        template: formal_notice
        requires_previous: true
        needs_approval: true
"""


def test_the_shipped_policy_loads_and_escalates_from_courtesy_to_litigation():
    policy = load_policy(DEFAULT_POLICY_FILE)
    levels = policy.segments["default"].levels
    assert levels[0].courtesy and levels[0].days < 0
    assert [lv.channel for lv in levels][-2:] == [Channel.ERE_LETTER, Channel.LITIGATION]
    assert all(lv.needs_approval for lv in levels if lv.channel == Channel.ERE_LETTER)
    assert policy.formal_notice_days == 8 and policy.calendar.business_days


def test_env_names_the_company_policy(tmp_path: Path, monkeypatch):
    own = tmp_path / "ours.yaml"
    own.write_text(SMALL, encoding="utf-8")
    monkeypatch.setenv(POLICY_ENV, str(own))
    policy = load_policy()
    assert [lv.name for lv in policy.segments["default"].levels] == ["first", "notice"]
    first = policy.segments["default"].levels[0]
    assert cents_for(first.min_open, "JPY") == 200000
    assert cents_for(first.min_open, "EUR") == 1500


def test_missing_file_is_named(tmp_path: Path):
    with pytest.raises(PolicyError, match=r"nope\.yaml: dunning policy file not found"):
        load_policy(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("channel: ere_letter", "channel: fax", 13, "levels.1.channel: Input should be"),
        ("        days: 20", "        days: 1", 12, "levels.1.days: level 'notice' (1 days)"),
        ("requires_previous: true", "requires_previuos: true", 15, "Extra inputs"),
        ('min_open: {default: "15.00"', 'min_open: {EURO: "15.00"', 10, "'EURO' is neither"),
        ('default: "15.00"', "default: 15.5", 10, "a float is not exact"),
        ("grace_days: 2", "grace_days: -1", 4, "grace_days: Input should be greater"),
        ("  default:\n", "  retail:\n", 1, "a 'default' segment is required"),
    ],
)
def test_a_mistake_names_the_file_line_and_field(old, new, line, words):
    text = SMALL.replace(old, new, 1)
    assert text != SMALL
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "ours.yaml")
    assert f"ours.yaml:{line}:" in str(caught.value)
    assert words in str(caught.value)


def test_yaml_syntax_and_repeated_keys_name_their_line():
    with pytest.raises(PolicyError, match=r"ours\.yaml:5: not valid YAML"):
        parse_policy(SMALL.replace("    grace_days: 2", "    grace_days: [2"), "ours.yaml")
    repeated = SMALL.replace("        days: 3\n", "        days: 3\n        days: 4\n")
    with pytest.raises(PolicyError, match=r"ours\.yaml:8: key 'days' repeated \(first on line 7\)"):
        parse_policy(repeated, "ours.yaml")


def test_customer_override_must_name_a_known_segment_and_level():
    bad = SMALL + "customers:\n  C1:\n    max_level: third\n"
    with pytest.raises(PolicyError, match=r":19: customers\.C1\.max_level: max_level 'third'"):
        parse_policy(bad, "ours.yaml")
    good = parse_policy(SMALL + "customers:\n  C1: {max_level: first, grace_days: 9}\n")
    assert good.segment_for("C1", "unknown") == "default"
    assert good.customers["C1"].grace_days == 9


def test_business_days_skip_weekends_and_french_holidays():
    fr = Calendar()
    # Thursday 30 April 2026 due; Friday 1 May and Friday 8 May are public holidays.
    assert business_days_between(fr, date(2026, 4, 30), date(2026, 5, 11)) == 5
    assert business_days_between(fr, date(2026, 5, 11), date(2026, 4, 30)) == -5
    # Alsace-Moselle also rests on 26 December (Saint Stephen).
    moselle = Calendar(subdivision="57")
    assert business_days_between(fr, date(2025, 12, 24), date(2025, 12, 29)) == 2
    assert business_days_between(moselle, date(2025, 12, 24), date(2025, 12, 29)) == 1
    assert (
        business_days_between(Calendar(business_days=False), date(2026, 4, 30), date(2026, 5, 11))
        == 11
    )


def test_stale_bank_data_stops_dunning():
    policy = load_policy(DEFAULT_POLICY_FILE)
    # 5, 6, 7 and 11 May are business days (8 May is a holiday): 3 allowed, 4 refused.
    check_fresh_data(policy, date(2026, 5, 11), date(2026, 5, 5))
    with pytest.raises(PolicyError, match=r"2026-05-04\) is 4 business days older"):
        check_fresh_data(policy, date(2026, 5, 11), date(2026, 5, 4))
    with pytest.raises(PolicyError, match="no bank statement was ever loaded"):
        check_fresh_data(policy, date(2026, 5, 11), None)
