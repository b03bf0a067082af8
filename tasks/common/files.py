"""A file's SHA-256: what makes a second load of the same file a no-op, whatever its name."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO


def sha256_of(path: Path) -> str:
    with Path(path).open("rb") as handle:
        return sha256_of_stream(handle)


def sha256_of_stream(handle: BinaryIO) -> str:
    """The digest of what is left to read in an open binary file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()
