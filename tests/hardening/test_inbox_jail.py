"""Issue 14: the bank inbox is a jail, poison files never loop, every failed file ends in rejected/.

Links (symbolic or hard) and paths outside the inbox never make o2c move, write or read
anything elsewhere; a file that fails in any way (parse, bounds, overflow, unreadable) is in
rejected/ with its reason after one attempt; the watcher survives what a file does to it and
never tries a file again until it changes.
"""

from __future__ import annotations

import os
import stat
import time
import types
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c import watcher
from o2c.flows.ingest_bank_statement import ingest_bank_statement
from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank import inbox
from o2c.tasks.demo.camt_writer import write_camt053
from o2c.warehouse import connect

pytestmark = pytest.mark.usefixtures("prefect_api")
IBAN = "FR7630003012340123456789057"


def camt(path: Path, amount: str = "120.00", opening: str = "1000.00") -> Path:
    total = Decimal(opening) + Decimal(amount)
    line = StatementLine(date(2026, 11, 2), Decimal(amount), "EUR", bank_reference="R1")
    statement = Statement(
        "camt.053", IBAN, "EUR", "S-1", date(2026, 11, 2), date(2026, 11, 2),
        Decimal(opening), total, [line],
    )  # fmt: skip
    write_camt053(path, [statement])
    return path


def mt940(path: Path, amount: str, closing: str) -> Path:
    path.write_text(
        "\r\n".join([
            ":20:STMT1", f":25:{IBAN}", ":28C:1/1", ":60F:C261101EUR1000,00",
            f":61:2611021102C{amount}NTRFREF1//B1", ":86:Facture FA2026-000001",
            f":62F:C261102EUR{closing}", "",
        ]),
        encoding="latin-1",
    )  # fmt: skip
    return path


class Stop(Exception):
    """Ends a watcher running in continuous mode after a number of polls."""


def run_watcher(
    folder: Path, db: Path, monkeypatch, *, polls: int | None = None
) -> tuple[int | None, list[str], list[str]]:
    """(handled, ingestion attempts by file name, echoed lines); `polls` runs it continuously
    (not `once`) for that many polls, which is where a poison file used to loop."""
    attempts: list[str] = []
    lines: list[str] = []
    real_ingest = watcher._ingest_here

    def counting(path: Path, db: str | None, echo: Callable[[str], object]) -> None:
        attempts.append(path.name)
        real_ingest(path, db, echo)

    monkeypatch.setattr(watcher, "_ingest_here", counting)
    handled = None
    if polls is None:
        handled = watcher.watch_inbox(
            folder, db=str(db), settle_seconds=0.2, poll_seconds=0.05, once=True,
            echo=lines.append,
        )  # fmt: skip
        return handled, attempts, lines
    slept = 0

    def sleep(seconds: float) -> None:
        nonlocal slept
        slept += 1
        if slept >= polls:
            raise Stop
        time.sleep(seconds)

    # only the watcher's clock is replaced: Prefect keeps the real time.sleep
    monkeypatch.setattr(
        watcher, "time", types.SimpleNamespace(monotonic=time.monotonic, sleep=sleep)
    )
    with pytest.raises(Stop):
        watcher.watch_inbox(
            folder, db=str(db), settle_seconds=0.2, poll_seconds=0.05, echo=lines.append
        )
    return handled, attempts, lines


