"""The bank-statement inbox: which files are ready, and where they go once handled.

A file is ready when its size and modification time have not moved for `settle_seconds`
(an SFTP upload or a copy in progress keeps changing both), and its name is not a
temporary one. Handled files leave the inbox: processed/DATE/ on success, rejected/ with
a .error.txt beside them on failure, so the inbox only ever shows what is still to do.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from o2c.tasks.common.files import sha256_of

PROCESSED = "processed"
REJECTED = "rejected"
_TEMPORARY_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".filepart", ".swp")
_EVENT_NAMESPACE = uuid.UUID("6f1c5a1e-0c2b-4f0e-9a59-2b8f3c1d7e01")


@dataclass(frozen=True)
class FileSeen:
    size: int
    mtime_ns: int


def candidates(inbox: Path) -> list[Path]:
    """Regular files directly in the inbox that are not temporary or hidden."""
    return sorted(
        p
        for p in inbox.iterdir()
        if p.is_file()
        and not p.name.startswith((".", "~"))
        and not p.name.lower().endswith(_TEMPORARY_SUFFIXES)
    )


def observe(path: Path) -> FileSeen | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return FileSeen(stat.st_size, stat.st_mtime_ns)


def settled(previous: FileSeen | None, current: FileSeen | None) -> bool:
    """Unchanged between two looks and not empty: the writer is done with it."""
    return current is not None and current.size > 0 and previous == current


def event_id(sha256: str) -> uuid.UUID:
    """Same file content, same event id: the server drops a repeat within its dedup window."""
    return uuid.uuid5(_EVENT_NAMESPACE, sha256)


def file_event(path: Path) -> dict:
    """The event announcing a complete file; its trigger starts ingest-bank-statement."""
    sha = sha256_of(path)
    return {
        "event": "o2c.inbox.file.received",
        "resource": {
            "prefect.resource.id": f"o2c.inbox.file.{sha}",
            "prefect.resource.name": path.name,
            "o2c.path": str(path.resolve()),
            "o2c.sha256": sha,
        },
        "payload": {"path": str(path.resolve()), "sha256": sha, "size": path.stat().st_size},
        "id": event_id(sha),
    }


def _free_name(target: Path) -> Path:
    """A name in the target folder that does not overwrite an earlier file of the same name."""
    if not target.exists():
        return target
    for i in range(1, 10_000):
        candidate = target.with_name(f"{target.stem}.{i}{target.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(target)


def move_processed(path: Path, *, today: date) -> Path:
    folder = path.parent / PROCESSED / today.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.move(str(path), _free_name(folder / path.name)))


def move_rejected(path: Path, reason: str) -> Path:
    folder = path.parent / REJECTED
    folder.mkdir(parents=True, exist_ok=True)
    target = Path(shutil.move(str(path), _free_name(folder / path.name)))
    target.with_name(target.name + ".error.txt").write_text(reason + "\n", encoding="utf-8")
    return target
