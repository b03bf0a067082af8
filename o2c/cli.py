"""The `o2c` command: each subcommand runs its Prefect flow in-process and says what happened.

Flows talk to the Prefect server at PREFECT_API_URL when the user set one; otherwise to the data
folder's local server (o2c.local_server), started by the first command and reused until idle,
whose UI `o2c ui` opens. Flows and Great Expectations are imported only by the commands that
need them, so `o2c status` stays instant.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="o2c: invoices and bank data in, validated, reconciled and aged, as Prefect flows.",
)
ingest_app = typer.Typer(no_args_is_help=True, help="Load a file into the warehouse.")
app.add_typer(ingest_app, name="ingest")
out = Console()
err = Console(stderr=True)

_QUIET_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def _configure(verbose: bool) -> None:
    """Before Prefect is imported: no analytics, and flow logs on the terminal only when asked.

    Only the console handlers are quietened: a server (PREFECT_API_URL) still gets every log
    line, so finance sees them in the flow-run page.
    """
    for key, value in _QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if not verbose:
        for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS"):
            os.environ.setdefault(f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL", "CRITICAL")


class _State:
    db: str | None = None
    verbose: bool = False


state = _State()


@app.callback()
def _options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="O2C_DB",
            help="Warehouse: a DuckDB file, or a ducklake: catalog on PostgreSQL"
            " (docs/SCALING.md) [default: ./data/o2c.duckdb]",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show flow logs")] = False,
) -> None:
    state.db = db or None
    state.verbose = verbose
    _configure(verbose)
    if ctx.invoked_subcommand in _LONG_RUNNING:
        _bind_ephemeral_server()


_LONG_RUNNING = {"watch", "serve"}  # they run flows without `_run`


def _bind_ephemeral_server() -> None:
    """A Prefect server this command starts for itself dies with it, even on SIGKILL.

    Only on the ephemeral API (no API URL in the environment or the profile): its import costs
    what starting that server costs anyway.
    """
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        from o2c.ephemeral import bind_to_this_process

        bind_to_this_process()


SERVER_MODE_ENV = "O2C_PREFECT_SERVER"  # "local" (default) or "ephemeral" (one per command)


def _user_api_url() -> str | None:
    """The Prefect API the user chose (environment or profile), if any."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


