"""Are two warehouses the same, row for row? The check behind "behaviour unchanged".

Run the demo on two checkouts (before and after a change) with the same seed and date, then:

    python benchmarks/compare_warehouses.py BEFORE.duckdb AFTER.duckdb

Each table present in both is compared as a multiset of rows over the columns both have,
leaving out what differs by nature between two runs: timestamps, flow-run ids, and the files'
SHA-256 (the demo's camt files carry their creation time). Exit 1 on any difference.
"""

from __future__ import annotations

import sys

import duckdb

VOLATILE_NAMES = {"flow_run_id", "sha256", "message"}
VOLATILE_TYPES = ("TIMESTAMP",)


def columns(con: duckdb.DuckDBPyConnection, db: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns()"
        " WHERE database_name = ? AND schema_name = 'main' AND table_name = ?",
        [db, table],
    ).fetchall()
    return dict(rows)


def tables(con: duckdb.DuckDBPyConnection, db: str) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'",
        [db],
    ).fetchall()
    return {r[0] for r in rows} - {"schema_version"}


def compare(before: str, after: str) -> int:
    con = duckdb.connect()
    con.execute(f"ATTACH '{before}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{after}' AS b (READ_ONLY)")
    differences = 0
    for table in sorted(tables(con, "a") | tables(con, "b")):
        cols_a, cols_b = columns(con, "a", table), columns(con, "b", table)
        if not cols_a or not cols_b:
            print(f"{table:<28} only in {'before' if cols_a else 'after'}")
            continue
        kept = [
            c
            for c, t in cols_a.items()
            if c in cols_b and c not in VOLATILE_NAMES and not t.startswith(VOLATILE_TYPES)
        ]
        select = ", ".join(f'"{c}"' for c in kept)
        n_a = con.execute(f'SELECT count(*) FROM a."{table}"').fetchall()[0][0]
        n_b = con.execute(f'SELECT count(*) FROM b."{table}"').fetchall()[0][0]
        only_a = con.execute(
            f'SELECT count(*) FROM (SELECT {select} FROM a."{table}"'
            f' EXCEPT ALL SELECT {select} FROM b."{table}")'
        ).fetchall()[0][0]
        only_b = con.execute(
            f'SELECT count(*) FROM (SELECT {select} FROM b."{table}"'
            f' EXCEPT ALL SELECT {select} FROM a."{table}")'
        ).fetchall()[0][0]
        same = only_a == 0 and only_b == 0
        differences += not same
        left_out = sorted(set(cols_a) ^ set(cols_b))
        print(
            f"{table:<28} {n_a:>7} / {n_b:<7} rows  "
            + ("identical" if same else f"DIFFERENT ({only_a} only before, {only_b} only after)")
            + (f"  (columns in one only: {', '.join(left_out)})" if left_out else "")
        )
    return 1 if differences else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(compare(sys.argv[1], sys.argv[2]))
