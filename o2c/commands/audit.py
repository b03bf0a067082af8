"""`o2c audit verify`: is dunning's audit log as it was written?

Recomputes the hash chain (tasks/dunning/audit.py) from the first row; a row changed, inserted or
deleted by hand makes it exit 1 naming the first row that does not fit. The evidence files the log
vouches for (formal-notice PDFs and their proofs, tasks/ere/store.py) are checked against the
SHA-256 recorded for them too: an altered or missing file fails the same way. It only reads.
"""

from __future__ import annotations

import typer

from o2c.commands import audit


@audit.command("verify")
def verify_command() -> None:
    """Check the audit log's hash chain; exit 1 naming the first broken row."""
    from o2c.cli import err, out, state
    from o2c.tasks.dunning.audit import verify
    from o2c.tasks.ere.store import check_files, letters_dir
    from o2c.warehouse import connect, db_path, has_tables

    try:
        with connect(state.db, read_only=True) as con:
            result = verify(con) if has_tables(con, "audit_log", "audit_head") else None
            problems = (
                check_files(con, letters_dir(state.db))
                if has_tables(con, "ere_letters", "ere_proofs")
                else []
            )
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    where = db_path(state.db)
    for problem in problems:
        err.print(
            f"evidence altered or missing: {problem.key} {problem.what}: {problem.path}:"
            f" {problem.reason}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if problems:
        raise typer.Exit(1)
    if result is None:
        out.print(f"audit log of {where}: empty (no row written yet)", markup=False, soft_wrap=True)
        return
    if not result.ok:
        err.print(
            f"audit log of {where} is broken at row {result.broken_seq}: {result.reason}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    out.print(
        f"audit log of {where}: {result.rows} rows, chain intact",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
