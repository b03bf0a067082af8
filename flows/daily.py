"""o2c-daily: the day's run as one tree in the UI: ERP exports, bank inbox, reconcile, aging,
dunning.

Dunning here never waits for finance's form (the `dunning` deployment at 09:00 asks): its
automatic levels go, the levels that need approval wait unless `dunning_approve_all` (the demo).
Stale bank data makes the dunning step say why it sent nothing; the day still completes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from textwrap import shorten

from prefect import flow
from prefect.states import State
from prefect.utilities.urls import url_for

from o2c.flows.aging import aging_flow
from o2c.flows.dunning import dunning
from o2c.flows.ingest_bank_statement import ingest_bank_statement
from o2c.flows.ingest_customers import ingest_customers
from o2c.flows.ingest_invoices import ingest_invoices
from o2c.flows.reconcile import reconcile
from o2c.flows.run_names import daily_name
from o2c.models.status import LoadStatus
from o2c.orchestration import markdown_artifact
from o2c.tasks.bank import inbox
from o2c.tasks.common.escaping import md_code
from o2c.tasks.common.language import Lang, company_language, format_count, format_date, label
from o2c.tasks.erp.store import LoadResult

# The artifacts each step's run publishes (the keys finance finds in its Artifacts tab).
ARTIFACTS = {
    "customers": ("customer-ingestion",),
    "invoices": ("invoice-ingestion",),
    "bank statement": ("bank-ingestion",),
    "reconcile": ("reconciliation", "reconciliation-exceptions"),
    "aging": ("aging-summary", "aging-by-customer", "aging-chart"),
    "dunning": ("dunning-journal", "dunning-worklist", "dunning-summary", "dunning-previews"),
}


@dataclass(frozen=True)
class Step:
    """One subflow of the day: what it was, its file (outside text), its counts, its run."""

    step: str
    file: str | None
    outcome: str
    run_id: str | None = None

    def text(self) -> str:
        """`file: outcome` as returned (file name as it is), either part left out when empty."""
        return ": ".join(part for part in (self.file, self.outcome) if part)


def _run_id(state: State) -> str | None:
    run_id = state.state_details.flow_run_id if state.state_details else None
    return str(run_id) if run_id else None


def run_link(run_id: str | None) -> str | None:
    """The Prefect UI page of a run's artifacts; None when no UI serves the runs (ephemeral)."""
    if run_id is None:
        return None
    try:
        page = url_for("flow-run", obj_id=run_id)
    except ValueError:
        return None
    return f"{page}?tab=Artifacts" if page else None


# What the day's artifact says, in the company's language (O2C_LANGUAGE). Taken from the label
# catalog (`daily.*` keys) when it has them, else from here: (French, English).
WORDS: dict[str, tuple[str, str]] = {
    "title": ("Journée o2c du {date}", "o2c daily run of {date}"),
    "description": (
        "Journée du {date}\u00a0: {count} étapes",
        "Daily run of {date}: {count} steps",
    ),
    "head_step": ("Étape", "Step"),
    "head_outcome": ("Résultat", "Outcome"),
    "head_artifacts": ("Artefacts", "Artifacts"),
    "open": ("ouvrir", "open"),
    "customers": ("Clients", "Customers"),
    "invoices": ("Factures", "Invoices"),
    "bank statement": ("Relevé bancaire", "Bank statement"),
    "reconcile": ("Rapprochement", "Reconciliation"),
    "aging": ("Balance âgée", "Aging"),
    "dunning": ("Relances", "Dunning"),
    "dunning_counts": (
        "{planned} relance(s) prévue(s), {sent} envoyée(s)",
        "{planned} reminder(s) planned, {sent} sent",
    ),
    "dunning_refused": ("aucune relance\u00a0: {reason}", "no reminder: {reason}"),
    "erp_counts": (
        "{rows} lignes, {new} nouvelles, {updated} modifiées, {quarantined} en quarantaine",
        "{rows} rows, {new} new, {updated} updated, {quarantined} quarantined",
    ),
    "bank_counts": (
        "{read} opérations, {loaded} chargées, {known} déjà connues",
        "{read} transactions, {loaded} loaded, {known} already known",
    ),
    "reconcile_counts": (
        "{settled} rapprochées, {exceptions} à décider",
        "{settled} settled, {exceptions} exceptions",
    ),
    "aging_counts": (
        "{items} postes ouverts au {date}",
        "{items} open items as of {date}",
    ),
    "duplicate": ("déjà chargé, rien n'a changé", "already loaded, nothing changed"),
    "rejected_file": (
        "refusé\u00a0: voir rejected/ dans la boîte de dépôt",
        "rejected: see rejected/ in the inbox",
    ),
    "handled": ("traité par une exécution précédente", "handled by an earlier run"),
    "rejected_count": (
        "**{count} relevé(s) refusé(s)**\u00a0: voir `rejected/` dans la boîte de dépôt.",
        "**{count} bank file(s) rejected**: see `rejected/` in the inbox.",
    ),
}


REASON_WIDTH = 90  # a refusal's reason in the table; the run's log has it whole


def word(key: str, lang: Lang, /, **values: object) -> str:
    """`daily.<key>` from the label catalog, else WORDS; numbers formatted for the language."""
    shown = {k: format_count(v, lang) if isinstance(v, int) else v for k, v in values.items()}
    try:
        return label(f"daily.{key}", lang, **shown)
    except KeyError:
        fr, en = WORDS[key]
        return (fr if lang == "fr" else en).format(**shown)


