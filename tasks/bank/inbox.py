"""The bank-statement inbox: which files are ready, and where they go once handled.

A file is ready when its size and modification time have not moved for `settle_seconds`
(an SFTP upload or a copy in progress keeps changing both), and its name is not a
temporary one. Handled files leave the inbox: processed/DATE/ on success, rejected/ with
a .error.txt beside them on failure, so the inbox only ever shows what is still to do.

The inbox is a jail. Whoever can drop a file there (or send an event naming one) must not
make o2c read, move or write anything elsewhere: entries are looked at with `lstat`, never
through a link; a symbolic link, a hard link (a second name of a file that lives elsewhere
too) or anything but a regular file is refused, and it is the entry itself, never what it
points to, that is renamed into rejected/. Every move is a rename inside the inbox folder
(into real sub-folders, never links), and a path is only moved when its folder is an inbox:
one that `o2c watch` marked (`.o2c-inbox`) or that this process listed as one.
"""

from __future__ import annotations

import errno
import os
import stat
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from o2c.tasks.common.files import sha256_of_stream

PROCESSED = "processed"
REJECTED = "rejected"
MARKER = ".o2c-inbox"
_TEMPORARY_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".filepart", ".swp")
_EVENT_NAMESPACE = uuid.UUID("6f1c5a1e-0c2b-4f0e-9a59-2b8f3c1d7e01")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_declared: set[str] = set()  # real paths of the folders this process listed as inboxes


class PathError(ValueError):
    """A path o2c will not read or move as a statement file: missing, a directory, or not
    directly inside an inbox. One line naming the path; the `o2c` command prints it as is."""


class Refused(PathError):
    """An inbox entry refused whole (a link, not a regular file, unreadable): it goes to
    rejected/ with this reason, and whatever it points to is left alone."""


@dataclass(frozen=True)
class FileSeen:
    """What a look at an entry gives, without following it: equal means the same, unchanged."""

    size: int
    mtime_ns: int
    inode: int = 0
    device: int = 0


def candidates(inbox: Path) -> list[Path]:
    """Entries directly in the inbox, not temporary or hidden, and not folders.

    Links and other odd entries are included on purpose: `screen` refuses them, so they end
    in rejected/ instead of sitting in the inbox. Listing a folder declares it an inbox for
    the flows of this process (the daily flow and the watcher hand these paths on).
    """
    declare(inbox)
    found = []
    with os.scandir(inbox) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith((".", "~")) or name.lower().endswith(_TEMPORARY_SUFFIXES):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    continue
            except OSError:
                continue
            found.append(Path(inbox) / name)
    return sorted(found)


def declare(inbox: Path) -> None:
    """This process treats `inbox` as an inbox: its flows may archive files in it."""
    _declared.add(os.path.realpath(inbox))


def mark(inbox: Path) -> None:
    """Leave the marker that lets a flow in another process (`o2c serve`, a worker) archive here.

    `o2c watch` marks the folder it watches; a path in an unmarked folder sent by an event is
    refused, so nobody can make the flow move a file elsewhere on the machine.
    """
    marker = Path(inbox) / MARKER
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
    except FileExistsError:
        if not stat.S_ISREG(os.lstat(marker).st_mode):
            raise PathError(f"{marker}: exists and is not a plain file") from None
        return
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("o2c bank inbox: flows may move the statement files of this folder.\n")
    declare(inbox)


def is_inbox(folder: Path) -> bool:
    """A folder o2c may archive in: listed as an inbox by this process, or marked by a watcher."""
    if os.path.realpath(folder) in _declared:
        return True
    try:
        return stat.S_ISREG(os.lstat(Path(folder) / MARKER).st_mode)
    except OSError:
        return False


def observe(path: Path) -> FileSeen | None:
    """The entry itself (`lstat`), or None when it is gone."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return FileSeen(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


def settled(previous: FileSeen | None, current: FileSeen | None) -> bool:
    """Unchanged between two looks and not empty: the writer is done with it."""
    return current is not None and current.size > 0 and previous == current


def screen(path: Path) -> str | None:
    """Why this inbox entry is refused whole (a link, a hard link, not a regular file), or None.

    The reason names the entry; a link's target is named too, but never opened.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    name = Path(path).name
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return (
            f"{name}: a symbolic link (to {target}), not a file; links are refused in the inbox"
            " and what they point to is left alone"
        )
    if stat.S_ISDIR(st.st_mode):
        return f"{name}: a directory, not a statement file"
    if not stat.S_ISREG(st.st_mode):
        return f"{name}: not a regular file (a pipe, socket or device); refused"
    if st.st_nlink > 1:
        return (
            f"{name}: a hard link ({st.st_nlink} names for one file), so the file may live outside"
            " the inbox too; refused, the other names are left alone"
        )
    return None


