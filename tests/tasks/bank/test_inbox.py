"""The inbox rules: what counts as a complete file, and where handled files go."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from o2c.tasks.bank import inbox


def test_temporary_hidden_and_nested_files_are_not_candidates(tmp_path: Path):
    for name in ["a.xml", "b.sta", ".hidden.xml", "c.xml.part", "d.tmp", "~lock.xml"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "processed").mkdir()
    (tmp_path / "processed" / "old.xml").write_text("x")
    assert [p.name for p in inbox.candidates(tmp_path)] == ["a.xml", "b.sta"]


def test_a_file_is_settled_only_when_unchanged_and_not_empty(tmp_path: Path):
    path = tmp_path / "a.xml"
    path.write_text("")
    empty = inbox.observe(path)
    assert not inbox.settled(empty, inbox.observe(path))  # nothing written yet
    path.write_text("<Document>")
    first = inbox.observe(path)
    assert not inbox.settled(empty, first)  # still growing
    assert inbox.settled(first, inbox.observe(path))
    path.unlink()
    assert not inbox.settled(first, inbox.observe(path))


def test_processed_files_go_to_a_dated_folder_without_overwriting(tmp_path: Path):
    day = date(2026, 11, 22)
    for content in ["first", "second"]:
        path = tmp_path / "stmt.xml"
        path.write_text(content)
        inbox.move_processed(path, today=day)
    folder = tmp_path / "processed" / "2026-11-22"
    assert sorted(p.name for p in folder.iterdir()) == ["stmt.1.xml", "stmt.xml"]
    assert (folder / "stmt.xml").read_text() == "first"


def test_rejected_files_keep_their_reason_beside_them(tmp_path: Path):
    path = tmp_path / "broken.xml"
    path.write_text("<Document")
    inbox.move_rejected(path, "broken.xml, line 1: truncated")
    assert (tmp_path / "rejected" / "broken.xml").exists()
    reason = (tmp_path / "rejected" / "broken.xml.error.txt").read_text()
    assert reason == "broken.xml, line 1: truncated\n"


def test_the_event_names_the_file_and_is_stable_for_the_same_content(tmp_path: Path):
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    a.write_text("same")
    b.write_text("same")
    event_a, event_b = inbox.file_event(a), inbox.file_event(b)
    assert event_a["event"] == "o2c.inbox.file.received"
    assert event_a["resource"]["prefect.resource.id"].startswith("o2c.inbox.file.")
    assert event_a["payload"]["path"] == str(a.absolute())  # as seen, never resolved
    assert (event_a["payload"]["inbox"], event_a["payload"]["name"]) == (str(tmp_path), "a.xml")
    assert event_a["id"] == event_b["id"]  # same bytes, same id: the server drops the repeat