def _load_counts(result: LoadResult, lang: Lang) -> str:
    if result.status == LoadStatus.DUPLICATE_FILE:
        return word("duplicate", lang)
    return word(
        "erp_counts",
        lang,
        rows=result.rows_in,
        new=result.inserted,
        updated=result.updated,
        quarantined=result.quarantined,
    )


def _bank_counts(state: State, lang: Lang) -> str:
    if state.is_failed():
        return word("rejected_file", lang)
    result = state.result()
    if result is None:
        return word("handled", lang)
    if result.status == LoadStatus.DUPLICATE_FILE:
        return word("duplicate", lang)
    return word(
        "bank_counts",
        lang,
        read=result.transactions_in,
        loaded=result.loaded,
        known=result.duplicates,
    )


def daily_markdown(steps: list[Step], rejected: list[str], as_of: date, lang: Lang) -> str:
    """The day's artifact: each step with its counts and a link to its run's artifacts."""
    # the link before the outcome: a long outcome never pushes it off a 1366 px screen
    head = [word(k, lang) for k in ("head_step", "head_artifacts", "head_outcome")]
    lines = [f"# {word('title', lang, date=format_date(as_of, lang))}", ""]
    lines += ["| " + " | ".join(head) + " |", "|---|---|---|"]
    for s in steps:
        shown = ": ".join(
            part for part in (s.file and md_code(s.file, cell=True), s.outcome) if part
        )
        keys = ", ".join(ARTIFACTS.get(s.step, ()))
        link = run_link(s.run_id)
        # narrow enough for 1366 px: the keys are the link's title (shown on hover)
        cell = f'[{word("open", lang)}]({link} "{keys}")' if link else keys
        lines.append(f"| {word(s.step, lang)} | {cell} | {shown} |")
    if rejected:
        lines += ["", word("rejected_count", lang, count=len(rejected))]
    return "\n".join(lines) + "\n"


@flow(name="o2c-daily", flow_run_name=daily_name("o2c-daily"), log_prints=True)
def o2c_daily(
    db: str | None = None,
    customers: str | None = None,
    invoices: str | None = None,
    bank_inbox: str | None = None,
    as_of: date | None = None,
    dunning_approve_all: bool = False,
) -> dict:
    """Each step is a subflow with its own artifacts; a rejected bank file does not stop the day.

    The day's artifact, in the company's language, lists each step with its counts and a link
    to the step's run page, where its artifacts are. File names are outside text: escaped code
    spans in the artifact, returned as they are (with the outcome, as the artifact says it).

    Args:
        db: The warehouse file; empty: $O2C_DB, else ./data/o2c.duckdb.
        customers: The ERP customer master export to load first; empty: none today.
        invoices: The ERP invoice export to load; empty: none today.
        bank_inbox: The bank inbox folder whose waiting statement files are loaded.
        as_of: The day aging and dunning are computed at; empty: today.
        dunning_approve_all: Send the dunning levels that need finance's approval too.
    """
    lang = company_language()
    day = as_of or date.today()
    done: list[Step] = []
    for step, path, load in (
        ("customers", customers, ingest_customers),
        ("invoices", invoices, ingest_invoices),
    ):
        if path:
            state = load(path, db=db, return_state=True)
            outcome = _load_counts(state.result(), lang)
            done.append(Step(step, Path(path).name, outcome, _run_id(state)))
    rejected = []
    if bank_inbox:
        for path in inbox.candidates(Path(bank_inbox)):
            state = ingest_bank_statement(str(path), db=db, archive=True, return_state=True)
            if state.is_failed():
                rejected.append(path.name)
            outcome = _bank_counts(state, lang)
            done.append(Step("bank statement", path.name, outcome, _run_id(state)))
    state = reconcile(db=db, return_state=True)
    stats = state.result()
    outcome = word(
        "reconcile_counts", lang, settled=stats["settled"], exceptions=stats["exceptions"]
    )
    done.append(Step("reconcile", None, outcome, _run_id(state)))
    state = aging_flow(db=db, as_of=as_of, return_state=True)
    aged = state.result()
    aged_on = format_date(date.fromisoformat(aged["as_of"]), lang)
    outcome = word("aging_counts", lang, items=aged["open_items"], date=aged_on)
    done.append(Step("aging", None, outcome, _run_id(state)))
    state = dunning(
        db=db, as_of=as_of, approve_all=dunning_approve_all, ask_finance=False, return_state=True
    )
    dunned = None if state.is_failed() else state.result()
    if dunned is None:
        reason = shorten(str(state.result(raise_on_failure=False)), REASON_WIDTH)
        outcome = word("dunning_refused", lang, reason=reason)
    else:
        sent = dunned["statuses"].get("sent", 0)
        outcome = word("dunning_counts", lang, planned=dunned["planned"], sent=sent)
    done.append(Step("dunning", None, outcome, _run_id(state)))
    markdown_artifact(
        "o2c-daily",
        daily_markdown(done, rejected, day, lang),
        word("description", lang, date=format_date(day, lang), count=len(done)),
    )
    steps = [(s.step, s.text()) for s in done]
    return {
        "steps": steps,
        "rejected": rejected,
        "reconcile": stats,
        "aging": aged,
        "dunning": dunned,
    }
