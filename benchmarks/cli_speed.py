"""Wall time of a one-shot `o2c` command on a tiny input, and where it goes (issue 19).

Each figure is the median of fresh subprocesses, measured in this run beside the floor every
command pays, `python -c 'import prefect'`:
- `o2c ingest statement` of a one-line camt.053 file (a new file each time, so it really loads)
  and `o2c reconcile` on an empty day (a warehouse with nothing to reconcile);
- before: O2C_PREFECT_SERVER=ephemeral, Prefect's own server started and stopped by each command
  (its SQLite database already migrated by a warm-up command, as on a user's second day);
- after, first command: a fresh data folder, so the command starts the local server and Prefect
  migrates its new database (once per data folder, then reused until idle);
- after, warm: the local server of the data folder is up and reused.
Then the parts: importing the command's flow module, our warehouse migrations on a new file, and
the flow run itself in-process against the warm server (Prefect's bookkeeping over HTTP), with
and without the heartbeat thread a one-shot run does not need.

    .venv/bin/python benchmarks/cli_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from o2c import local_server
from o2c.models.bank import Statement, StatementLine
from o2c.tasks.demo.camt_writer import write_camt053

O2C = Path(sys.executable).with_name("o2c")
IBAN = "FR7630003012340123456789057"

_INSIDE = """
import json, sys, time
t0 = time.perf_counter()
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from o2c.flows.reconcile import reconcile
t1 = time.perf_counter()
from o2c.warehouse import connect
with connect(sys.argv[2]):
    pass
t2 = time.perf_counter()
updates = {PREFECT_API_URL: sys.argv[1]}
with temporary_settings(updates=updates | {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
    reconcile(db=sys.argv[3])  # the client's one-time set-up, not counted
tw = time.perf_counter()
with temporary_settings(updates=updates):
    reconcile(db=sys.argv[3])
t3 = time.perf_counter()
with temporary_settings(updates=updates | {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
    reconcile(db=sys.argv[3])
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "migrate": t2 - t1, "run": t3 - tw, "run_nohb": t4 - t3}))
"""


def one_line_statement(path: Path, n: int) -> Path:
    line = StatementLine(
        date(2026, 11, 2), Decimal(f"{100 + n}.00"), "EUR", bank_reference=f"R{n}",
        remittance_unstructured=f"Facture FA2026-{n:06d}",
    )  # fmt: skip
    statement = Statement(
        "camt.053", IBAN, "EUR", f"S-{n}", date(2026, 11, 2), date(2026, 11, 2),
        Decimal("1000.00"), Decimal("1000.00") + line.amount, [line],
    )  # fmt: skip
    write_camt053(path, [statement])
    return path


def wall(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return took


def median_of(runs: list[float]) -> str:
    return f"{statistics.median(runs):6.2f} s  (runs: {', '.join(f'{r:.2f}' for r in runs)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    root = Path(tempfile.mkdtemp(prefix="o2c-cli-speed-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    base |= {
        "PREFECT_HOME": str(root / "prefect-home"),  # the ephemeral server's database
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "GX_ANALYTICS_ENABLED": "false",
    }
    before = base | {"O2C_PREFECT_SERVER": "ephemeral"}
    after = base | {"O2C_PREFECT_SERVER": "local"}
    counter = iter(range(1, 1_000_000))
    folders: list[Path] = []

    def ingest(folder: Path, env: dict[str, str]) -> float:
        file = one_line_statement(root / f"statement-{next(counter)}.xml", next(counter))
        return wall([str(O2C), "--db", str(folder / "o2c.duckdb"), "ingest", "statement",
                     str(file)], env)  # fmt: skip

    def reconcile(folder: Path, env: dict[str, str]) -> float:
        return wall([str(O2C), "--db", str(folder / "empty.duckdb"), "reconcile"], env)

    def folder(name: str) -> Path:
        made = root / name
        made.mkdir()
        folders.append(made)
        return made

    try:
        print(f"o2c one-shot commands, median of {repeat} fresh processes each (2 cores shared)")
        floor = [wall([sys.executable, "-c", "import prefect"], base) for _ in range(repeat)]
        print(f"  baseline: python -c 'import prefect'             {median_of(floor)}")

        old = folder("before")
        ingest(old, before)  # warm-up: Prefect's database migrated, the warehouses exist
        reconcile(old, before)
        rows = [
            ("before: ingest statement (ephemeral server)", [ingest(old, before)
                                                             for _ in range(repeat)]),
            ("before: reconcile, empty day", [reconcile(old, before) for _ in range(repeat)]),
        ]  # fmt: skip
        cold = [ingest(folder(f"cold-{i}"), after) for i in range(repeat)]
        rows.append(("after: first command, starts the server", cold))
        warm = folder("warm")
        ingest(warm, after)  # warm-up: the server is up, the warehouses exist
        reconcile(warm, after)
        rows += [
            ("after: ingest statement (server reused)", [ingest(warm, after)
                                                         for _ in range(repeat)]),
            ("after: reconcile, empty day", [reconcile(warm, after) for _ in range(repeat)]),
        ]  # fmt: skip
        for label, runs in rows:  # the ratio holds better than seconds on a shared machine
            ratio = statistics.median(runs) / statistics.median(floor)
            print(f"  {label:<48}{median_of(runs)}  = {ratio:.1f} x baseline")

        with local_server.using(local_server.files_for(warm / "o2c.duckdb")) as server:
            parts = [
                json.loads(
                    subprocess.run(
                        [sys.executable, "-c", _INSIDE, server.api_url,
                         str(warm / f"new-{i}.duckdb"), str(warm / "empty.duckdb")],
                        env=after, capture_output=True, text=True, check=True,
                    ).stdout.strip().splitlines()[-1]
                )
                for i in range(repeat)
            ]  # fmt: skip
        print("where a warm command's time goes (inside one process, medians):")
        for key, label in [
            ("import", "import the flow module (prefect, polars, duckdb)"),
            ("migrate", "o2c warehouse migrations, new file"),
            ("run", "reconcile flow run, heartbeat thread on"),
            ("run_nohb", "reconcile flow run, heartbeats off (o2c)"),
        ]:
            print(f"  {label:<48}{statistics.median(p[key] for p in parts):6.2f} s")
    finally:
        for made in folders:
            local_server.stop_if_unused(local_server.files_for(made / "o2c.duckdb"))


if __name__ == "__main__":
    main()
