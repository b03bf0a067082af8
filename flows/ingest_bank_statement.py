"""ingest-bank-statement: one statement file (CAMT, MT940, CFONB 120, OFX, CSV) into the warehouse.

Started by hand (`o2c ingest statement`) or by the inbox trigger declared in prefect.yaml; with
`archive` the file leaves the inbox afterwards, to processed/DATE/ or rejected/ with its reason.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.orchestration import current_flow_run_id, markdown_artifact, warehouse_writer
from o2c.tasks.bank import inbox
from o2c.tasks.bank.report import summary_markdown
from o2c.tasks.bank.statements.detect import ParsedFile, parse_file
from o2c.tasks.bank.statements.errors import StatementError
from o2c.tasks.bank.store import (
    BankLoadError,
    BankLoadResult,
    UnbalancedStatementError,
    load_statements,
    record_rejection,
)
from o2c.tasks.common.files import sha256_of
from o2c.warehouse import connect

REJECTIONS = (StatementError, UnbalancedStatementError, BankLoadError)


@task(name="parse-statement-file", cache_policy=NO_CACHE)
def parse_statement_file(path: Path) -> ParsedFile:
    return parse_file(path)


@task(name="load-statements", cache_policy=NO_CACHE)
def load_parsed(db: str | None, parsed: ParsedFile, accept_unbalanced: bool) -> BankLoadResult:
    with warehouse_writer(db), connect(db) as con:
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
def record_rejected(db: str | None, file: Path, parsed: ParsedFile | None, reason: str) -> None:
    sha = parsed.sha256 if parsed is not None else (sha256_of(file) if file.exists() else None)
    with warehouse_writer(db), connect(db) as con:
        record_rejection(
            con, file_name=file.name, sha256=sha, reason=reason, flow_run_id=current_flow_run_id()
        )


@flow(name="ingest-bank-statement", log_prints=True)
def ingest_bank_statement(
    path: str, db: str | None = None, accept_unbalanced: bool = False, archive: bool = False
) -> BankLoadResult | None:
    """Parse (format read from the content), check balances, load once; publish the figures."""
    file = Path(path)
    if archive and not file.exists():
        print(f"{file.name}: no longer in the inbox (handled by an earlier run); nothing to do")
        return None
    parsed = None
    try:
        parsed = parse_statement_file(file)
        result = load_parsed(db, parsed, accept_unbalanced)
    except REJECTIONS as exc:
        try:
            record_rejected(db, file, parsed, str(exc))
        except Exception as trouble:  # the refusal itself must still reach the user
            print(f"{file.name}: the rejection could not be recorded in load_batches: {trouble}")
        if archive:
            inbox.move_rejected(file, str(exc))
        markdown_artifact(
            "bank-ingestion",
            f"# Bank statement rejected: `{file.name}`\n\n{exc}\n\n"
            "Nothing from this file was loaded.\n",
            "Last bank statement load",
        )
        raise
    if archive:
        inbox.move_processed(file, today=date.today())
    markdown_artifact("bank-ingestion", summary_markdown(result), "Last bank statement load")
    print(
        f"{file.name}: {result.statements} statement(s), {result.transactions_in} transactions,"
        f" {result.loaded} loaded, {result.duplicates} already known"
        + (" (same file as an earlier load)" if result.status == "duplicate_file" else "")
    )
    return result
