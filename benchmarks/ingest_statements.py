"""Bank statement ingestion: parse + load a generated camt.053 and MT940 into a fresh warehouse.

Target: at least 100,000 entries/s end to end (parse with its well-formedness check and file
hash, balance check, load into a fresh warehouse). Baseline in the same run: a plain parse of the
same camt file with the standard library's xml.etree (iterparse, clearing each entry), which
extracts nothing. Each format is ingested `--repeat` times (a fresh warehouse each time) and
judged on the median, since a shared 2-core machine swings by a second or more between runs.

    .venv/bin/python benchmarks/ingest_statements.py            # 1,000,000 entries each, 3 runs
    .venv/bin/python benchmarks/ingest_statements.py --entries 50000 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from peak_memory import PeakRss  # benchmarks/peak_memory.py

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.statements.detect import parse_file
from o2c.tasks.bank.store import load_statements
from o2c.tasks.demo.camt_writer import write_camt053
from o2c.tasks.demo.mt940_writer import write_mt940
from o2c.warehouse import connect

TARGET = 100_000
PER_STATEMENT = 10_000  # one daily statement holds this many entries
ACCOUNT = "FR7630003012340123456789057"
NAMES = ["ACME SARL", "Boulangerie Martin", "Durand & Fils", "Transports Roux", "SCI Les Pins"]


def statements(entries: int, seed: int = 7) -> Iterator[Statement]:
    """Daily statements of one account, generated lazily (the writers stream them)."""
    rng = random.Random(seed)
    balance = Decimal("100000.00")
    day = date(2025, 1, 1)
    done = 0
    n = 0
    while done < entries:
        count = min(PER_STATEMENT, entries - done)
        lines = []
        for i in range(count):
            cents = rng.randint(100, 2_000_000)
            amount = Decimal(cents).scaleb(-2) * (1 if rng.random() < 0.6 else -1)
            k = done + i
            lines.append(
                StatementLine(
                    booking_date=day,
                    amount=amount,
                    currency="EUR",
                    value_date=day,
                    counterparty_name=NAMES[k % len(NAMES)],
                    counterparty_iban="FR7630001007941234567890185",
                    remittance_unstructured=f"Facture F{k:08d}",
                    remittance_structured=None,
                    end_to_end_id=f"E2E{k:012d}",
                    bank_reference=f"B{k:012d}",
                    bank_tx_code="PMNT/RCDT/ESCT" if amount > 0 else "PMNT/ICDT/ESCT",
                )
            )
        total = sum((x.amount for x in lines), Decimal(0))
        n += 1
        yield Statement(
            "camt.053", ACCOUNT, "EUR", f"STMT{n:06d}", day, day, balance, balance + total, lines
        )
        balance += total
        done += count
        day += timedelta(days=1)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ingest(path: Path, db: Path) -> tuple[int, float, float]:
    """Parse + load one file into a fresh warehouse: (entries, parse seconds, total seconds)."""
    t0 = time.perf_counter()
    parsed = parse_file(path, max_bytes=20_000_000_000)
    t1 = time.perf_counter()
    with connect(db) as con:
        result = load_statements(
            con, parsed.statements, file_name=path.name, sha256=parsed.sha256,
            source="bank_statement",
        )  # fmt: skip
    t2 = time.perf_counter()
    if result.loaded != result.transactions_in:
        raise SystemExit(f"{path.name}: loaded {result.loaded} of {result.transactions_in}")
    return result.transactions_in, t1 - t0, t2 - t0


def etree_baseline(path: Path) -> tuple[int, float]:
    """Standard-library parse of the same camt file: iterparse, count entries, clear them."""
    t0 = time.perf_counter()
    count = 0
    for _, elem in ET.iterparse(path, events=("end",)):
        if elem.tag.endswith("}Ntry"):
            count += 1
            elem.clear()
        elif elem.tag.endswith("}Stmt"):
            elem.clear()  # drops the emptied entries too: memory stays flat
    return count, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} at start")
    with tempfile.TemporaryDirectory(prefix="o2c-bench-") as tmp:
        folder = Path(tmp)
        camt, mt940 = folder / "statement.camt053.xml", folder / "statement.sta"
        t0 = time.perf_counter()
        write_camt053(camt, statements(args.entries))
        t1 = time.perf_counter()
        write_mt940(mt940, statements(args.entries))
        t2 = time.perf_counter()
        print(f"generated camt.053 {camt.stat().st_size / 1e6:.0f} MB in {t1 - t0:.1f} s, "
              f"MT940 {mt940.stat().st_size / 1e6:.0f} MB in {t2 - t1:.1f} s")  # fmt: skip

        base_count, base_s = etree_baseline(camt)
        print(
            f"baseline xml.etree iterparse (no extraction): {base_count:,} entries "
            f"in {base_s:.2f} s = {base_count / base_s:,.0f} entries/s"
        )
        medians = []
        for label, path in (("camt.053", camt), ("MT940", mt940)):
            rates = []
            for run in range(1, args.repeat + 1):
                load = os.getloadavg()[0]
                cpu0 = cpu_seconds()
                with PeakRss() as memory:
                    entries, parse_s, total_s = ingest(path, folder / f"{label}-{run}.duckdb")
                rates.append(entries / total_s)
                print(
                    f"{label} run {run}: {entries:,} entries, parse {parse_s:.2f} s, load "
                    f"{total_s - parse_s:.2f} s, parse+load {total_s:.2f} s = {rates[-1]:,.0f} "
                    f"entries/s (CPU {cpu_seconds() - cpu0:.1f} s, load average {load:.1f}); "
                    f"memory {memory.start:,.0f} -> peak {memory.peak:,.0f} MiB"
                )
            medians.append(statistics.median(rates))
            print(f"{label}: median {medians[-1]:,.0f} entries/s over {len(rates)} runs")
        worst = min(medians)
        verdict = "PASS" if worst >= TARGET else "FAIL"
        print(
            f"verdict: {verdict}: slowest format {worst:,.0f} entries/s (median) against a target "
            f"of {TARGET:,} entries/s; {base_count / base_s:,.0f} entries/s for the bare xml.etree "
            f"parse; peak RSS of the whole process {peak_mib():,.0f} MiB"
        )


if __name__ == "__main__":
    main()
