"""ERE letters in a real warehouse file: kept once, sent, their states and proofs audited, and the
litigation file a lawyer receives from `o2c ere dossier`."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from o2c.cli import app
from o2c.tasks.connectors.ar24 import LetterState
from o2c.tasks.dunning import audit
from o2c.tasks.dunning.outbox import enqueue
from o2c.tasks.ere import store
from o2c.tasks.ere.letter import debtor_from_warehouse, render_letter
from o2c.warehouse import connect
from tests.tasks.dunning.outbox_fixtures import rendered
from tests.tasks.ere.pdftext import pdf_text
from tests.tasks.ere.test_letter import notice

runner = CliRunner()
HOSTILE = '=HYPERLINK("http://evil.example","Garage") #$\\<{]'
SENT_AT = datetime(2026, 3, 2, 9, 30)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "o2c.duckdb"
    with connect(path) as con:
        con.execute(
            "INSERT INTO customers (customer_id, name, siren, address_line1, postal_code, city,"
            " country, language, row_hash, updated_at) VALUES"
            " ('C-042', ?, '552100554', '4 avenue Foch', '33000', 'Bordeaux', 'France', 'fr',"
            " 'h', now()),"
            " ('C-999', 'Autre Client', NULL, NULL, NULL, NULL, NULL, 'en', 'h', now())",
            [HOSTILE],
        )
        for invoice_id, doc, customer, total in [
            ("F-2026-001", "invoice", "C-042", "1200.00"),
            ("F-2026-002", "invoice", "C-042", "500.00"),
            ("AV-7", "credit_note", "C-042", "-100.00"),
            ("F-OTHER", "invoice", "C-999", "70.00"),
        ]:
            con.execute(
                "INSERT INTO invoices (invoice_id, document_type, customer_id, legal_entity,"
                " issue_date, due_date, currency, amount_total, row_hash, first_loaded_at,"
                " updated_at) VALUES (?, ?, ?, 'FR01', '2026-01-05', '2026-02-04', 'EUR', ?, 'h',"
                " now(), now())",
                [invoice_id, doc, customer, total],
            )
        # 400.00 of F-2026-001 paid: 800.00 left, as the notice claims
        con.execute(
            "INSERT INTO bank_transactions (transaction_id, account_iban, currency, booking_date,"
            " amount, source, loaded_at) VALUES ('T1', 'FR7630001007941234567890185', 'EUR',"
            " '2026-02-20', 400.00, 'camt.053', now())"
        )
        con.execute(
            "INSERT INTO allocations VALUES ('A1', 'T1', 'F-2026-001', 'C-042', 400.00, 'EUR',"
            " 'payment', 'reference', 1.0, NULL, NULL, now())"
        )
    return path


def keep_letter(path: Path, customer: str = "C-042") -> tuple[str, bytes, Path]:
    """The notice enqueued in the outbox, then kept as the ERE step keeps it."""
    c = notice("fr", customer_id=customer)
    with connect(path) as con:
        enqueue(con, c, rendered(c))
    kept = store.keep_letter(c, db=path)
    assert kept.recorded and kept.key == c.key
    pdf = kept.path.read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == kept.pdf_sha256
    return c.key, pdf, kept.path


def test_a_letter_is_kept_once_sent_once_and_each_step_audited(db: Path, tmp_path: Path) -> None:
    key, pdf, kept = keep_letter(db)
    c = notice("fr")
    assert kept == db.parent / "ere-letters" / f"{key}.pdf" and kept.read_bytes() == pdf
    assert not list(kept.parent.glob(".*.partial"))
    text = " ".join(pdf_text(pdf).split())
    assert "33000 Bordeaux" in text and "SIREN 552 100 554" in text  # from the customer master
    assert "8 jours à compter de la réception" in text  # the policy's formal_notice_days
    again = store.keep_letter(c, db=db)  # a re-run: same file, nothing new recorded
    assert (again.recorded, again.path, again.pdf_sha256) == (False, kept, store.sha256_file(kept))

    with connect(db) as con:
        debtor = debtor_from_warehouse(con, "C-042")
        _, _, meta = render_letter(c, None, debtor)
        assert store.record_letter(con, c, meta, kept) is False  # the same letter again
        with pytest.raises(store.LetterStoreError, match="never rewritten"):
            store.save_pdf(kept.parent, key, pdf + b"%")

        sent = dict(mail_id="m-1", attachment_id="a-1", ar24_status="waiting")
        assert store.mark_sent(con, key, state=LetterState.WAITING, now=SENT_AT, **sent)
        assert not store.mark_sent(con, key, state=LetterState.WAITING, **sent)
        with pytest.raises(store.LetterStoreError, match="two AR24 letters"):
            store.mark_sent(con, key, mail_id="m-2", attachment_id=None, ar24_status="waiting",
                            state=LetterState.WAITING)  # fmt: skip
        assert not store.update_status(con, key, ar24_status="waiting", state=LetterState.WAITING)
        assert store.update_status(con, key, ar24_status="AR", state=LetterState.ACCEPTED)

        proof = tmp_path / "evidence" / f"{key}_ar.pdf"
        store.write_atomically(proof, b"%PDF-1.4 proof of receipt")
        proof_sha = store.sha256_file(proof)
        args = dict(kind="ar", path=proof, sha256=proof_sha, proof_date=SENT_AT)
        assert store.record_proof(con, key, **args)
        assert not store.record_proof(con, key, **args)

        row = con.execute(
            "SELECT status, ar24_status, ar24_mail_id, pdf_sha256 FROM ere_letters"
        ).fetchall()
        assert row == [("accepted", "AR", "m-1", hashlib.sha256(pdf).hexdigest())]
        events = con.execute(
            "SELECT json_extract_string(payload, '$.ere'), content_sha256 FROM audit_log"
            " WHERE subject = ? AND payload LIKE '%\"ere\"%' ORDER BY seq",
            [key],
        ).fetchall()
        assert events == [
            ("letter_rendered", hashlib.sha256(pdf).hexdigest()),
            ("letter_sent", None),
            ("letter_status", None),
            ("proof_recorded", proof_sha),
        ]
        assert audit.verify(con).ok
        assert store.check_files(con, kept.parent) == []

        proof.write_bytes(b"%PDF-1.4 another proof")
        problems = store.check_files(con, kept.parent)
    assert [(p.what, p.reason) for p in problems] == [
        ("proof ar", "SHA-256 differs from the record")
    ]


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_the_dossier_holds_what_a_lawyer_needs_and_nothing_of_other_customers(
    db: Path, tmp_path: Path
) -> None:
    key, pdf, _ = keep_letter(db)
    keep_letter(db, "C-999")  # another customer's notice stays out
    proof = tmp_path / "evidence" / f"{key}_ar.pdf"
    store.write_atomically(proof, b"%PDF-1.4 proof of receipt")
    with connect(db) as con:
        store.mark_sent(con, key, mail_id="m-1", attachment_id="a-1", ar24_status="AR",
                        state=LetterState.ACCEPTED, now=SENT_AT)  # fmt: skip
        store.record_proof(con, key, kind="ar", path=proof, sha256=store.sha256_file(proof),
                           proof_date=SENT_AT)  # fmt: skip
    out = tmp_path / "dossier"

    result = runner.invoke(
        app, ["--db", str(db), "litigation", "export", "C-042", "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    assert "3 invoices, 1 letters, 1 proofs" in result.output
    invoices = {r["invoice_id"]: r for r in rows(out / "invoices.csv")}
    assert set(invoices) == {"F-2026-001", "F-2026-002", "AV-7"}
    assert invoices["F-2026-001"]["amount_open"] == "800.00"
    assert invoices["F-2026-001"]["due_date"] == "2026-02-04"
    (customer,) = rows(out / "customer.csv")
    assert customer["name"] == "'" + HOSTILE and customer["siren"] == "552100554"  # inert
    assert (out / "letters" / f"{key}.pdf").read_bytes() == pdf
    assert (out / "proofs" / f"{key}_ar.pdf").read_bytes() == proof.read_bytes()
    (letter,) = rows(out / "letters.csv")
    assert letter["pdf_sha256"] == hashlib.sha256(pdf).hexdigest()
    assert letter["ar24_mail_id"] == "m-1" and letter["status"] == "accepted"
    (history,) = rows(out / "communications.csv")
    assert history["key"] == key
    audit_rows = rows(out / "audit.csv")
    assert {r["subject"] for r in audit_rows} == {key}
    assert '"proof_recorded"' in " ".join(r["payload"] for r in audit_rows)
    manifest = (out / "MANIFEST.sha256").read_text().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in manifest)
    assert set(listed) == {
        "audit.csv", "communications.csv", "customer.csv", "invoices.csv", "letters.csv",
        "proofs.csv", f"letters/{key}.pdf", f"proofs/{key}_ar.pdf",
    }  # fmt: skip
    for name, sha in listed.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == sha


def test_the_dossier_refuses_altered_evidence_naming_the_file(db: Path, tmp_path: Path) -> None:
    key, _, kept = keep_letter(db)
    kept.write_bytes(kept.read_bytes() + b"\n% edited")
    out = tmp_path / "dossier"

    result = runner.invoke(app, ["--db", str(db), "ere", "dossier", "C-042", "--out", str(out)])

    assert result.exit_code == 1
    assert f"{key}.pdf" in result.output and "SHA-256" in result.output
    assert not out.exists()
    check = runner.invoke(app, ["--db", str(db), "ere", "check"])
    assert check.exit_code == 1 and f"{key} letter" in check.output


def test_audit_verify_fails_on_an_altered_proof_and_passes_while_intact(
    db: Path, tmp_path: Path
) -> None:
    key, _, _ = keep_letter(db)
    proof = tmp_path / "evidence" / f"{key}_ar.pdf"
    store.write_atomically(proof, b"%PDF-1.4 proof of receipt")
    with connect(db) as con:
        store.record_proof(con, key, kind="ar", path=proof, sha256=store.sha256_file(proof),
                           proof_date=SENT_AT)  # fmt: skip

    intact = runner.invoke(app, ["--db", str(db), "audit", "verify"])
    proof.write_bytes(b"%PDF-1.4 proof of receipt, edited")
    altered = runner.invoke(app, ["--db", str(db), "audit", "verify"])

    assert intact.exit_code == 0, intact.output
    assert altered.exit_code == 1
    assert f"{key} proof ar" in altered.output and str(proof) in altered.output
