"""ere-sync: each formal notice AR24 holds moves on (status, proofs), on a schedule.

Three tasks so no AR24 call is made while the warehouse writer lock is held: read the letters to
sync (a short read, released), fetch (AR24 only: states, proof files written atomically into the
evidence folder), record (the writer lock, one transaction of state changes and proofs with
their audit rows). Then the `ere-letters` table artifact and a line per letter needing a person.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from o2c.flows.run_names import hourly_name
from o2c.orchestration import current_flow_run_id, table_artifact, writing
from o2c.tasks.common.formatting import format_date
from o2c.tasks.common.language import company_language
from o2c.tasks.ere import sync
from o2c.tasks.ere.send import default_client, evidence_dir


@task(name="read-ere-letters", cache_policy=NO_CACHE)
def read_letters(db: str | None) -> list[sync.ToSync]:
    """A short read as the warehouse's writer (another process may be writing), released."""
    with writing(db) as con:
        return sync.letters_to_sync(con)


@task(name="fetch-ar24", cache_policy=NO_CACHE)
def fetch(todo: list[sync.ToSync], evidence: Path) -> list[sync.Fetched]:
    """AR24 only: no warehouse connection is open here."""
    with default_client() as client:
        return sync.fetch(client, todo, evidence)


@task(name="record-ere-sync", cache_policy=NO_CACHE)
def record(db: str | None, fetched: list[sync.Fetched], as_of: date) -> tuple:
    with writing(db) as con:
        result = sync.record(con, fetched, flow_run_id=current_flow_run_id())
        table = sync.letters_table(con, as_of)
        attention = sync.letters_needing_attention(con, as_of)
    return result, table, attention.height


@flow(name="ere-sync", flow_run_name=hourly_name("ere-sync"), log_prints=True)
def ere_sync(db: str | None = None, as_of: date | None = None) -> dict:
    """Read each sent letter's state and new proofs from AR24, record them, publish the table.

    Args:
        db: The warehouse file; empty: O2C_DB, else ./data/o2c.duckdb.
        as_of: The day the table counts days waiting to; empty: today.
    """
    as_of = as_of or date.today()
    todo = read_letters(db)
    fetched = fetch(todo, evidence_dir(db)) if todo else []
    result, table, attention = record(db, fetched, as_of)
    lang = company_language()
    table_artifact(
        "ere-letters", table, sync.word("description", lang, date=format_date(as_of, lang))
    )
    for key, error in result.errors.items():
        print(f"letter {key}: AR24 could not be read: {error}")
    print(f"ere-sync: {result}; {attention} letter(s) need a person")
    return {
        "read": result.read,
        "changed": len(result.changed),
        "proofs": len(result.proofs),
        "errors": len(result.errors),
        "need_attention": attention,
    }
