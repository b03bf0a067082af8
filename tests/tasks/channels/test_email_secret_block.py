"""The SMTP password kept in a Prefect Secret block (O2C_SMTP_PASSWORD_BLOCK), as a data engineer
sets it once on the server instead of in every worker's environment."""

from __future__ import annotations

import pytest

from o2c.models.dunning import OutboxStatus
from o2c.tasks.channels import Envelope
from o2c.tasks.channels.email import SmtpSender, SmtpSettings
from tests.tasks.channels.smtp_server import smtp_server
from tests.tasks.channels.test_email import FROM, rendered

pytestmark = pytest.mark.usefixtures("prefect_api")


def test_the_password_comes_from_a_secret_block(tmp_path, monkeypatch) -> None:
    from prefect.blocks.system import Secret

    Secret(value="bl0ck-Pa55word!").save("o2c-smtp-test", overwrite=True)
    monkeypatch.delenv("O2C_SMTP_PASSWORD", raising=False)
    with smtp_server(tls="starttls", cert_dir=tmp_path, credentials=("u", "bl0ck-Pa55word!")) as s:
        config = SmtpSettings(
            host=s.host,
            port=s.port,
            username="u",
            password_block="o2c-smtp-test",
            ca_file=s.cert_file,
            from_address=FROM,
            rate_per_minute=0,
        )
        [result] = SmtpSender(config).send_batch([Envelope(rendered("k1"), ("a@b.example",))])
    assert result.status is OutboxStatus.SENT
    assert "bl0ck" not in repr(config)