@contextmanager
def _prefect_api() -> Iterator[None]:
    """The API a one-shot flow run talks to, for the `with` block.

    PREFECT_API_URL (environment or profile) wins and nothing is started. Otherwise the data
    folder's local server (o2c.local_server), started by the first command and reused by the
    next, so the run and its artifacts stay for `o2c ui`; with O2C_PREFECT_SERVER=ephemeral,
    Prefect's own per-command server, bound to this process. On the local server a one-shot run
    sends no heartbeats: the command is in the foreground, and waiting for the heartbeat thread
    to wake up and stop cost up to a second per command.
    """
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        temporary_settings,
    )

    mode = os.environ.get(SERVER_MODE_ENV, "local").strip().lower() or "local"
    if mode not in {"local", "ephemeral"}:
        raise ValueError(f"{SERVER_MODE_ENV}={mode!r}: use 'local' or 'ephemeral'")
    if _user_api_url():
        yield
    elif mode == "ephemeral":
        _bind_ephemeral_server()
        yield
    else:
        from o2c import local_server
        from o2c.warehouse import db_path

        files = local_server.files_for(db_path(state.db))
        with (
            local_server.using(files, announce=_announce_server) as server,
            temporary_settings(
                updates={PREFECT_API_URL: server.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
            ),
        ):
            yield


def _announce_server(server: Any) -> None:
    err.print(
        f"started the local Prefect server on {server.ui_url} (runs kept for `o2c ui`;"
        " it stops after an idle time)",
        highlight=False,
        soft_wrap=True,
    )


def _fail(exc: BaseException) -> typer.Exit:
    message = " ".join(str(exc).split()) or type(exc).__name__
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    if state.verbose:
        err.print_exception()
    return typer.Exit(1)


def run_flow(label: str, flow: Any, **params: Any) -> Any:
    """Run a flow in-process with a spinner; any failure becomes one line and exit code 1."""
    try:
        with _prefect_api(), err.status(label, spinner="dots"):
            return flow(**params)
    except (KeyboardInterrupt, typer.Exit):
        raise
    except Exception as exc:
        raise _fail(exc) from None


_run = run_flow


@app.command()
def init() -> None:
    """Create the warehouse (or migrate it), and its one-writer slot on the Prefect server."""
    from o2c import concurrency
    from o2c.warehouse import connect, db_path, describe, schema_version

    try:
        with connect(state.db) as con:
            version = schema_version(con)
        out.print(f"warehouse {describe(state.db)} at schema version {version}", highlight=False)
        if concurrency.slot_mode() == "off":
            out.print(f"no writer slot: {concurrency.SLOT_ENV}=off", highlight=False)
            return
        with _prefect_api():
            if not concurrency.api_in_use():
                out.print("no writer slot on the ephemeral Prefect API: the lock file serialises")
                return
            name, done = concurrency.ensure_limit(db_path(state.db))
    except Exception as exc:
        raise _fail(exc) from None
    out.print(f"writer slot {name} (limit 1) {done}", highlight=False)


@ingest_app.command("invoices")
def ingest_invoices(path: Path) -> None:
    """An ERP invoice export (CSV, Parquet or JSON lines), validated; bad rows quarantined."""
    from o2c.flows.ingest_invoices import ingest_invoices as flow

    result = _run(f"loading {path.name}", flow, path=str(path), db=state.db)
    out.print(result.message, highlight=False)


@ingest_app.command("customers")
def ingest_customers(path: Path) -> None:
    """A customer master export, validated; bad rows quarantined."""
    from o2c.flows.ingest_customers import ingest_customers as flow

    result = _run(f"loading {path.name}", flow, path=str(path), db=state.db)
    out.print(result.message, highlight=False)


@ingest_app.command("statement")
def ingest_statement(
    path: Path,
    accept_unbalanced: Annotated[
        bool,
        typer.Option(help="Load a statement that does not add up, recording the difference"),
    ] = False,
) -> None:
    """A bank statement file; its format (CAMT, MT940, CFONB 120, OFX, CSV) is read from content."""
    from o2c.flows.ingest_bank_statement import ingest_bank_statement as flow

    result = _run(
        f"loading {path.name}",
        flow,
        path=str(path),
        db=state.db,
        accept_unbalanced=accept_unbalanced,
    )
    note = (
        " (same file as an earlier load: nothing changed)"
        if result.status == "duplicate_file"
        else ""
    )
    to_check = [
        (result.unproven.height, "stored but possibly already known"),
        (result.conflicts.height, "bank reference conflicts"),
    ]
    checks = "".join(f", {n} {what}" for n, what in to_check if n)
    out.print(
        f"{path.name}: {result.statements} statement(s), {result.transactions_in} transactions,"
        f" {result.loaded} loaded, {result.duplicates} already known{checks}{note}",
        highlight=False,
    )


@ingest_app.command("open-banking")
def ingest_open_banking() -> None:
    """New transactions from the Bridge API (settings in O2C_BRIDGE_* variables)."""
    from o2c.flows.open_banking_sync import open_banking_sync as flow

    summary = _run("syncing Open Banking", flow, db=state.db)
    out.print(", ".join(f"{k}: {v}" for k, v in summary.items()), highlight=False)


@ingest_app.command("erp")
def ingest_erp(
    source: Annotated[
        str,
        typer.Argument(
            help="The ERP: odoo (settings in O2C_ODOO_*), rest:<name> (erp_sources/<name>.yaml)"
            " or a REST mapping file's path"
        ),
    ],
    resync: Annotated[
        bool,
        typer.Option(help="Also re-read the invoices not settled yet (payments made in the ERP)"),
    ] = False,
) -> None:
    """Invoices and customers changed in the ERP since the last pull, through its API."""
    from o2c.flows.ingest_erp import ingest_erp as flow

    summary = _run(f"pulling from {source}", flow, source=source, db=state.db, resync=resync)
    out.print(summary.message, highlight=False)


@app.command()
def reconcile(
    decisions: Annotated[
        Path | None,
        typer.Option(help="CSV of finance's decisions: transaction_id, invoice_id, amount, note"),
    ] = None,
    undo_not_customer: Annotated[
        list[str] | None,
        typer.Option(
            help="A counterparty (IBAN, name or one of its transaction ids) decided 'not a"
            " customer payment' that is a customer after all; repeat for several"
        ),
    ] = None,
) -> None:
    """Match bank transactions to open invoices; what is ambiguous becomes an exception."""
    from o2c.flows.reconcile import reconcile as flow

    stats = _run(
        "reconciling",
        flow,
        db=state.db,
        decisions_csv=str(decisions) if decisions else None,
        undo_not_customer_for=undo_not_customer or None,
    )
    out.print(
        f"{stats['transactions']} transactions: {stats['settled']} settled,"
        f" {stats['exceptions']} exceptions for finance, {stats.get('left_alone', 0)} left alone"
        " (not customer payments)",
        highlight=False,
    )
    if stats.get("decisions_refused"):
        out.print(
            f"{stats['decisions_refused']} decision line(s) refused, with the reason, in the"
            " reconciliation artifact",
            highlight=False,
        )


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from None


@app.command()
def aging(
    as_of: Annotated[str | None, typer.Option(help="Date YYYY-MM-DD [default: today]")] = None,
) -> None:
    """Age open items, keep the day's snapshot, publish the summary for finance."""
    from o2c.flows.aging import aging_flow

    result = _run("aging", aging_flow, db=state.db, as_of=_parse_day(as_of))
    out.print(
        f"aging as of {result['as_of']}: {result['open_items']} open items;"
        f" report {result['report']}",
        highlight=False,
    )


@app.command()
def export(
    table: str,
    out_file: Annotated[Path, typer.Option("--out", help="FILE.csv, FILE.parquet or FILE.xlsx")],
    as_of: Annotated[str | None, typer.Option(help="For `aging`: date [default: today]")] = None,
) -> None:
    """A table or view to CSV, Parquet or Excel; `aging` gives finance's workbook."""
    from o2c.tasks.common import export as exporting
    from o2c.warehouse import connect

    try:
        exporting.export_format(out_file)
        with connect(state.db, read_only=True) as con:
            if table == "aging":
                written = _export_aging(con, out_file, _parse_day(as_of) or date.today())
            else:
                with err.status(f"exporting {table}", spinner="dots") as spinner:
                    written = exporting.export_relation(
                        con,
                        table,
                        out_file,
                        progress=lambda done, total: spinner.update(
                            f"exporting {table}: {done:,} of {total or done:,} rows"
                        ),
                    )
    except typer.BadParameter:
        raise
    except Exception as exc:
        raise _fail(exc) from None
    out.print(f"{table}: {written} rows written to {out_file}", highlight=False)


def _export_aging(con: Any, out_file: Path, as_of: date) -> int:
    from o2c.tasks.aging import store as aging_store
    from o2c.tasks.aging import workbook as excel_export
    from o2c.tasks.aging.pipeline import compute_aging

    if out_file.suffix.lower() != ".xlsx":
        raise ValueError("the aging export is a workbook: use --out FILE.xlsx")
    views = compute_aging(con, as_of=as_of)
    sheets = excel_export.aging_workbook_views(
        views.by_customer,
        views.aged,
        aging_store.read_dso_history(con, last=24, until=as_of),
        buckets=views.buckets,
        dunning_actions=_dunning_actions(con, as_of),
    )
    excel_export.write_aging_workbook(out_file, sheets)
    return views.by_customer.height


def _dunning_actions(con: Any, as_of: date) -> Any:
    """The day's dunning actions for the workbook's own sheet; none before dunning ever ran."""
    from o2c.tasks.dunning import journal
    from o2c.warehouse import has_tables

    return journal.day_actions(con, as_of) if has_tables(con, "dunning_outbox") else None


@app.command()
def status() -> None:
    """Tables and row counts, the last loads, the schema version."""
    from rich.table import Table

    from o2c.warehouse import connect, describe, schema_version

    try:
        with connect(state.db, read_only=True) as con:
            version = schema_version(con)
            tables = con.execute(
                "SELECT table_name, estimated_size FROM duckdb_tables() ORDER BY table_name"
            ).fetchall()
            counts = [
                (name, con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])
                for name, _ in tables
            ]
            loads = con.execute(
                "SELECT batch_id, source, file_name, status, rows_in, rows_loaded, rows_updated,"
                " rows_quarantined, finished_at FROM load_batches ORDER BY batch_id DESC LIMIT 10"
            ).fetchall()
    except Exception as exc:
        raise _fail(exc) from None
    out.print(
        f"warehouse {describe(state.db)} · schema version {version}",
        highlight=False,
        soft_wrap=True,  # a long path must not split "schema version" over two lines
    )
    table = Table("table", "rows", title="Tables")
    for name, count in counts:
        table.add_row(name, f"{count:,}")
    out.print(table)
    out.print("Last loads" if loads else "No load yet")
    for batch, source, file, status_, rows_in, new, updated, quarantined, at in loads:
        when = f"{at:%Y-%m-%d %H:%M}" if isinstance(at, datetime) else "running"
        out.print(
            f"  #{batch} {when} {source} {file or ''}: {status_}, {rows_in} in, {new} new,"
            f" {updated} updated, {quarantined} quarantined",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def demo(
    invoices: Annotated[int, typer.Option(help="How many invoices to generate")] = 2_000,
    seed: Annotated[int, typer.Option(help="Same seed, same company")] = 42,
    folder: Annotated[Path, typer.Option(help="Where the demo files go")] = Path("data/demo"),
) -> None:
    """Generate a French company's receivables and bank files, then run the daily flow on them."""
    from o2c.flows.demo import o2c_demo

    init()  # the demo sets a warehouse up from nothing: the file and its writer slot first

    result = _run(
        f"demo: {invoices} invoices through o2c-daily",
        o2c_demo,
        db=state.db,
        invoices=invoices,
        seed=seed,
        folder=str(folder),
    )
    for step, outcome in result["steps"]:
        out.print(f"  {step:<15} {outcome}", highlight=False)
    out.print("artifacts: aging-summary, aging-by-customer, reconciliation, ... (o2c ui)")


@app.command()
def watch(
    inbox_dir: Annotated[Path, typer.Argument(metavar="INBOX")],
    settle: Annotated[float, typer.Option(help="Seconds a file must stay unchanged")] = 2.0,
    once: Annotated[bool, typer.Option(help="Handle what is there now, then stop")] = False,
) -> None:
    """Watch a folder: each complete new statement file emits an event that starts ingestion."""
    from o2c.watcher import watch_inbox

    try:
        watch_inbox(inbox_dir, db=state.db, settle_seconds=settle, once=once, echo=out.print)
    except KeyboardInterrupt:
        out.print("stopped")
    except Exception as exc:
        raise _fail(exc) from None


@app.command()
def serve(
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Serve just this deployment (repeatable)")
    ] = None,
    project_file: Annotated[Path, typer.Option("--file", help="The deployments file")] = Path(
        "prefect.yaml"
    ),
) -> None:
    """Serve the deployments of prefect.yaml (schedules and triggers) from this process."""
    from o2c.serving import serve as serve_deployments

    if not os.environ.get("PREFECT_API_URL"):
        err.print(
            "note: PREFECT_API_URL is not set; the deployments live on a private ephemeral"
            " server that no watcher or UI can reach (start `prefect server start` first)"
        )
    try:
        serve_deployments(project_file, only)
    except KeyboardInterrupt:
        out.print("stopped")
    except Exception as exc:
        raise _fail(exc) from None


