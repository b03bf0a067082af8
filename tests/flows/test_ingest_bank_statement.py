"""Bank statements through the flow and the watcher without a server: processed or rejected."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.demo.camt_writer import write_camt053
from o2c.warehouse import connect
from o2c.watcher import watch_inbox

pytestmark = pytest.mark.usefixtures("prefect_api")
IBAN = "FR7630003012340123456789057"


def camt(path: Path, closing: str = "1150.00") -> Path:
    lines = [
        StatementLine(date(2026, 11, 2), Decimal("120.00"), "EUR", bank_reference="R1",
                      remittance_unstructured="Facture FA2026-000001"),
        StatementLine(date(2026, 11, 3), Decimal("30.00"), "EUR", bank_reference="R2"),
    ]  # fmt: skip
    statement = Statement(
        "camt.053", IBAN, "EUR", "S-1", date(2026, 11, 2), date(2026, 11, 3),
        Decimal("1000.00"), Decimal(closing), lines,
    )  # fmt: skip
    write_camt053(path, [statement])
    return path


def test_watcher_without_server_ingests_and_sorts_the_inbox(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # the harness sets it; a user may not
    folder = tmp_path / "inbox"
    folder.mkdir()
    camt(folder / "good.xml")
    camt(folder / "unbalanced.xml", closing="1149.99")
    (folder / "truncated.xml").write_text(
        (folder / "good.xml").read_text(encoding="utf-8")[:400], encoding="utf-8"
    )
    (folder / "upload.xml.part").write_text("still uploading")
    db = tmp_path / "o2c.duckdb"
    lines: list[str] = []
    handled = watch_inbox(folder, db=str(db), settle_seconds=0.2, poll_seconds=0.1, once=True,
                          echo=lines.append)  # fmt: skip
    assert handled == 3
    assert [p.name for p in (folder / "processed" / date.today().isoformat()).iterdir()] == [
        "good.xml"
    ]
    rejected = folder / "rejected"
    assert sorted(p.name for p in rejected.iterdir() if p.suffix == ".xml") == [
        "truncated.xml",
        "unbalanced.xml",
    ]
    reason = (rejected / "unbalanced.xml.error.txt").read_text()
    assert "does not balance" in reason and "difference 0.01" in reason
    assert "truncated.xml" in (rejected / "truncated.xml.error.txt").read_text()
    assert (folder / "upload.xml.part").exists()  # never picked up
    with connect(db) as con:
        rows = con.execute("SELECT sum(amount), count(*) FROM bank_transactions").fetchall()
        batches = con.execute(
            "SELECT file_name, status, message, sha256 IS NOT NULL FROM load_batches"
            " ORDER BY file_name"
        ).fetchall()
    assert rows == [(Decimal("150.00"), 2)]
    # every file seen leaves its batch row, the refused ones with their reason
    assert [(name, status, ok) for name, status, _, ok in batches] == [
        ("good.xml", "loaded", True),
        ("truncated.xml", "rejected", True),
        ("unbalanced.xml", "rejected", True),
    ]
    assert "truncated" in batches[1][2] and "does not balance" in batches[2][2]


def test_a_rejection_artifact_shows_a_hostile_file_name_inert(tmp_path: Path, monkeypatch):
    from o2c.flows.ingest_bank_statement import ingest_bank_statement
    from o2c.tasks.bank import inbox
    from tests.prefect_artifacts import latest_artifact

    folder = tmp_path / "inbox"
    folder.mkdir()
    inbox.mark(folder)
    name = "[x](http:evil) *b* `c`.xml"
    (folder / name).write_text("not a statement")
    with pytest.raises(ValueError, match="unknown format"):
        ingest_bank_statement(str(folder / name), db=str(tmp_path / "o2c.duckdb"), archive=True)
    shown = latest_artifact("bank-ingestion").data
    assert shown.startswith("# Relevé bancaire refusé : ``[x](http:evil) *b* `c`.xml``\n")
    assert "\\[x\\]\\(http\\:evil\\) \\*b\\*" in shown  # the reason names it, escaped
    assert (folder / "rejected" / name).read_text() == "not a statement"


def test_the_artifact_lists_each_already_known_line_with_its_stored_line(tmp_path: Path):
    from o2c.flows.ingest_bank_statement import ingest_bank_statement
    from tests.prefect_artifacts import latest_artifact

    db = str(tmp_path / "o2c.duckdb")
    first = ingest_bank_statement(str(camt(tmp_path / "monday.xml")), db=db)
    # the same statement rewritten with a third line: two lines known by their references
    lines = [
        StatementLine(date(2026, 11, 2), Decimal("120.00"), "EUR", bank_reference="R1"),
        StatementLine(date(2026, 11, 3), Decimal("30.00"), "EUR", bank_reference="R2"),
        StatementLine(date(2026, 11, 3), Decimal("30.00"), "EUR", bank_reference="R3"),
    ]
    later = tmp_path / "tuesday.xml"
    write_camt053(later, [Statement(
        "camt.053", IBAN, "EUR", "S-2", date(2026, 11, 2), date(2026, 11, 3),
        Decimal("1000.00"), Decimal("1180.00"), lines,
    )])  # fmt: skip
    result = ingest_bank_statement(str(later), db=db)
    assert (result.loaded, result.duplicates) == (1, 2)
    shown = latest_artifact("bank-ingestion").data
    listed = [x for x in shown.splitlines() if x.startswith(("| 02/11/2026", "| 03/11/2026"))]
    assert len(listed) == 2  # French by default: dates dd/mm/yyyy, words from fr.toml
    assert "R1" in listed[0] and "120,00" in listed[0]
    assert all(f"lot {first.batch_id}" in x and "monday.xml" in x for x in listed)
    assert shown.startswith("# Relevé bancaire : `tuesday.xml`")
