"""Format detection from content, and the refusals every format shares."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.statements.errors import StatementError


@pytest.mark.samples
def test_format_comes_from_content_not_name(samples: Path, tmp_path: Path) -> None:
    misleading = tmp_path / "statement.xml"
    shutil.copy(samples / "mt940/oca-bsi__test-ing.940", misleading)
    parsed = parse_file(misleading)
    assert parsed.format == "mt940"
    assert parsed.sha256 == hashlib.sha256(misleading.read_bytes()).hexdigest()


def test_unknown_format_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Dear bank,\nplease send the statements.\n")
    with pytest.raises(StatementError, match=r"notes\.txt, start of file: unknown format"):
        parse_file(path)


def test_unknown_xml_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "pain.xml"
    path.write_text('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>')
    with pytest.raises(StatementError, match="unknown format"):
        parse_file(path)


def test_oversize_file_is_rejected_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.sta"
    path.write_text(":20:X\n" * 100)
    with pytest.raises(StatementError, match="600 bytes, above the 500-byte limit"):
        parse_file(path, max_bytes=500)


def test_the_size_limit_is_a_setting(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "big.sta"
    path.write_text(":20:X\n" * 100)
    monkeypatch.setenv("O2C_STATEMENT_MAX_BYTES", "500")
    with pytest.raises(StatementError, match=r"above the 500-byte limit.*O2C_STATEMENT_MAX_BYTES"):
        parse_file(path)
    monkeypatch.setenv("O2C_STATEMENT_MAX_BYTES", "1000")
    assert parse_file(path).format == "mt940"


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.xml"
    path.touch()
    with pytest.raises(StatementError, match="empty file"):
        parse_file(path)
