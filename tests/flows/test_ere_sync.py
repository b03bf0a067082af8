"""The ere-sync flow against the AR24 twin, configured as a deployment would be (O2C_AR24_*): a
letter refused moves on with its proof, the ere-letters artifact shows it in French."""

# ruff: noqa: F811 (`db` and `twin` are fixtures of the ERE tests, used as parameters)

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from o2c.cli import app
from o2c.concurrency import ensure_limit
from o2c.flows.ere_sync import ere_sync
from o2c.models.settings_ar24 import Ar24Settings
from o2c.tasks.ere.send import send_formal_notices
from o2c.twins.ar24 import Ar24Twin, Behaviour
from o2c.warehouse import connect
from tests.prefect_artifacts import latest_artifact
from tests.tasks.ere.test_letter import notice
from tests.tasks.ere.test_send import client, twin  # noqa: F401
from tests.tasks.ere.test_store import db  # noqa: F401

pytestmark = pytest.mark.usefixtures("prefect_api")


def as_deployed(twin: Ar24Twin, monkeypatch: pytest.MonkeyPatch) -> Ar24Settings:
    """The twin's address and keys in O2C_AR24_*, as a deployment's environment holds them."""
    settings = twin.client_settings()
    for name, value in {
        "BASE_URL": settings.base_url,
        "TOKEN": settings.token.get_secret_value(),
        "PRIVATE_KEY": settings.private_key.get_secret_value(),
        "ID_USER": settings.id_user,
    }.items():
        monkeypatch.setenv(f"O2C_AR24_{name}", value)
    return settings


def test_ere_sync_records_a_refusal_with_its_proof_and_publishes_the_table(
    db: Path, twin: Ar24Twin, monkeypatch
) -> None:
    settings = as_deployed(twin, monkeypatch)
    monkeypatch.setenv("O2C_LANGUAGE", "fr")
    twin.recipient("compta@garage-martin.example", Behaviour("refuse", after_days=2))
    c = notice("fr")
    send_formal_notices(db, [c], client=client(twin))
    twin.advance(3)
    ensure_limit(db)  # the warehouse's one-writer slot, as `o2c init` sets it up

    first = ere_sync(db=str(db))
    second = ere_sync(db=str(db))

    assert (first["changed"], first["proofs"], first["need_attention"]) == (1, 2, 1)
    assert (second["read"], second["changed"]) == (0, 0)
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT status FROM ere_letters").fetchall() == [("refused",)]
        assert con.execute("SELECT count(*) FROM ere_proofs").fetchone() == (2,)
    table = latest_artifact("ere-letters").data
    rows = json.loads(table) if isinstance(table, str) else table
    assert rows[0]["Statut"] == "Refusée (vaut notification)"
    assert rows[0]["Preuves"] in ("EV RF", "RF EV")
    assert settings.token.get_secret_value() not in json.dumps(rows)


def test_o2c_ere_sync_runs_the_flow_and_says_what_changed(
    db: Path, twin: Ar24Twin, monkeypatch
) -> None:
    as_deployed(twin, monkeypatch)
    twin.recipient("compta@garage-martin.example", Behaviour("neglect"))
    send_formal_notices(db, [notice("fr")], client=client(twin))
    twin.advance(16)  # not claimed within 15 days
    ensure_limit(db)

    done = CliRunner().invoke(app, ["--db", str(db), "ere", "sync"])

    assert done.exit_code == 0, done.output
    assert "1 letters read from AR24: 1 changed" in done.output
    assert "1 need a person" in done.output
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT status FROM ere_letters").fetchall() == [("neglected",)]