@app.command()
def ui() -> None:
    """The Prefect UI on this warehouse's local server: every earlier run and artifact."""
    from o2c import local_server
    from o2c.warehouse import db_path

    files = local_server.files_for(db_path(state.db))
    try:
        url = _user_api_url()
        if url:
            out.print(
                "PREFECT_API_URL is set: the runs are on that server, its UI at"
                f" {url.removesuffix('/').removesuffix('/api')}",
                highlight=False,
                soft_wrap=True,
            )
            return
        with ExitStack() as holding:
            with err.status("starting the Prefect UI", spinner="dots"):
                server = holding.enter_context(local_server.using(files))
            out.print(
                f"Prefect UI: {server.ui_url}  (runs of {db_path(state.db)}; Ctrl-C stops it)",
                highlight=False,
                soft_wrap=True,
            )
            sys.stdout.flush()
            _wait_for_interrupt()
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        raise _fail(exc) from None
    if local_server.stop_if_unused(files):
        out.print("stopped")
    else:
        out.print("stopped; the server ends the command now using it, then stops when idle")


def _wait_for_interrupt() -> None:
    """Until Ctrl-C (SIGINT) or SIGTERM, both raised as KeyboardInterrupt."""
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even where a shell ignored it
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    while True:
        signal.pause()


def _add_command_groups() -> None:
    """The command groups of o2c/commands/, each module adding its own commands."""
    import importlib
    import pkgutil

    from o2c import commands

    for module in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        importlib.import_module(f"o2c.commands.{module}")
    for name, group in commands.GROUPS.items():
        if group.registered_commands:
            app.add_typer(group, name=name)


_add_command_groups()


def main() -> None:
    try:
        app()
    finally:
        sys.stdout.flush()


if __name__ == "__main__":
    main()
