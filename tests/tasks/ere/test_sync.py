"""ERE status sync over simulated days against the AR24 twin: each letter to its end with its
proof on disk, its SHA-256 recorded and audited; `o2c audit verify` catches an altered proof."""

# ruff: noqa: F811 (`db` is the warehouse fixture of test_store, used as a parameter)

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from o2c.cli import app
from o2c.tasks.connectors.ar24_signing import PARIS
from o2c.tasks.dunning.worklist import worklist, worklist_rows
from o2c.tasks.ere.send import evidence_dir, send_formal_notices
from o2c.tasks.ere.sync import letters_needing_attention, letters_table, sync_letters
from o2c.twins.ar24 import Ar24Twin, Behaviour
from o2c.warehouse import connect
from tests.tasks.ere.test_letter import notice
from tests.tasks.ere.test_send import client, twin  # noqa: F401
from tests.tasks.ere.test_store import db  # noqa: F401

runner = CliRunner()
WHO = {
    "accept": ("ok@debtor.example", Behaviour("accept", after_days=2)),
    "refuse": ("no@debtor.example", Behaviour("refuse", after_days=3)),
    "neglect": ("away@debtor.example", Behaviour("neglect")),
    "bounce": ("gone@debtor.example", Behaviour("bounce")),
}


def states(db: Path) -> dict[str, tuple[str, list[str]]]:
    with connect(db) as con:
        rows = con.execute(
            "SELECT l.ref, l.status, list(p.kind ORDER BY p.kind) FILTER (WHERE p.kind IS NOT NULL)"
            " FROM (SELECT *, level AS ref FROM ere_letters JOIN dunning_outbox USING (key)) l"
            " LEFT JOIN ere_proofs p USING (key) GROUP BY ALL"
        ).fetchall()
    names = dict(zip(range(5, 9), WHO, strict=True))
    return {names[level]: (status, kinds or []) for level, status, kinds in rows}


def test_letters_reach_their_ends_with_their_proofs_and_the_evidence_is_verified(
    db: Path, twin: Ar24Twin
) -> None:
    # Sent at noon in Paris: the 15 days end at a Paris midnight, so a letter sent in the last
    # quarter hour of a day would be past them at "day 15.01" (the run's wall clock decided).
    paris = twin.now().astimezone(PARIS)
    twin.advance((paris.replace(hour=12, minute=0) - paris).total_seconds() / 86_400)
    notices = []
    for level, (address, behaviour) in enumerate(WHO.values(), start=5):
        twin.recipient(address, behaviour)
        notices.append(notice("fr", level=level, recipients=(address,)))
    send_formal_notices(db, notices, client=client(twin))
    assert len(twin.letters) == 4

    twin.advance(0.01)
    first = sync_letters(db, client(twin))
    assert first.errors == {}
    assert states(db)["bounce"] == ("bounced", ["bc", "ev"])
    assert states(db)["accept"] == ("sent", ["ev"])

    twin.advance(2)
    sync_letters(db, client(twin))
    twin.advance(1)
    sync_letters(db, client(twin))
    assert states(db)["accept"] == ("accepted", ["ar", "ev"])
    assert states(db)["refuse"] == ("refused", ["ev", "rf"])

    twin.advance(12)  # day 15.01 (Paris): still within the 15 days
    assert sync_letters(db, client(twin)).changed == []
    assert states(db)["neglect"] == ("sent", ["ev"])
    twin.advance(1.5)  # day 16: not claimed
    day16 = sync_letters(db, client(twin))
    assert states(db)["neglect"] == ("neglected", ["ev", "ng"])
    assert len(day16.changed) == 1 and len(day16.proofs) == 1

    again = sync_letters(db, client(twin))  # nothing left to read: every letter at its end
    assert again.read == 0

    with connect(db) as con:
        recorded = con.execute("SELECT key, kind, path, sha256 FROM ere_proofs").fetchall()
        audited = {
            r[0]
            for r in con.execute(
                "SELECT content_sha256 FROM audit_log"
                " WHERE json_extract_string(payload, '$.ere') = 'proof_recorded'"
            ).fetchall()
        }
        table = letters_table(con, date(2026, 3, 20), lang="fr")
        attention = letters_needing_attention(con, date(2026, 3, 20))
        tasks = worklist_rows(worklist(con, date(2026, 3, 20), []), "fr")
    assert len(recorded) == 8
    for _key, _kind, path, sha in recorded:
        assert Path(path).parent == evidence_dir(db)
        content = Path(path).read_bytes()
        assert content.startswith(b"%PDF-") and hashlib.sha256(content).hexdigest() == sha
        assert sha in audited
    assert {r["Statut"] for r in table} == {
        "Acceptée",
        "Refusée (vaut notification)",
        "Non réclamée en 15 jours (vaut notification)",
        "Adresse invalide : non délivrée",
    }
    assert sorted(attention["reason"]) == ["bounced", "neglected", "refused"]
    # ... and the collector finds them on the day's worklist, what to do first
    assert sorted(t["Tâche"] for t in tasks) == [
        "Mise en demeure non remise : corriger l'adresse",
        "Mise en demeure non réclamée : envoyer en LRAR papier",
        "Mise en demeure refusée : envoyer en LRAR papier",
    ]

    intact = runner.invoke(app, ["--db", str(db), "audit", "verify"])
    assert intact.exit_code == 0, intact.output
    altered = Path(recorded[0][2])
    altered.write_bytes(altered.read_bytes() + b"%")
    broken = runner.invoke(app, ["--db", str(db), "audit", "verify"])
    assert broken.exit_code == 1
    assert "evidence altered or missing" in broken.output and altered.name in broken.output


def test_a_letter_ar24_cannot_answer_for_is_reported_and_left_as_it_was(
    db: Path, twin: Ar24Twin
) -> None:
    c = notice("fr")
    send_formal_notices(db, [c], client=client(twin))
    twin.advance(3)
    twin.letters.clear()  # AR24 no longer knows the id: an error, never a guessed state
    result = sync_letters(db, client(twin))
    assert list(result.errors) == [c.key] and result.changed == []
    with connect(db) as con:
        assert con.execute("SELECT status FROM ere_letters").fetchall() == [("sent",)]
