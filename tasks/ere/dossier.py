"""The litigation file of one customer: what a lawyer or a collection agency needs to ask a court
for an injonction de payer, as a folder of plain files.

- customer.csv: the debtor as the customer master holds it (name, address, SIREN);
- invoices.csv: every invoice and credit note of the customer, with what is still open;
- communications.csv: the dunning history (every reminder and notice, its status and hash);
- letters.csv + letters/<key>.pdf: the formal notices as sent, with their SHA-256;
- proofs.csv + proofs/<key>_<kind>.<ext>: AR24's proofs (deposit, receipt, refusal, not claimed);
- audit.csv: the audit rows about the customer, its communications and letters, with their chain
  hashes, so each can be matched against the full log (`o2c audit verify`);
- MANIFEST.sha256: every file's SHA-256 (`sha256sum -c MANIFEST.sha256` checks the folder).

A letter or proof whose file is missing or whose bytes no longer match the SHA-256 recorded when
it was kept stops the export with the file named: a file that cannot be shown intact is not
evidence. CSV cells that a spreadsheet would run as a formula are made inert (common.escaping).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from o2c.tasks.common.escaping import csv_safe
from o2c.tasks.ere.store import LetterStoreError, letters, proofs, sha256_file, write_atomically

MANIFEST = "MANIFEST.sha256"


@dataclass(frozen=True)
class Dossier:
    folder: Path
    customer_id: str
    files: tuple[tuple[str, str], ...]  # (path inside the folder, SHA-256), the manifest's lines
    letters: int
    proofs: int
    invoices: int


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> pl.DataFrame:
    return con.sql(sql, params=params).pl()


def _checked(path: Path, sha256: str, what: str) -> bytes:
    if not path.is_file():
        raise LetterStoreError(f"{what}: {path} is missing; the dossier is not written without it")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise LetterStoreError(
            f"{what}: {path} no longer has the SHA-256 recorded for it ({sha256[:12]}...); "
            "the dossier is not written with altered evidence"
        )
    return data


def write_dossier(
    con: duckdb.DuckDBPyConnection, customer_id: str, out: Path, letters_folder: Path
) -> Dossier:
    """Gather the customer's litigation file into `out` (created; it must be empty or absent)."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: not empty; the dossier goes into a new or empty folder")
    customer = _frame(
        con,
        """SELECT customer_id, name, siren, vat_number, address_line1, address_line2,
                  postal_code, city, country, language, customer_kind
           FROM customers WHERE customer_id = ?""",
        [customer_id],
    )
    if customer.is_empty():
        raise LookupError(f"customer {customer_id!r} is not in the customers table")
    invoices = _frame(
        con,
        """SELECT i.invoice_id, i.document_type, i.issue_date, i.due_date, i.currency,
                  i.amount_total, COALESCE(o.amount_open, 0)::DECIMAL(18, 2) AS amount_open,
                  i.reference, i.po_number
           FROM invoices i LEFT JOIN open_items o USING (invoice_id)
           WHERE i.customer_id = ? ORDER BY i.issue_date, i.invoice_id""",
        [customer_id],
    )
    history = _frame(
        con,
        """SELECT key, as_of, level, level_name, channel, language, due_cents, subject, status,
                  provider_id, planned_at, sent_at, content_sha256
           FROM dunning_outbox WHERE customer_id = ? ORDER BY as_of, level, key""",
        [customer_id],
    )
    sent = letters(con, customer_id)
    keys = sent["key"].to_list()
    kept = proofs(con, keys)
    subjects = sorted({customer_id, *keys, *history["key"].to_list()})
    audit_rows = _frame(
        con,
        """SELECT seq, recorded_at, event, subject, payload, flow_run_id, template_sha256,
                  content_sha256, prev_sha256, row_sha256
           FROM audit_log WHERE list_contains(?, subject) ORDER BY seq""",
        [subjects],
    )

    # the evidence first, checked against its recorded hash, before anything is written
    files: dict[str, bytes] = {}
    for key, name, sha in sent.select("key", "pdf_path", "pdf_sha256").iter_rows():
        files[f"letters/{name}"] = _checked(letters_folder / name, sha, f"letter {key}")
    proof_names = []
    for key, kind, path, sha in kept.select("key", "kind", "path", "sha256").iter_rows():
        name = f"proofs/{key}_{kind}{Path(path).suffix or '.pdf'}"
        files[name] = _checked(Path(path), sha, f"letter {key}, proof {kind}")
        proof_names.append(name)
    kept = kept.with_columns(file=pl.Series(proof_names, dtype=pl.String)).drop("path")
    sent = sent.with_columns(file=pl.concat_str(pl.lit("letters/"), pl.col("pdf_path"))).drop(
        "pdf_path"
    )
    tables = {
        "customer.csv": customer,
        "invoices.csv": invoices,
        "communications.csv": history,
        "letters.csv": sent,
        "proofs.csv": kept,
        "audit.csv": audit_rows,
    }
    for name, frame in tables.items():
        files[name] = csv_safe(frame).write_csv().encode()

    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for name in sorted(files):
        write_atomically(out / name, files[name])
        lines.append((name, hashlib.sha256(files[name]).hexdigest()))
    manifest = "".join(f"{sha}  {name}\n" for name, sha in lines)
    write_atomically(out / MANIFEST, manifest.encode())
    assert all(sha256_file(out / name) == sha for name, sha in lines)
    return Dossier(
        folder=out,
        customer_id=customer_id,
        files=tuple(lines),
        letters=sent.height,
        proofs=kept.height,
        invoices=invoices.height,
    )
