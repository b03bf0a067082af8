"""`o2c ere ...`: the formal notices sent as electronic registered letters (issue 18).

- `o2c ere dossier CUSTOMER --out FOLDER`: the customer's litigation file (tasks/ere/dossier.py);
- `o2c ere check`: every kept letter and proof still has the SHA-256 recorded for it;
- `o2c ere sync`: the ere-sync flow now (AR24's states and proofs recorded), as its 30-minute
  deployment runs it, for a user of the embedded default or after an AR24 outage.
"""

from __future__ import annotations

from pathlib import Path

import typer

from o2c.commands import ere, litigation


def _fail(exc: Exception) -> None:
    from o2c.cli import err

    message = " ".join(str(exc).split()) or type(exc).__name__
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1) from None


@litigation.command("export")
@ere.command("dossier")
def dossier_command(
    customer: str = typer.Argument(..., help="The customer id, as in the ERP export."),
    out_dir: Path = typer.Option(..., "--out", help="A new or empty folder to write into."),
) -> None:
    """Write a customer's litigation file: invoices, dunning history, letters, proofs, audit rows
    and a manifest of SHA-256s."""
    from o2c.cli import out, state
    from o2c.tasks.ere.dossier import write_dossier
    from o2c.tasks.ere.store import letters_dir
    from o2c.warehouse import connect

    try:
        with connect(state.db) as con:  # migrated, so an older warehouse has the ERE tables
            dossier = write_dossier(con, customer, out_dir, letters_dir(state.db))
    except (LookupError, ValueError, OSError) as exc:
        _fail(exc)
        return
    out.print(
        f"dossier of {customer} in {dossier.folder}: {dossier.invoices} invoices, "
        f"{dossier.letters} letters, {dossier.proofs} proofs, {len(dossier.files)} files "
        "listed in MANIFEST.sha256",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@ere.command("check")
def check_command() -> None:
    """Check that every kept letter and proof file still matches its recorded SHA-256; exit 1
    naming each one that does not."""
    from o2c.cli import err, out, state
    from o2c.tasks.ere.store import check_files, letters_dir
    from o2c.warehouse import connect

    try:
        with connect(state.db) as con:
            problems = check_files(con, letters_dir(state.db))
    except (ValueError, OSError) as exc:
        _fail(exc)
        return
    for p in problems:
        err.print(f"{p.key} {p.what}: {p.path}: {p.reason}", markup=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    out.print("ERE letters and proofs: every file matches its record", markup=False)


@ere.command("sync")
def sync_command() -> None:
    """Ask AR24 for each sent letter's state and new proofs now, and record them (the ere-sync
    flow, with its `ere-letters` artifact)."""
    from o2c.cli import out, run_flow, state
    from o2c.flows.ere_sync import ere_sync

    stats = run_flow("syncing letters with AR24", ere_sync, db=state.db)
    out.print(
        f"{stats['read']} letters read from AR24: {stats['changed']} changed, {stats['proofs']}"
        f" new proofs, {stats['errors']} unreadable; {stats['need_attention']} need a person",
        markup=False,
        highlight=False,
    )
    if stats["errors"]:
        raise typer.Exit(1)