def statement_path(path: str | Path, *, archive: bool) -> Path | None:
    """The statement file a flow was given, checked before anything reads or moves it.

    With `archive` (the file is the inbox's to move) the path must sit directly in an inbox and
    nothing is followed: None when it is gone (an earlier run handled it), PathError when it is
    a directory or outside an inbox. Without, it is a file a person named: followed like any
    path, and missing or a directory is a PathError naming it.
    """
    file = Path(os.path.abspath(path))  # `..` folded as text; links are not resolved
    if archive:
        if not is_inbox(file.parent):
            raise PathError(
                f"{file}: not directly inside a watched inbox (no {MARKER} in {file.parent});"
                " refused, nothing moved"
            )
        try:
            st = os.lstat(file)
        except FileNotFoundError:
            return None
    else:
        try:
            st = os.stat(file)
        except FileNotFoundError:
            raise PathError(f"{file}: no such file") from None
        except OSError as exc:
            raise PathError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise PathError(f"{file}: is a directory, not a statement file")
    return file


def check_unchanged(path: Path, before: FileSeen | None) -> None:
    """Refused when the entry is not the one looked at before (replaced or rewritten meanwhile):
    what was read may not be what would be archived."""
    if observe(path) != before or screen(path) is not None:
        raise Refused(f"{Path(path).name}: changed while it was being read; refused")


def _open_readonly(path: Path, *, follow_links: bool = False) -> int:
    """A descriptor on the entry itself: a link fails (O_NOFOLLOW), a pipe does not block.

    The one place the inbox opens a file, so a test can make it unreadable even for root.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_links else _NOFOLLOW)
    return os.open(path, flags)


def check_readable(path: Path, *, follow_links: bool = False) -> None:
    """Refused (with the reason in one line) when the file cannot be opened for reading.

    Checked before parsing, so an unreadable file is a reason naming it, not a traceback.
    """
    try:
        fd = _open_readonly(path, follow_links=follow_links)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:
            raise Refused(screen(path) or f"{path.name}: a symbolic link; refused") from None
        raise Refused(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    os.close(fd)


def sha256_of_entry(path: Path) -> str:
    """SHA-256 of a regular file read through no link (OSError otherwise, e.g. unreadable)."""
    fd = _open_readonly(path)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return sha256_of_stream(handle)


def event_id(sha256: str) -> uuid.UUID:
    """Same file content, same event id: the server drops a repeat within its dedup window."""
    return uuid.uuid5(_EVENT_NAMESPACE, sha256)


def file_event(path: Path, sha256: str | None = None) -> dict:
    """The event announcing a complete file; its trigger starts ingest-bank-statement.

    It names the inbox folder and the file name as the watcher sees them (`path` is the two
    joined, nothing resolved through links); the flow checks them again on its side.
    """
    sha = sha256 if sha256 is not None else sha256_of_entry(path)
    file = Path(os.path.abspath(path))
    seen = observe(file)
    return {
        "event": "o2c.inbox.file.received",
        "resource": {
            "prefect.resource.id": f"o2c.inbox.file.{sha}",
            "prefect.resource.name": file.name,
            "o2c.path": str(file),
            "o2c.sha256": sha,
        },
        "payload": {
            "path": str(file),
            "inbox": str(file.parent),
            "name": file.name,
            "sha256": sha,
            "size": seen.size if seen else None,
        },
        "id": event_id(sha),
    }


def _subfolder(inbox: Path, *names: str) -> Path:
    """A real folder under the inbox (made when missing); a link in its place is refused."""
    folder = inbox
    for name in names:
        folder = folder / name
        with suppress(FileExistsError):
            os.mkdir(folder)
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            raise PathError(f"{folder}: is not a real folder (a link?); nothing moved into it")
    return folder


def _free_name(target: Path, *, companion: str = "") -> Path:
    """A name in the target folder that overwrites nothing (nor its `companion` suffix file)."""

    def free(candidate: Path) -> bool:
        return not os.path.lexists(candidate) and not (
            companion and os.path.lexists(candidate.with_name(candidate.name + companion))
        )

    if free(target):
        return target
    for i in range(1, 10_000):
        candidate = target.with_name(f"{target.stem}.{i}{target.suffix}")
        if free(candidate):
            return candidate
    raise FileExistsError(target)


def _entry(path: Path) -> tuple[Path, str]:
    file = Path(os.path.abspath(path))
    if file.name in {"", ".", ".."}:
        raise PathError(f"{path}: not a file name")
    return file.parent, file.name


def move_processed(path: Path, *, today: date) -> Path:
    """Rename the entry into processed/DATE/ of its own inbox."""
    inbox, name = _entry(path)
    target = _free_name(_subfolder(inbox, PROCESSED, today.isoformat()) / name)
    os.rename(inbox / name, target)  # renames the entry itself, whatever it is
    return target


def move_rejected(path: Path, reason: str) -> Path:
    """Rename the entry (a link stays a link) into rejected/, its reason in NAME.error.txt."""
    inbox, name = _entry(path)
    target = _free_name(_subfolder(inbox, REJECTED) / name, companion=".error.txt")
    os.rename(inbox / name, target)
    note = target.with_name(target.name + ".error.txt")
    fd = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(reason + "\n")
    return target
