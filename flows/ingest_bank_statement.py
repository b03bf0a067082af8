"""ingest-bank-statement: one statement file (CAMT, MT940, CFONB 120, OFX, CSV) into the warehouse.

Started by hand (`o2c ingest statement`) or by the inbox trigger declared in prefect.yaml; with
`archive` the file leaves the inbox afterwards, to processed/DATE/ or rejected/ with its reason.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.run_names import file_name
from o2c.orchestration import current_flow_run_id, markdown_artifact, writing
from o2c.tasks.bank import inbox
from o2c.tasks.bank.rejection import Rejection, Stage, rejection_for
from o2c.tasks.bank.report import description, summary_markdown
from o2c.tasks.bank.statements.detect import ParsedFile, parse_file
from o2c.tasks.bank.store import BankLoadResult, load_statements, record_rejection
from o2c.tasks.common.language import company_language


@task(name="parse-statement-file", cache_policy=NO_CACHE)
def parse_statement_file(path: Path) -> ParsedFile:
    return parse_file(path)


@task(name="load-statements", cache_policy=NO_CACHE)
def load_parsed(db: str | None, parsed: ParsedFile, accept_unbalanced: bool) -> BankLoadResult:
    with writing(db) as con:
        return load_statements(
            con,
            parsed.statements,
            file_name=parsed.path.name,
            sha256=parsed.sha256,
            source="bank_statement",
            flow_run_id=current_flow_run_id(),
            accept_unbalanced=accept_unbalanced,
        )


@task(name="record-rejection", cache_policy=NO_CACHE)
def record_rejected(db: str | None, file_name: str, sha256: str | None, reason: str) -> None:
    with writing(db) as con:
        record_rejection(
            con,
            file_name=file_name,
            sha256=sha256,
            reason=reason,
            flow_run_id=current_flow_run_id(),
        )


@flow(name="ingest-bank-statement", flow_run_name=file_name("ingest"), log_prints=True)
def ingest_bank_statement(
    path: str, db: str | None = None, accept_unbalanced: bool = False, archive: bool = False
) -> BankLoadResult | None:
    """Parse (format read from the content), check balances, load once; publish the figures.

    With `archive` the path must be a plain file directly in an inbox (tasks/bank/inbox.py);
    any failure the file causes rejects it (tasks/bank/rejection.py) so it never comes back.

    Args:
        path: The statement file (CAMT.053, MT940, MT942, CFONB 120 or a mapped CSV).
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
        accept_unbalanced: Load a statement whose lines do not add up to its closing balance.
        archive: The file is in an inbox: move it to processed/DATE/ or rejected/ afterwards.
    """
    file = inbox.statement_path(path, archive=archive)
    if file is None:
        print(
            f"{Path(path).name}: no longer in the inbox (handled by an earlier run); nothing to do"
        )
        return None
    parsed = None
    stage: Stage = "inbox"
    try:
        seen = inbox.observe(file)
        if archive and (refusal := inbox.screen(file)):
            raise inbox.Refused(refusal)
        inbox.check_readable(file, follow_links=not archive)
        stage = "parse"
        parsed = parse_statement_file(file)
        if archive:
            inbox.check_unchanged(file, seen)
        stage = "load"
        result = load_parsed(db, parsed, accept_unbalanced)
    except Exception as exc:
        rejected = rejection_for(exc, file.name, stage=stage)
        if rejected is None:
            raise  # not the file's fault: it stays where it is
        _reject(db, file, parsed.sha256 if parsed else None, rejected, archive=archive)
        raise
    if archive:
        inbox.move_processed(file, today=date.today())
    lang = company_language()
    markdown_artifact(
        "bank-ingestion",
        summary_markdown(result, lang),
        description(file.name, date.today(), lang),
    )
    print(
        f"{file.name}: {result.statements} statement(s), {result.transactions_in} transactions,"
        f" {result.loaded} loaded, {result.duplicates} already known"
        + (" (same file as an earlier load)" if result.status == "duplicate_file" else "")
        + (
            f"; to check: {result.unproven.height} stored but possibly already known,"
            f" {result.conflicts.height} bank reference conflicts (see the artifact)"
            if result.unproven.height or result.conflicts.height
            else ""
        )
    )
    return result


def _reject(
    db: str | None, file: Path, sha256: str | None, rejected: Rejection, *, archive: bool
) -> None:
    """Record, archive and publish a refusal; each step's own failure is said, not raised."""
    if sha256 is None and inbox.screen(file) is None:
        with suppress(OSError):  # unreadable: the refusal is kept without its fingerprint
            sha256 = inbox.sha256_of_entry(file)
    try:
        record_rejected(db, rejected.file_name, sha256, rejected.reason)
    except Exception as trouble:  # the refusal itself must still reach the user
        print(f"{file.name}: the rejection could not be recorded in load_batches: {trouble}")
    if archive:
        try:
            inbox.move_rejected(file, rejected.reason)
        except OSError as trouble:
            print(f"{file.name}: could not be moved to rejected/ ({trouble}); left in the inbox")
    markdown_artifact(
        "bank-ingestion",
        rejected.markdown(),
        description(file.name, date.today(), company_language(), rejected=True),
    )
