"""Tolerances per currency in a file finance edits (issue 15): a Swiss customer's bank keeps
CHF 10 where a French one keeps EUR 5; a bad value is refused naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from o2c.tasks.reconciliation.config import CONFIG_ENV, DEFAULTS_FILE, load_config
from tests.tasks.reconciliation.conftest import item, pairs, tx

DUPONT = "FR1420041010050500013M02606"  # C1's own IBAN


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reconciliation.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_defaults_load():
    config = load_config()
    assert config.short_payment_tolerance_cents == 500
    assert dict(config.tolerance_by_currency)["EUR"] == 500
    assert DEFAULTS_FILE.exists()


def test_a_currency_tolerance_decides_the_write_off_in_that_currency_only(run, tmp_path):
    config = load_config(_file(tmp_path, '[tolerance]\ndefault = "5.00"\nCHF = "10.00"\n'))
    items = [
        item("FA-1", "C1", 100_000, currency="CHF"),
        item("FA-2", "C1", 100_000, currency="EUR"),
    ]
    chf = tx("t1", 99_200, currency="CHF", counterparty_iban=DUPONT, remittance_unstructured="FA-1")
    eur = tx("t2", 99_200, currency="EUR", counterparty_iban=DUPONT, remittance_unstructured="FA-2")
    r = run([chf, eur], items, config=config)
    assert pairs(r) == [
        ("t1", "FA-1", 99_200, "payment", "invoice_number"),
        ("t1", "FA-1", 800, "write_off", "short_payment_write_off"),
        # EUR 8 short is beyond EUR 5: a partial payment, the rest stays open.
        ("t2", "FA-2", 99_200, "payment", "invoice_number"),
    ]


def test_the_environment_names_the_user_file_and_missing_keys_keep_the_defaults(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(CONFIG_ENV, str(_file(tmp_path, "[sums]\nmax_set_size = 3\n")))
    config = load_config()
    assert config.max_set_size == 3
    assert config.max_set_items == load_config(DEFAULTS_FILE).max_set_items


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[tolerance]\nEUR = "cinq"\n', "tolerance.EUR"),
        ('[tolerance]\nEUR = "5.001"\n', "tolerance.EUR"),
        ('[tolerance]\nEUR = "-1"\n', "tolerance.EUR"),
        ('[tolerance]\neuro = "5.00"\n', "tolerance.euro"),
        ("[sums]\nmax_set_size = 0\n", "sums.max_set_size"),
        ("[sums]\nmax_set_items = 2.5\n", "sums.max_set_items"),
        ("[payer_name]\nthreshold = 80\n", "payer_name.threshold"),
        ("[matching]\nx = 1\n", "[matching]"),
    ],
)
def test_a_bad_value_names_the_file_and_the_key(tmp_path, text, key):
    path = _file(tmp_path, text)
    with pytest.raises(ValueError) as e:
        load_config(path)
    assert str(path) in str(e.value) and key in str(e.value)


def test_a_file_that_is_not_toml_is_named(tmp_path):
    path = _file(tmp_path, "[tolerance\n")
    with pytest.raises(ValueError, match=str(path)):
        load_config(path)


def test_the_slip_policy_is_read_and_a_bad_value_names_the_key(tmp_path):
    assert not load_config().correct_slips_onto_other_customers  # shipped: ask finance
    chosen = load_config(
        _file(tmp_path, '[references]\nslip_onto_another_customers_document = "correct"\n')
    )
    assert chosen.correct_slips_onto_other_customers
    bad = _file(tmp_path, '[references]\nslip_onto_another_customers_document = "yes"\n')
    with pytest.raises(ValueError, match=r"references\.slip_onto_another_customers_document"):
        load_config(bad)