@pytest.fixture
def no_server(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # the watcher ingests in-process


def state_of(path: Path) -> tuple[bytes, int, int]:
    st = os.stat(path)
    return path.read_bytes(), st.st_ino, st.st_mtime_ns


def test_a_symlink_to_a_file_outside_lands_in_rejected_and_its_target_is_untouched(
    tmp_path: Path, monkeypatch, no_server
):
    folder, outside = tmp_path / "inbox", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    target = camt(outside / "treasury.xml")  # a good statement: it would load if followed
    before = state_of(target)
    (folder / "releve.xml").symlink_to(target)
    handled, attempts, _ = run_watcher(folder, tmp_path / "o2c.duckdb", monkeypatch)
    assert handled == 1 and attempts == []  # refused by the watcher: no flow reads it
    moved = folder / "rejected" / "releve.xml"
    assert moved.is_symlink() and os.readlink(moved) == str(target)  # the link, not the file
    assert "symbolic link" in (folder / "rejected" / "releve.xml.error.txt").read_text()
    assert state_of(target) == before  # same content, same place
    assert sorted(p.name for p in outside.iterdir()) == ["treasury.xml"]  # nothing written there


def test_the_flow_given_a_symlink_by_an_event_moves_the_link_never_its_target(tmp_path: Path):
    folder, outside = tmp_path / "inbox", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    inbox.mark(folder)  # as `o2c watch` does: the served flow may archive here
    target = camt(outside / "treasury.xml")
    before = state_of(target)
    (folder / "releve.xml").symlink_to(target)
    with pytest.raises(inbox.Refused, match="symbolic link"):
        ingest_bank_statement(str(folder / "releve.xml"), db=str(tmp_path / "o2c.duckdb"),
                              archive=True)  # fmt: skip
    assert (folder / "rejected" / "releve.xml").is_symlink()
    assert state_of(target) == before
    assert sorted(p.name for p in outside.iterdir()) == ["treasury.xml"]
    with connect(tmp_path / "o2c.duckdb") as con:
        rows = con.execute("SELECT file_name, status, sha256 FROM load_batches").fetchall()
    assert rows == [("releve.xml", "rejected", None)]  # on record, and its target never hashed


def test_a_symlink_to_a_file_inside_the_inbox_is_refused_and_the_file_ingested(
    tmp_path: Path, monkeypatch, no_server
):
    folder = tmp_path / "inbox"
    folder.mkdir()
    camt(folder / "real.xml")
    (folder / "alias.xml").symlink_to("real.xml")
    handled, attempts, _ = run_watcher(folder, tmp_path / "o2c.duckdb", monkeypatch)
    assert handled == 2 and attempts == ["real.xml"]
    assert (folder / "rejected" / "alias.xml").is_symlink()
    assert (folder / "processed" / date.today().isoformat() / "real.xml").is_file()


def test_a_hard_link_to_a_file_outside_is_refused_and_the_file_left_alone(
    tmp_path: Path, monkeypatch, no_server
):
    folder, outside = tmp_path / "inbox", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    target = camt(outside / "treasury.xml")
    before = state_of(target)
    os.link(target, folder / "releve.xml")
    handled, attempts, _ = run_watcher(folder, tmp_path / "o2c.duckdb", monkeypatch)
    assert handled == 1 and attempts == []
    assert os.path.samefile(folder / "rejected" / "releve.xml", target)  # its name moved
    assert "hard link" in (folder / "rejected" / "releve.xml.error.txt").read_text()
    assert state_of(target) == before
    assert sorted(p.name for p in outside.iterdir()) == ["treasury.xml"]


@pytest.mark.parametrize("where", ["sibling", "dotdot", "subfolder"])
def test_a_path_outside_the_inbox_given_to_the_flow_is_refused_and_nothing_moves(
    tmp_path: Path, where: str
):
    folder, outside = tmp_path / "inbox", tmp_path / "etc"
    folder.mkdir()
    outside.mkdir()
    inbox.mark(folder)
    (folder / "processed").mkdir()
    victim = {
        "sibling": outside / "passwd.xml",
        "dotdot": outside / "passwd.xml",
        "subfolder": folder / "processed" / "passwd.xml",
    }[where]
    victim.write_text("root:x:0:0")
    given = str(folder / ".." / "etc" / "passwd.xml") if where == "dotdot" else str(victim)
    with pytest.raises(inbox.PathError, match="not directly inside a watched inbox"):
        ingest_bank_statement(given, db=str(tmp_path / "o2c.duckdb"), archive=True)
    assert victim.read_text() == "root:x:0:0"
    assert sorted(p.name for p in victim.parent.iterdir()) == ["passwd.xml"]
    assert not (folder / "rejected").exists()


def test_a_directory_named_like_a_statement_is_a_clear_error_and_never_looped_on(
    tmp_path: Path, monkeypatch, no_server
):
    folder = tmp_path / "inbox"
    (folder / "releve.xml").mkdir(parents=True)
    _, attempts, _ = run_watcher(folder, tmp_path / "o2c.duckdb", monkeypatch, polls=10)
    assert attempts == []  # not a candidate: a folder of the inbox is left where it is
    db = str(tmp_path / "o2c.duckdb")
    for archive in (True, False):
        with pytest.raises(inbox.PathError) as error:
            ingest_bank_statement(str(folder / "releve.xml"), db=db, archive=archive)
        assert str(error.value) == f"{folder / 'releve.xml'}: is a directory, not a statement file"
    assert (folder / "releve.xml").is_dir()
    with pytest.raises(inbox.PathError, match=r"^/.*missing\.xml: no such file$"):
        ingest_bank_statement(str(folder / "missing.xml"), db=db)


def make_unreadable(path: Path, monkeypatch) -> None:
    """chmod 000; the tests run as root, who reads anything, so when the file is still readable
    the inbox's one opener (`inbox._open_readonly`) is made to raise PermissionError for it."""
    path.chmod(0)
    try:
        path.read_bytes()
    except PermissionError:
        return
    real_open = inbox._open_readonly

    def refusing(candidate: Path, **kwargs) -> int:
        if Path(candidate).name == path.name:
            raise PermissionError(13, "Permission denied", str(candidate))
        return real_open(candidate, **kwargs)

    monkeypatch.setattr(inbox, "_open_readonly", refusing)


def test_an_unreadable_file_is_rejected_with_its_reason_in_process(
    tmp_path: Path, monkeypatch, no_server
):
    folder = tmp_path / "inbox"
    folder.mkdir()
    make_unreadable(camt(folder / "locked.xml"), monkeypatch)
    handled, attempts, _ = run_watcher(folder, tmp_path / "o2c.duckdb", monkeypatch)
    assert handled == 1 and attempts == ["locked.xml"]
    reason = (folder / "rejected" / "locked.xml.error.txt").read_text()
    assert reason == "locked.xml: cannot be read (Permission denied)\n"
    with connect(tmp_path / "o2c.duckdb") as con:
        rows = con.execute("SELECT file_name, status, message FROM load_batches").fetchall()
    assert rows == [("locked.xml", "rejected", reason.strip())]


@pytest.fixture
def server_mode(monkeypatch) -> list[dict]:
    """The watcher as with a Prefect server, its events caught here instead of sent."""
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    sent: list[dict] = []
    monkeypatch.setattr(watcher, "_emit", sent.append)
    monkeypatch.setattr(watcher, "_flush_events", lambda: None)
    return sent


def test_the_watcher_with_a_server_survives_an_unreadable_file_and_rejects_it(
    tmp_path: Path, monkeypatch, server_mode: list[dict]
):
    folder = tmp_path / "inbox"
    folder.mkdir()
    make_unreadable(camt(folder / "locked.xml"), monkeypatch)
    camt(folder / "good.xml", amount="99.00")
    handled, _, _ = run_watcher(folder, tmp_path / "o2c.duckdb", monkeypatch)
    assert handled == 2
    assert [e["payload"]["name"] for e in server_mode] == ["good.xml"]
    payload = server_mode[0]["payload"]
    assert (payload["inbox"], payload["path"]) == (str(folder), str(folder / "good.xml"))
    assert (folder / "rejected" / "locked.xml.error.txt").read_text() == (
        "locked.xml: cannot be read (Permission denied)\n"
    )


def test_a_file_that_can_be_neither_read_nor_moved_is_skipped_and_remembered(
    tmp_path: Path, monkeypatch, server_mode: list[dict]
):
    folder = tmp_path / "inbox"
    folder.mkdir()
    make_unreadable(camt(folder / "locked.xml"), monkeypatch)
    moves: list[str] = []

    def cannot_move(path: Path, reason: str) -> Path:
        moves.append(Path(path).name)
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(inbox, "move_rejected", cannot_move)
    _, _, lines = run_watcher(folder, tmp_path / "o2c.duckdb", monkeypatch, polls=40)
    assert moves == ["locked.xml"] and server_mode == []  # tried once in 40 polls
    assert sum("locked.xml: left in the inbox" in line for line in lines) == 1
    os.utime(folder / "locked.xml", ns=(1, 1))  # it changed: worth one more try
    _, _, lines = run_watcher(folder, tmp_path / "o2c.duckdb", monkeypatch, polls=10)
    assert moves == ["locked.xml", "locked.xml"]


def camt_three_decimals(folder: Path) -> Path:
    path = camt(folder / "three.xml")
    path.write_text(path.read_text().replace(">120.00<", ">120.005<"))
    return path


POISON: dict[str, Callable[[Path], Path]] = {
    "mt940 3 decimals": lambda p: mt940(p / "three.sta", "12,345", "1012,345"),
    "mt940 1e17": lambda p: mt940(p / "huge.sta", "100000000000000000,00",
                                  "100000000000001000,00"),
    "camt 3 decimals": camt_three_decimals,
    "camt 1e17": lambda p: camt(p / "huge.xml", amount="100000000000000000.00"),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(POISON))
def test_a_poison_file_is_rejected_once_and_never_looped_on(
    tmp_path: Path, monkeypatch, no_server, kind: str
):
    folder = tmp_path / "inbox"
    folder.mkdir()
    poison = POISON[kind](folder)
    _, attempts, _ = run_watcher(folder, tmp_path / "o2c.duckdb", monkeypatch, polls=30)
    assert attempts == [poison.name]
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == ["rejected"]
    reason = (folder / "rejected" / f"{poison.name}.error.txt").read_text()
    assert poison.name in reason.split(":")[0], reason  # the reason starts with the file
    with connect(tmp_path / "o2c.duckdb") as con:
        (loaded,) = con.execute("SELECT count(*) FROM bank_transactions").fetchone()
        batches = con.execute("SELECT file_name, status FROM load_batches").fetchall()
    assert loaded == 0 and batches == [(poison.name, "rejected")]


def test_a_failed_file_that_cannot_be_moved_is_not_ingested_again(
    tmp_path: Path, monkeypatch, no_server
):
    folder = tmp_path / "inbox"
    folder.mkdir()
    mt940(folder / "huge.sta", "100000000000000000,00", "100000000000001000,00")

    def cannot_move(path: Path, reason: str) -> Path:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(inbox, "move_rejected", cannot_move)
    _, attempts, lines = run_watcher(folder, tmp_path / "o2c.duckdb", monkeypatch, polls=40)
    assert attempts == ["huge.sta"]  # once, not every few seconds
    assert sum("huge.sta: left in the inbox" in line for line in lines) == 1


def test_the_rejection_artifact_shows_the_name_as_code_and_the_reason_as_inert_text():
    from o2c.tasks.bank.rejection import Rejection

    shown = Rejection("x`y[z](http://e).xml", "x`y[z](http://e).xml: *bad* <b>").markdown()
    assert shown.startswith("# Relevé bancaire refusé : ``x`y[z](http://e).xml``\n")
    assert "\\*bad\\* \\<b\\>" in shown and "<b>" not in shown


def test_reasons_name_the_file_and_warehouse_trouble_is_not_the_file_s_fault():
    from o2c.locking import WarehouseLockTimeout
    from o2c.tasks.bank.rejection import rejection_for

    assert rejection_for(WarehouseLockTimeout("busy"), "a.xml", stage="load") is None
    unexpected = rejection_for(TypeError("boom\nmore"), "a.xml", stage="parse")
    assert (
        unexpected.reason == "a.xml: unexpected TypeError while reading it: boom more; file refused"
    )
    unreadable = rejection_for(PermissionError(13, "Permission denied"), "a.xml", stage="parse")
    assert unreadable.reason == "a.xml: cannot be read (Permission denied)"


def test_a_link_in_place_of_the_rejected_folder_is_never_followed(tmp_path: Path):
    folder, outside = tmp_path / "inbox", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    (folder / "rejected").symlink_to(outside)
    (folder / "bad.xml").write_text("nonsense")
    with pytest.raises(inbox.PathError, match="not a real folder"):
        inbox.move_rejected(folder / "bad.xml", "bad")
    assert list(outside.iterdir()) == [] and (folder / "bad.xml").exists()
    assert stat.S_ISLNK(os.lstat(folder / "rejected").st_mode)


def test_a_file_swapped_for_a_link_while_it_is_read_is_refused_and_nothing_loaded(
    tmp_path: Path, monkeypatch
):
    import o2c.flows.ingest_bank_statement as module

    folder, outside = tmp_path / "inbox", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    inbox.mark(folder)
    target = camt(outside / "treasury.xml", amount="7.00")
    before = state_of(target)
    camt(folder / "releve.xml")
    real_parse = module.parse_file

    def parse_then_swap(path: Path):
        parsed = real_parse(path)
        path.unlink()
        path.symlink_to(target)  # what a hostile uploader could do between two looks
        return parsed

    monkeypatch.setattr(module, "parse_file", parse_then_swap)
    with pytest.raises(inbox.Refused, match="changed while it was being read"):
        ingest_bank_statement(str(folder / "releve.xml"), db=str(tmp_path / "o2c.duckdb"),
                              archive=True)  # fmt: skip
    assert (folder / "rejected" / "releve.xml").is_symlink()
    assert state_of(target) == before and sorted(os.listdir(outside)) == ["treasury.xml"]
    with connect(tmp_path / "o2c.duckdb") as con:
        (loaded,) = con.execute("SELECT count(*) FROM bank_transactions").fetchone()
    assert loaded == 0


def test_with_a_server_a_file_never_moved_is_announced_once_more_then_left_alone(
    tmp_path: Path, monkeypatch, server_mode: list[dict]
):
    folder = tmp_path / "inbox"
    folder.mkdir()
    camt(folder / "stuck.xml")  # nobody serves the deployment: its run never comes
    hashed: list[str] = []
    real_hash = inbox.sha256_of_entry

    def counting_hash(path: Path) -> str:
        hashed.append(Path(path).name)
        return real_hash(path)

    monkeypatch.setattr(inbox, "sha256_of_entry", counting_hash)
    monkeypatch.setattr(watcher, "REANNOUNCE_SECONDS", 0.5)
    _, _, lines = run_watcher(folder, tmp_path / "o2c.duckdb", monkeypatch, polls=60)
    assert [e["payload"]["name"] for e in server_mode] == ["stuck.xml", "stuck.xml"]
    assert server_mode[0]["id"] == server_mode[1]["id"]
    assert hashed == ["stuck.xml"]  # hashed once for both announcements
    assert sum("announced again" in line for line in lines) == 1
    assert sum("stuck.xml: left in the inbox" in line for line in lines) == 1
