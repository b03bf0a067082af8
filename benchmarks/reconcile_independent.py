"""Today's reconciliation on the independent company (benchmarks/independent_company), line by line.

The company was written by another hand from a description of real payment habits, never from the
engine's rules, so this is the figure that says whether matching generalises. Issue 15 will fold it
into reconcile_accuracy.py beside the demo company; until then:

    python benchmarks/reconcile_independent.py [--seed 1] [--invoices 1500]

A bank line counts as right when the allocations to invoices equal the ground truth's exactly
(batch details `<entry ref>-n` are read as their entry; unapplied credits are left out, as the
ground truth leaves an overpayment's excess unallocated).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl

from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.store import load_statements
from o2c.tasks.erp.ingest import ingest_customer_file, ingest_invoice_file
from o2c.tasks.reconciliation.store import reconcile_warehouse
from o2c.warehouse import connect

GENERATOR = Path(__file__).parent / "independent_company" / "generate.py"


def allocations_by_line(db: Path) -> dict[tuple[str, str], list[tuple[str, str]]]:
    with connect(db, read_only=True) as con:
        rows = con.execute(
            "SELECT t.account_iban, regexp_replace(t.bank_reference, '-[0-9]+$', ''),"
            " a.invoice_id, CAST(a.amount AS VARCHAR)"
            " FROM allocations a JOIN bank_transactions t USING (transaction_id)"
            " WHERE a.invoice_id IS NOT NULL"
        ).fetchall()
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for iban, ref, invoice, amount in rows:
        found.setdefault((iban, ref), []).append((invoice, str(Decimal(amount))))
    return found


def judge(folder: Path, db: Path) -> pl.DataFrame:
    found = allocations_by_line(db)
    truth = pl.read_csv(folder / "ground_truth.csv", infer_schema_length=0)
    rows = []
    for r in truth.iter_rows(named=True):
        expected = sorted(
            (a["invoice_id"], str(Decimal(a["amount"])))
            for a in json.loads(r["allocations"] or "[]")
        )
        got = sorted(found.get((r["account_iban"], r["bank_reference"]), []))
        rows.append(
            {
                "case_kind": r["case_kind"],
                "expected": r["expected"],
                "allocated": bool(got),
                "right": bool(got) and got == expected,
            }
        )
    return pl.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--invoices", type=int, default=1500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, db = Path(tmp) / "company", Path(tmp) / "o2c.duckdb"
        subprocess.run(
            [
                sys.executable,
                str(GENERATOR),
                str(folder),
                "--seed",
                str(args.seed),
                "--invoices",
                str(args.invoices),
            ],
            check=True,
            capture_output=True,
        )
        with connect(db) as con:
            ingest_customer_file(con, folder / "customers.csv")
            ingest_invoice_file(con, folder / "invoices.csv")
            for path in sorted((folder / "statements").iterdir()):
                parsed = parse_file(path)
                load_statements(
                    con,
                    parsed.statements,
                    file_name=path.name,
                    sha256=parsed.sha256,
                    source="bank_statement",
                    flow_run_id=None,
                )
            reconcile_warehouse(con, flow_run_id=None)
        result = judge(folder, db)
    auto = result.filter(pl.col("expected") == "auto")
    person = result.filter(pl.col("expected") == "person")
    wrong = auto.filter(pl.col("allocated") & ~pl.col("right")).height
    print(
        f"machine's lines {auto.height}: exactly right {auto['right'].sum()}"
        f" ({100 * auto['right'].mean():.1f} %), allocated but not as the truth says {wrong}"
    )
    print(
        f"a person's lines {person.height}: left to a person {(~person['allocated']).sum()}"
        f" ({100 * (~person['allocated']).mean():.1f} %)"
    )
    with pl.Config(tbl_rows=60):
        print(
            result.group_by("case_kind", "expected")
            .agg(pl.len().alias("lines"), pl.col("right").sum(), pl.col("allocated").sum())
            .sort("lines", descending=True)
        )


if __name__ == "__main__":
    main()
