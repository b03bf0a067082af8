"""The process dies after the channel took the message and before the outbox heard of it.

A child process runs `send_pending` and is killed (SIGKILL, nothing runs after) the moment the
SMTP server has accepted every message of the batch. The next run must not send again:

- over SMTP nobody can ask the server whether it took a Message-ID, so the row becomes `unknown`
  and waits for finance (`outbox.settle`): sending it again could be a second reminder, and a
  duplicate reminder to a customer is the failure this outbox exists to prevent;
- with the .eml default the channel can tell (the file is there, written whole or not at all),
  so the row is recognised as sent.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from o2c.models.dunning import Channel
from o2c.tasks.channels.email import EmlSender, SmtpSender, sender_address
from o2c.tasks.dunning import audit, outbox
from o2c.warehouse import connect
from tests.tasks.channels.smtp_server import smtp_server
from tests.tasks.dunning.outbox_fixtures import FROM, communication, rendered, smtp_settings

ROOT = Path(__file__).resolve().parents[3]

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from o2c.tasks.channels.email import EmlSender, SmtpSender, SmtpSettings, sender_address
    from o2c.tasks.dunning.outbox import send_pending

    db, target = sys.argv[1], sys.argv[2]
    settings = SmtpSettings(from_address="relances@lumiere.example")
    if target.isdigit():
        sender = SmtpSender(
            SmtpSettings(host="127.0.0.1", port=int(target), security="none",
                         from_address="relances@lumiere.example", rate_per_minute=0)
        )
    else:
        sender = EmlSender(Path(target), sender=sender_address(settings)[0], reply_to=None)

    def send_then_die(sender, envelopes):
        results = sender.send_batch(envelopes)  # the channel holds every message now
        os.kill(os.getpid(), signal.SIGKILL)  # and the outbox never hears of it

    send_pending(db, sender, send_batch=send_then_die)
    """
)


def run_and_kill(db: Path, target: str) -> int:
    """The child's return code (-9 when killed as planned); its stderr if it failed otherwise."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("O2C_SMTP_")}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(db), target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -9, child.stderr[-2000:]
    return child.returncode


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "o2c.duckdb"


def enqueue(db: Path) -> list[str]:
    comms = [communication("C1", ("F-1", 100_00)), communication("C2", ("F-2", 40_00))]
    with connect(db) as con:
        for c in comms:
            outbox.enqueue(con, c, rendered(c))
    return sorted(c.key for c in comms)


def rows(db: Path) -> list[tuple]:
    with connect(db) as con:
        return con.execute(
            "SELECT key, status, attempts FROM dunning_outbox ORDER BY key"
        ).fetchall()


def test_killed_after_smtp_accepted_rerun_sends_nothing_and_marks_unknown(db: Path) -> None:
    keys = enqueue(db)
    with smtp_server() as server:
        code = run_and_kill(db, str(server.port))
        after_kill = rows(db)
        sender = SmtpSender(smtp_settings(server))
        rerun = outbox.send_pending(db, sender)
        again = outbox.send_pending(db, sender)
    with connect(db) as con:
        chain = audit.verify(con)
        reasons = con.execute("SELECT reply FROM dunning_outbox").fetchall()
    assert code == -9  # SIGKILL: nothing ran after the send
    assert after_kill == [(k, "pending", 1) for k in keys]  # claimed, never recorded
    assert len(server.handler.received) == 2  # exactly one message per communication
    assert dict(rerun.interrupted) == {"unknown": 2} and dict(rerun.counts) == {}
    assert dict(again.interrupted) == {} and dict(again.counts) == {}
    assert rows(db) == [(k, "unknown", 1) for k in keys]
    assert all("cannot be asked" in r for (r,) in reasons)
    assert chain.ok


def test_killed_after_the_eml_was_written_rerun_recognises_it_as_sent(db: Path) -> None:
    keys = enqueue(db)
    folder = db.parent / "outbox-mail"
    code = run_and_kill(db, str(folder))
    sender = EmlSender(folder, sender=sender_address(smtp_settings_none())[0], reply_to=None)
    rerun = outbox.send_pending(db, sender)
    assert code == -9
    assert dict(rerun.interrupted) == {"sent": 2} and dict(rerun.counts) == {}
    assert rows(db) == [(k, "sent", 1) for k in keys]
    assert sorted(p.name for p in folder.iterdir()) == [f"{k}.eml" for k in keys]


def test_a_claim_whose_eml_was_never_written_is_sent_by_the_next_run(db: Path) -> None:
    keys = enqueue(db)
    folder = db.parent / "outbox-mail"
    outbox.claim_batch(db, Channel.EMAIL, 10, "dead-run")  # then the run died
    sender = EmlSender(folder, sender=sender_address(smtp_settings_none())[0], reply_to=None)
    rerun = outbox.send_pending(db, sender)
    assert dict(rerun.interrupted) == {"pending": 2} and dict(rerun.counts) == {"sent": 2}
    assert rows(db) == [(k, "sent", 2) for k in keys]


def smtp_settings_none():
    from o2c.tasks.channels.email import SmtpSettings

    return SmtpSettings(from_address=FROM)
