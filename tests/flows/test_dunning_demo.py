"""The demo ends with reminders: .eml files beside the warehouse and a dunning journal artifact,
and formal notices sent to AR24's local twin with their proofs kept and vouched for.

As of 30 June 2026: the last half-year rates.toml holds (a later day needs its rate row first;
dunning never guesses a rate)."""

from __future__ import annotations

import email
import json
from datetime import date

import pytest

from o2c.flows.demo import o2c_demo
from o2c.warehouse import connect
from tests.prefect_artifacts import latest_artifact

pytestmark = pytest.mark.usefixtures("prefect_api")
AS_OF = date(2026, 6, 30)


def test_the_demo_ends_with_reminders_and_their_journal(tmp_path, monkeypatch):
    for name in ("O2C_SMTP_HOST", "O2C_SMTP_MAIL_DIR", "O2C_PAYLINK_CLIENT_ID", "O2C_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("O2C_WAREHOUSE_SLOT", "off")  # a throwaway API: no `o2c init` limit
    db = tmp_path / "o2c.duckdb"
    result = o2c_demo(db=str(db), invoices=300, seed=7, folder=str(tmp_path / "files"), as_of=AS_OF)
    assert [s for s, _ in result["steps"]][-4:] == ["reconcile", "aging", "dunning", "ere-sync"]
    dunned = result["dunning"]
    assert dunned["statuses"].get("sent", 0) > 0

    files = sorted((tmp_path / "outbox-mail").glob("*.eml"))
    with connect(db, read_only=True) as con:
        sent = con.execute(
            "SELECT key, recipients FROM dunning_outbox WHERE status = 'sent'"
            " AND channel = 'email' ORDER BY key"
        ).fetchall()
        letters = con.execute(
            "SELECT l.status, count(DISTINCT l.key), count(p.kind) FROM ere_letters l"
            " JOIN ere_proofs p USING (key) GROUP BY l.status"
        ).fetchall()
    assert letters and all(status == "accepted" and proofs >= n for status, n, proofs in letters)
    assert [f.stem for f in files] == [key for key, _ in sent]
    message = email.message_from_bytes(files[0].read_bytes())
    assert message["To"] == ", ".join(sent[0][1])

    rows = json.loads(latest_artifact("dunning-journal").data)
    assert list(rows[0])[:5] == ["Client", "Niveau", "Canal", "Montant à régler", "Statut"]
    assert sum(r["Statut"] == "envoyé" and r["Canal"] == "Courriel" for r in rows) == len(files)
    assert json.loads(latest_artifact("ere-letters").data)  # the sync's table shows them

    from typer.testing import CliRunner

    from o2c.cli import app

    verified = CliRunner().invoke(app, ["--db", str(db), "audit", "verify"])
    assert verified.exit_code == 0 and "chain intact" in verified.output, verified.output
