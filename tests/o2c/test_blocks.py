"""`o2c blocks register`: secrets from the environment into Prefect Secret blocks, never shown.

On the session's throwaway Prefect server; the loaders read back what was registered."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.blocks.system import Secret
from typer.testing import CliRunner

from o2c.blocks import SECRETS
from o2c.cli import app
from o2c.models.settings_ar24 import load_ar24_settings
from o2c.models.settings_odoo import odoo_settings
from o2c.models.settings_payment_links import load_payment_link_settings
from o2c.orchestration import secret_from_block

pytestmark = pytest.mark.usefixtures("prefect_api")
REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()

# Values no test or file could contain by chance, so finding one in output is a leak.
VALUES = {
    "O2C_SMTP_PASSWORD": "smtp-pw-7f3a9c1e",
    "O2C_AR24_TOKEN": "ar24-token-5be21d0a",
    "O2C_AR24_PRIVATE_KEY": "ar24-key-c0ffee42",
    "O2C_BRIDGE_CLIENT_SECRET": "bridge-secret-91ab77e3",
    "O2C_PAYLINK_CLIENT_SECRET": "paylink-secret-3d4e5f60",
    "O2C_PAYLINK_WEBHOOK_SECRETS": '["whsec-aa11bb22", "whsec-cc33dd44"]',
    "O2C_ODOO_API_KEY": "odoo-key-0badf00d",
}
WEBHOOK = "http://127.0.0.1:9/hook?token=hook-token-e1e2e3e4"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for spec in SECRETS:
        monkeypatch.delenv(spec.env, raising=False)
    for name in (
        "O2C_AR24_TOKEN_BLOCK",
        "O2C_AR24_KEY_BLOCK",
        "O2C_BRIDGE_SECRET_BLOCK",
        "O2C_PAYLINK_SECRET_BLOCK",
        "O2C_ODOO_API_KEY_BLOCK",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("O2C_SMTP_PASSWORD_BLOCK", raising=False)
    monkeypatch.delenv("O2C_ALERT_WEBHOOK_URL", raising=False)
    return monkeypatch


def _register() -> str:
    result = runner.invoke(app, ["blocks", "register"])
    assert result.exit_code == 0, result.output
    return result.output


def test_each_set_secret_becomes_its_block_and_a_second_run_changes_nothing(clean_env):
    for name, value in VALUES.items():
        clean_env.setenv(name, value)
    clean_env.setenv("O2C_ALERT_WEBHOOK_URL", WEBHOOK)
    first = _register()
    for spec in SECRETS:
        assert f"{spec.block} from {spec.env}" in first
        assert Secret.load(spec.block).value.get_secret_value() == VALUES[spec.env]
    assert CustomWebhookNotificationBlock.load("o2c-alerts").url == WEBHOOK
    second = _register()
    assert second.count("unchanged ") == len(SECRETS) + 1, second
    for output in (first, second):
        _assert_no_value(output)


def test_a_changed_secret_is_updated_and_a_missing_one_skipped_saying_so(clean_env):
    clean_env.setenv("O2C_BRIDGE_CLIENT_SECRET", "bridge-old-11112222")
    _register()
    clean_env.setenv("O2C_BRIDGE_CLIENT_SECRET", "bridge-new-33334444")
    output = _register()
    assert "updated o2c-bridge-client-secret from O2C_BRIDGE_CLIENT_SECRET" in output
    assert Secret.load("o2c-bridge-client-secret").get() == "bridge-new-33334444"
    assert "skipped o2c-ar24-token: O2C_AR24_TOKEN is not set" in output
    assert "skipped o2c-alerts: O2C_ALERT_WEBHOOK_URL is not set" in output
    assert "bridge-new-33334444" not in output and "bridge-old" not in output


def test_a_block_name_the_loader_is_told_is_the_one_registered(clean_env):
    clean_env.setenv("O2C_AR24_TOKEN", "ar24-token-named-9999")
    clean_env.setenv("O2C_AR24_PRIVATE_KEY", "ar24-key-named-8888")
    clean_env.setenv("O2C_AR24_TOKEN_BLOCK", "acme-ar24-token")
    clean_env.setenv("O2C_AR24_KEY_BLOCK", "acme-ar24-key")
    assert "created acme-ar24-token from O2C_AR24_TOKEN" in _register()
    # The worker has no secret in its environment, only the block names: the loader reads them.
    clean_env.delenv("O2C_AR24_TOKEN")
    clean_env.delenv("O2C_AR24_PRIVATE_KEY")
    clean_env.setenv("O2C_AR24_ID_USER", "4242")
    settings = load_ar24_settings(secret_from_block)
    assert settings.token.get_secret_value() == "ar24-token-named-9999"
    assert settings.private_key.get_secret_value() == "ar24-key-named-8888"


def test_payment_links_and_odoo_read_the_blocks_register_made(clean_env):
    clean_env.setenv("O2C_PAYLINK_CLIENT_SECRET", VALUES["O2C_PAYLINK_CLIENT_SECRET"])
    clean_env.setenv("O2C_ODOO_API_KEY", VALUES["O2C_ODOO_API_KEY"])
    _register()
    # A worker with only the non-secret settings.
    clean_env.delenv("O2C_PAYLINK_CLIENT_SECRET")
    clean_env.delenv("O2C_ODOO_API_KEY")
    clean_env.setenv("O2C_PAYLINK_CLIENT_ID", "paylink-client")
    for name, value in {"URL": "http://127.0.0.1:9", "DB": "acme", "LOGIN": "o2c"}.items():
        clean_env.setenv(f"O2C_ODOO_{name}", value)
    links = load_payment_link_settings(secret_from_block)
    assert links.client_secret.get_secret_value() == VALUES["O2C_PAYLINK_CLIENT_SECRET"]
    assert odoo_settings().key() == VALUES["O2C_ODOO_API_KEY"]


def test_nothing_secret_in_prefect_yaml_or_automations_yaml():
    for name in ("prefect.yaml", "automations.yaml"):
        text = (REPO / name).read_text(encoding="utf-8")
        for spec in SECRETS:
            assert f"{spec.env}:" not in text, f"{name} sets {spec.env}"
            assert f"{spec.env}=" not in text, f"{name} sets {spec.env}"
        for word in ("password:", "token:", "client_secret:", "api_key:", "private_key:"):
            assert word not in text.lower(), f"{name} has {word}"
        for value in VALUES.values():
            assert value not in text


def _assert_no_value(output: str) -> None:
    for value in [*VALUES.values(), "whsec-aa11bb22", "hook-token-e1e2e3e4"]:
        assert value not in output
