"""The collector's worklist for the day: what a person has to do, biggest and oldest first.

Phone calls and litigation hand-overs the plan reached (nothing is sent for them), promises to
pay that fall due within a few days, disputes open for a long time, reminders that bounced
or whose fate is unknown (finance settles them with `o2c dunning`), and formal notices that
need a person: refused or unclaimed by the customer, bounced, without the customer's consent to
an electronic letter (a paper LRAR to post), or sent with an unknown outcome. Ranked by amount,
then by age.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from o2c.models.dunning import Channel, Communication, ExclusionKind
from o2c.tasks.common.formatting import format_date, format_money
from o2c.tasks.common.language import Labels, Lang
from o2c.tasks.dunning import store
from o2c.tasks.dunning.exclusions import list_exclusions
from o2c.tasks.ere.sync import letters_needing_attention
from o2c.warehouse import has_tables

PROMISE_WARNING_DAYS = 3  # a promise ending within this many days is on the list
DISPUTE_OLD_DAYS = 30  # a dispute open this long is on the list
SEND_PROBLEM_DAYS = 30  # bounced or unknown sends of the last days

TASKS = {
    "fr": {
        "phone_task": "Appeler le client",
        "litigation": "Transmettre au contentieux",
        "promise": "Promesse de paiement à échéance",
        "dispute": "Litige ancien à relancer",
        "bounced": "Relance refusée par le serveur : corriger l'adresse",
        "unknown": "Relance à l'issue inconnue : vérifier",
        "letter_refused": "Mise en demeure refusée : envoyer en LRAR papier",
        "letter_neglected": "Mise en demeure non réclamée : envoyer en LRAR papier",
        "letter_bounced": "Mise en demeure non remise : corriger l'adresse",
        "letter_no_consent": "Pas d'accord pour la LRE : envoyer en LRAR papier",
        "letter_unknown_send": "Mise en demeure à l'issue inconnue : vérifier sur AR24",
    },
    "en": {
        "phone_task": "Call the customer",
        "litigation": "Hand over to litigation",
        "promise": "Promise to pay falling due",
        "dispute": "Old dispute to follow up",
        "bounced": "Reminder refused by the server: fix the address",
        "unknown": "Reminder with unknown outcome: check",
        "letter_refused": "Formal notice refused: send a paper registered letter",
        "letter_neglected": "Formal notice not claimed: send a paper registered letter",
        "letter_bounced": "Formal notice not delivered: fix the address",
        "letter_no_consent": "No consent to e-registered mail: send a paper registered letter",
        "letter_unknown_send": "Formal notice with unknown outcome: check on AR24",
    },
}

TASK = {
    "task": pl.String,
    "customer_id": pl.String,
    "customer": pl.String,
    "currency": pl.String,
    "amount_cents": pl.Int64,
    "age_days": pl.Int64,
    "detail": pl.String,
}


def _plan_tasks(communications: list[Communication]) -> list[dict]:
    return [
        {
            "task": c.channel.value,
            "customer_id": c.customer_id,
            "customer": c.customer_name,
            "currency": c.currency,
            "amount_cents": c.due_cents,
            "age_days": max((i.days_late for i in c.items), default=0),
            "detail": f"{c.level_name}: {', '.join(i.invoice_id for i in c.items)}",
        }
        for c in communications
        if c.channel in (Channel.PHONE_TASK, Channel.LITIGATION)
    ]


def _letter_tasks(con: duckdb.DuckDBPyConnection, as_of: date) -> list[dict]:
    """Formal notices a person must take over (a letter's fate is the ERE sync's to record)."""
    return [
        {
            "task": f"letter_{r['reason']}",
            "customer_id": r["customer_id"],
            "customer": r["customer_name"],
            "currency": r["currency"],
            "amount_cents": r["claimed_cents"],
            "age_days": r["days"],
            "detail": format_date(r["since"].date()) if r["since"] else "",
        }
        for r in letters_needing_attention(con, as_of).iter_rows(named=True)
    ]


def worklist(
    con: duckdb.DuckDBPyConnection, as_of: date, communications: list[Communication]
) -> pl.DataFrame:
    """TASK rows, ranked by amount then age (largest, oldest first)."""
    rows = _plan_tasks(communications)
    open_items = store.read_items(con, as_of=as_of)
    names = dict(con.execute("SELECT customer_id, name FROM customers").fetchall())
    by_customer = (
        open_items.filter(pl.col("amount_open_cents") > 0)
        .group_by("customer_id", "currency")
        .agg(pl.col("amount_open_cents").sum())
    )
    by_invoice = dict(zip(open_items["invoice_id"], open_items["amount_open_cents"], strict=True))
    currency_of = dict(zip(open_items["invoice_id"], open_items["currency"], strict=True))
    exclusions = list_exclusions(con, as_of).filter(pl.col("state") == "active")
    promises = exclusions.filter(
        (pl.col("kind") == ExclusionKind.PROMISE_TO_PAY.value)
        & pl.col("until").is_between(as_of, as_of + timedelta(days=PROMISE_WARNING_DAYS))
    )
    for p in promises.join(by_customer, on="customer_id", how="left").iter_rows(named=True):
        rows.append(
            {
                "task": "promise",
                "customer_id": p["customer_id"],
                "customer": names.get(p["customer_id"], p["customer_id"]),
                "currency": p["currency"] or "EUR",
                "amount_cents": p["amount_open_cents"] or 0,
                "age_days": (as_of - p["starts_on"]).days,
                "detail": f"{format_date(p['until'])}: {p['reason']}",
            }
        )
    disputes = exclusions.filter(
        (pl.col("kind") == ExclusionKind.DISPUTE.value)
        & (pl.col("starts_on") <= as_of - timedelta(days=DISPUTE_OLD_DAYS))
    )
    for d in disputes.iter_rows(named=True):
        rows.append(
            {
                "task": "dispute",
                "customer_id": d["customer_id"],
                "customer": names.get(d["customer_id"], d["customer_id"]),
                "currency": currency_of.get(d["invoice_id"], "EUR"),
                "amount_cents": by_invoice.get(d["invoice_id"], 0),
                "age_days": (as_of - d["starts_on"]).days,
                "detail": f"{d['invoice_id']}: {d['reason']}",
            }
        )
    letters = has_tables(con, "ere_letters")
    problems = con.execute(
        "SELECT status, customer_id, currency, due_cents, as_of, coalesce(reply, '')"
        " FROM dunning_outbox WHERE status IN ('bounced', 'unknown') AND as_of BETWEEN ? AND ?"
        + (" AND key NOT IN (SELECT key FROM ere_letters)" if letters else ""),
        [as_of - timedelta(days=SEND_PROBLEM_DAYS), as_of],
    ).fetchall()
    for status, customer, currency, cents, day, reply in problems:
        rows.append(
            {
                "task": status,
                "customer_id": customer,
                "customer": names.get(customer, customer),
                "currency": currency,
                "amount_cents": cents,
                "age_days": (as_of - day).days,
                "detail": reply,
            }
        )
    if letters:
        rows += _letter_tasks(con, as_of)
    frame = pl.DataFrame(rows, schema=TASK) if rows else pl.DataFrame(schema=TASK)
    return frame.sort(["amount_cents", "age_days"], descending=True)


def worklist_rows(frame: pl.DataFrame, lang: Lang) -> list[dict[str, str]]:
    """The `dunning-worklist` table artifact: headers and tasks in the company's language."""
    fr = lang == "fr"
    t = Labels(lang)
    tasks = TASKS.get(lang, TASKS["en"])
    headers = (
        ["Tâche", t("dunning.preview.customer"), "Montant", "Ancienneté (jours)", "Détail"]
        if fr
        else ["Task", t("dunning.preview.customer"), "Amount", "Age (days)", "Detail"]
    )
    return [
        dict(
            zip(
                headers,
                [
                    tasks.get(r["task"], r["task"]),
                    f"{r['customer']} ({r['customer_id']})",
                    format_money(r["amount_cents"], r["currency"], lang),
                    str(r["age_days"]),
                    r["detail"],
                ],
                strict=True,
            )
        )
        for r in frame.iter_rows(named=True)
    ]
