"""The inbox rules: what counts as a complete file, and where handled files go."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

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


def test_links_and_odd_entries_are_candidates_so_they_get_refused_but_folders_are_not(
    tmp_path: Path,
):
    outside = tmp_path / "outside.xml"
    outside.write_text("x")
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "plain.xml").write_text("x")
    (folder / "soft.xml").symlink_to(outside)
    (folder / "to_folder.xml").symlink_to(tmp_path)
    os.link(outside, folder / "hard.xml")
    os.mkfifo(folder / "pipe.xml")
    (folder / "folder.xml").mkdir()
    names = [p.name for p in inbox.candidates(folder)]
    assert names == ["hard.xml", "pipe.xml", "plain.xml", "soft.xml", "to_folder.xml"]
    reasons = {name: inbox.screen(folder / name) for name in names}
    assert reasons["plain.xml"] is None
    assert reasons["soft.xml"].startswith(f"soft.xml: a symbolic link (to {outside})")
    assert "symbolic link" in reasons["to_folder.xml"]
    assert reasons["hard.xml"].startswith("hard.xml: a hard link (2 names")
    assert reasons["pipe.xml"].startswith("pipe.xml: not a regular file")


def test_only_a_declared_or_marked_folder_is_an_inbox(tmp_path: Path):
    marked, other, listed = tmp_path / "marked", tmp_path / "other", tmp_path / "listed"
    for folder in (marked, other, listed):
        folder.mkdir()
    inbox.mark(marked)
    inbox.mark(marked)  # again: no harm
    inbox.candidates(listed)
    assert inbox.is_inbox(marked) and inbox.is_inbox(listed)
    assert not inbox.is_inbox(other)
    assert inbox.candidates(marked) == []  # the marker is hidden


def test_a_rejected_entry_never_overwrites_an_earlier_one_nor_its_reason(tmp_path: Path):
    (tmp_path / "rejected").mkdir()
    (tmp_path / "rejected" / "a.xml.error.txt").write_text("an orphan reason")
    (tmp_path / "a.xml").write_text("new")
    target = inbox.move_rejected(tmp_path / "a.xml", "why")
    assert target.name == "a.1.xml" and target.read_text() == "new"
    assert (tmp_path / "rejected" / "a.1.xml.error.txt").read_text() == "why\n"
    assert (tmp_path / "rejected" / "a.xml.error.txt").read_text() == "an orphan reason"


def test_the_files_hash_is_read_through_no_link(tmp_path: Path):
    (tmp_path / "real.xml").write_text("same")
    (tmp_path / "link.xml").symlink_to("real.xml")
    assert len(inbox.sha256_of_entry(tmp_path / "real.xml")) == 64
    with pytest.raises(OSError):
        inbox.sha256_of_entry(tmp_path / "link.xml")
