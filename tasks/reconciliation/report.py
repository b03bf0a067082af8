"""What finance reads after reconciliation, in the company's language (French first): counts,
what was allocated per currency, matched by rule and currency, what was left alone as not a
customer payment, the outcome of each decision line, and the exceptions to decide.

Words come from the label catalog (``reconciliation.*`` keys, tasks/common/language.py) when it
has them, else from ``WORDS`` below; amounts and dates from the one formatter.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from o2c.models.reconciliation import Rule
from o2c.tasks.common.escaping import md_label, md_text
from o2c.tasks.common.language import (
    Lang,
    company_language,
    format_count,
    format_date,
    format_money,
    label,
)

# What each rule means, in the words of a credit controller (models/reconciliation.py).
RULE_LABELS = {rule.value: rule.label for rule in Rule}

_RULES_FR = {
    "remittance_documents": "documents et montants listés dans l'avis de paiement structuré",
    "structured_reference": "référence RF ou identifiant de bout en bout",
    "invoice_number": "numéro de facture dans le libellé",
    "grouped_invoice_numbers": "plusieurs numéros de facture dans un virement",
    "invoice_number_fuzzy": "numéro de facture avec une faute de frappe ou tronqué",
    "payer_iban_amount": "IBAN du payeur + montant exact",
    "payer_iban_amount_set": "IBAN du payeur + somme de plusieurs factures",
    "payer_name_amount": "nom du payeur + montant exact",
    "payer_name_amount_set": "nom du payeur + somme de plusieurs factures",
    "short_payment_write_off": "paiement un peu court (frais bancaires), écart passé en perte",
    "overpayment_credit": "trop-perçu gardé en avoir du client",
    "reversal": "annulation d'un paiement antérieur",
    "manual": "décision de la comptabilité",
}
_REASONS = {
    "no_match": ("rien ne désigne une facture ouverte", "nothing points to an open invoice"),
    "ambiguous_amount": (
        "plusieurs factures ou ensembles ont ce montant",
        "several invoices or sets have this amount",
    ),
    "ambiguous_reference": (
        "la référence désigne plusieurs factures",
        "the reference points to several invoices",
    ),
    "ambiguous_payer": (
        "le nom du payeur va à plusieurs clients",
        "the payer's name fits several customers",
    ),
    "reference_amount_mismatch": (
        "la facture nommée n'a pas ce montant",
        "the invoice named does not have this amount",
    ),
    "reversal_without_original": (
        "annulation d'un paiement introuvable",
        "reversal of a payment not found",
    ),
}
WORDS: dict[str, tuple[str, str]] = {  # key: (fr, en)
    "title": ("Rapprochement bancaire", "Reconciliation"),
    "count": ("nombre", "count"),
    "considered": ("opérations bancaires examinées", "bank transactions considered"),
    "settled": ("rapprochées automatiquement", "settled automatically"),
    "exceptions": ("à décider par la comptabilité", "exceptions for finance"),
    "left_by_decision": ("laissées de côté sur décision", "left alone by decision"),
    "debits": (
        "débits sans facture client (fournisseurs, frais : laissés de côté)",
        "debits matching no customer item (suppliers, fees: left alone)",
    ),
    "left_alone": (
        "Pas des paiements clients, laissés de côté",
        "Not customer payments, left alone",
    ),
    "left_alone_how": (
        "{decided} par une décision antérieure sur le même payeur, {coded} par leur code"
        " d'opération bancaire (liste modifiable)",
        "{decided} by an earlier decision on the same counterparty, {coded} by their bank"
        " transaction code (editable list)",
    ),
    "allocated": (
        "Montant affecté aux factures, par devise :",
        "Amount allocated to invoices, per currency:",
    ),
    "allocated_none": (
        "Montant affecté aux factures : aucun",
        "Amount allocated to invoices: none",
    ),
    "allocated_total": (
        "Montant affecté aux factures : {amount} (toutes devises additionnées)",
        "Amount allocated to invoices: {amount} (all currencies added)",
    ),
    "by_rule": ("Rapprochées par règle", "Matched by rule"),
    "rule": ("règle", "rule"),
    "currency": ("devise", "currency"),
    "transactions": ("opérations", "transactions"),
    "amount": ("montant", "amount"),
    "total": ("Total {currency}", "Total {currency}"),
    "by_reason": ("À décider, par motif", "Exceptions by reason"),
    "reason": ("motif", "reason"),
    "how_to_decide": (
        "Décidez-les dans le formulaire de l'exécution en pause (choisir un candidat, des"
        " factures du payeur, une répartition, ou « pas un paiement client »), ou par un"
        " fichier CSV (`o2c reconcile --decisions FICHIER.csv`, colonne invoice_id :"
        " « candidate N », un numéro de facture, vide pour « pas un paiement client »,"
        " « undo » pour revenir dessus). La table `reconciliation-exceptions` les liste.",
        "Decide them in the paused run's form (a candidate, invoices of the payer, a split, or"
        ' "not a customer payment"), or with a CSV (`o2c reconcile --decisions FILE.csv`,'
        ' invoice_id column: "candidate N", an invoice number, empty for "not a customer'
        ' payment", "undo" to take it back). The table `reconciliation-exceptions` lists them.',
    ),
    "decisions": ("Décisions", "Decisions"),
    "applied_n": (
        "{applied} appliquée(s), {refused} refusée(s)",
        "{applied} applied, {refused} refused",
    ),
    "line": ("ligne", "line"),
    "payment": ("paiement", "payment"),
    "decision": ("décision", "decision"),
    "outcome": ("résultat", "outcome"),
    "applied": ("appliquée", "applied"),
    "refused": ("refusée", "refused"),
    "not_customer": ("pas un paiement client", "not a customer payment"),
    "undo": ("annuler « pas un paiement client »", 'undo "not a customer payment"'),
    "refused_note": (
        "Les lignes refusées n'ont rien écrit ; les autres sont appliquées. Relancez"
        " `reconcile` avec ask_finance pour les décider à nouveau.",
        "Refused lines wrote nothing; the others are applied. Run `reconcile` with ask_finance"
        " again to decide them.",
    ),
    # Columns of the exceptions table.
    "col_date": ("Date", "Date"),
    "col_amount": ("Montant", "Amount"),
    "col_payer": ("Payeur", "Payer"),
    "col_text": ("Libellé", "Text"),
    "col_reason": ("Motif", "Reason"),
    "col_candidates": ("Candidats (décider : candidat N)", "Candidates (decide: candidate N)"),
    "col_transaction": ("Opération (id)", "Transaction (id)"),
    "col_bank_ref": ("Réf. banque", "Bank ref."),
    "col_iban": ("IBAN payeur", "Payer IBAN"),
    "score": ("score", "score"),
}


def word(key: str, lang: Lang, **values: object) -> str:
    """``reconciliation.<key>`` from the catalog, else WORDS, placeholders filled."""
    try:
        return label(f"reconciliation.{key}", lang, **values)
    except KeyError:
        fr, en = WORDS[key]
        return (fr if lang == "fr" else en).format(**values)


def rule_label(rule: str, lang: Lang) -> str:
    try:
        return label(f"reconciliation.rule.{rule}", lang)
    except KeyError:
        if lang == "fr" and rule in _RULES_FR:
            return _RULES_FR[rule]
        return RULE_LABELS.get(rule, rule.replace("_", " "))


def reason_label(reason: str | None, lang: Lang) -> str:
    """A reason in words ("rien ne désigne une facture ouverte"), never the raw code."""
    if not reason:
        return ""
    try:
        return label(f"reconciliation.reason.{reason}", lang)
    except KeyError:
        fr, en = _REASONS.get(reason, (reason.replace("_", " "),) * 2)
        return fr if lang == "fr" else en


def allocated_lines(stats: dict[str, Any], lang: Lang | None = None) -> list[str]:
    """What was allocated to invoices, one line per currency ("- 1 234,50 EUR"): amounts in two
    currencies are never added. Stats without ``amount_matched_by_currency`` (an engine that
    gives only the total) get the total, said to be one."""
    lang = lang or company_language()
    by_currency = stats.get("amount_matched_by_currency")
    if by_currency is None:
        total = format_money(int(stats.get("amount_matched_cents", 0)), None, lang)
        return [word("allocated_total", lang, amount=total)]
    paid = {cur: int(cents) for cur, cents in by_currency.items() if cents}
    if not paid:
        return [word("allocated_none", lang)]
    lines = [word("allocated", lang), ""]
    return lines + [f"- {format_money(paid[cur], cur, lang)}" for cur in sorted(paid)]


def _by_rule(stats: dict[str, Any], lang: Lang) -> list[str]:
    """One line per rule and currency, then a total per currency; older stats without
    currencies (``by_rule`` only) get one line per rule, its amount without a currency."""
    rows = stats.get("by_rule_currency")
    if rows is None:
        rows = [
            {"rule": r, "currency": None, **v}
            for r, v in sorted((stats.get("by_rule") or {}).items())
        ]
    if not rows:
        return []
    head = [word(k, lang) for k in ("rule", "currency", "transactions", "amount")]
    lines = ["", f"## {word('by_rule', lang)}", "", "| " + " | ".join(head) + " |"]
    lines += ["|---|---|---:|---:|"]
    for cur in sorted({r["currency"] or "" for r in rows}):
        mine = [r for r in rows if (r["currency"] or "") == cur]
        lines += [
            f"| {md_label(rule_label(r['rule'], lang))} | {md_label(cur)}"
            f" | {format_count(r['transactions'], lang)}"
            f" | {format_money(int(r['amount_cents']), cur or None, lang)} |"
            for r in sorted(mine, key=lambda r: -int(r["amount_cents"]))
        ]
        if cur:
            lines.append(
                f"| **{md_label(word('total', lang, currency=cur))}** | {md_label(cur)}"
                f" | **{format_count(sum(r['transactions'] for r in mine), lang)}**"
                f" | **{format_money(sum(int(r['amount_cents']) for r in mine), cur, lang)}** |"
            )
    return lines


def _left_alone(stats: dict[str, Any], lang: Lang) -> list[str]:
    """ "Not customer payments, left alone: 5, 1 234,56 EUR" and how they were told apart."""
    n = int(stats.get("left_alone", 0) or 0)
    if not n:
        return []
    sums = ", ".join(
        format_money(int(v["amount_cents"]), cur, lang)
        for cur, v in sorted((stats.get("left_alone_by_currency") or {}).items())
    )
    how = word(
        "left_alone_how",
        lang,
        decided=format_count(stats.get("left_alone_by_decision", 0), lang),
        coded=format_count(stats.get("left_alone_by_code", 0), lang),
    )
    sep = " : " if lang == "fr" else ": "
    return ["", f"{word('left_alone', lang)}{sep}{format_count(n, lang)}, {sums} ({how})."]


def decision_lines(
    decisions: dict[str, Any] | None, lang: Lang, described: dict[str, str] | None = None
) -> list[str]:
    """Each decision line with its outcome (applied / refused and why), for finance."""
    if not decisions:
        return []
    lines = decisions.get("lines")
    if lines is None:  # counts only
        return ["", f"## {word('decisions', lang)}", ""] + [
            f"- {md_label(k)}: {md_label(v)}" for k, v in decisions.items()
        ]
    described = described or {}
    # A line split over several invoices is one decision, applied or refused whole.
    refused = len({r["line"] for r in lines if r["outcome"] == "refused"})
    applied = len({r["line"] for r in lines}) - refused
    out = ["", f"## {word('decisions', lang)}", ""]
    out += [word("applied_n", lang, applied=format_count(applied, lang),
                 refused=format_count(refused, lang)), ""]  # fmt: skip
    head = [word(k, lang) for k in ("line", "payment", "decision", "amount", "outcome", "reason")]
    out += ["| " + " | ".join(head) + " |", "|---:|---|---|---:|---|---|"]
    for r in lines:
        what = r.get("invoice_id")
        if what is None:
            what = word("not_customer", lang)
        elif str(what).strip().lower() in ("undo", "annuler"):
            what = word("undo", lang)
        payment = described.get(r["transaction_id"] or "", r["transaction_id"] or "")
        out.append(
            f"| {r['line']} | {md_text(payment)} | {md_text(what)}"
            f" | {md_text(r.get('amount') or '')} | {word(r['outcome'], lang)}"
            f" | {md_text(r.get('reason') or '')} |"
        )
    if refused:
        out += ["", word("refused_note", lang)]
    return out


def summary_markdown(
    stats: dict[str, Any],
    decisions: dict[str, Any] | None = None,
    lang: Lang | None = None,
    described: dict[str, str] | None = None,
) -> str:
    """The `reconciliation` artifact: counts, allocated per currency, what was left alone,
    matched by rule and currency with a total per currency, exceptions by reason in words,
    and each decision line's outcome (``described``: transaction_id -> the payment in words)."""
    lang = lang or company_language()
    rows = [
        ("considered", stats.get("transactions", 0)),
        ("settled", stats.get("settled", 0)),
        ("exceptions", stats.get("exceptions", 0)),
        ("left_by_decision", stats.get("left_by_decision", 0)),
        ("debits", stats.get("not_customer_debits", 0)),
    ]
    lines = [
        f"# {word('title', lang)}",
        "",
        f"| | {word('count', lang)} |",
        "|---|---:|",
        *(f"| {word(k, lang)} | {format_count(v or 0, lang)} |" for k, v in rows),
        "",
        *allocated_lines(stats, lang),
        *_left_alone(stats, lang),
        *_by_rule(stats, lang),
    ]
    reasons = stats.get("exceptions_by_reason") or {}
    if reasons:
        lines += ["", f"## {word('by_reason', lang)}", ""]
        lines += [f"| {word('reason', lang)} | {word('transactions', lang)} |", "|---|---:|"]
        lines += [
            f"| {md_label(reason_label(r, lang))} | {format_count(n, lang)} |"
            for r, n in sorted(reasons.items())
        ]
        lines += ["", word("how_to_decide", lang)]
    lines += decision_lines(decisions, lang, described)
    return "\n".join(lines) + "\n"


def open_exceptions(
    con: duckdb.DuckDBPyConnection, limit: int = 1000, lang: Lang | None = None
) -> list[dict[str, Any]]:
    """Open exceptions as finance reads them, oldest booking first: what the payment is (date,
    amount, payer, text), why it waits in words, the numbered candidates with what points to
    each (decide with "candidate N"), then the ids."""
    lang = lang or company_language()
    rows = con.execute(
        """
        SELECT t.booking_date, t.amount, t.currency, t.counterparty_name,
               coalesce(t.remittance_structured, t.remittance_unstructured) AS remittance,
               e.reason, e.candidates, e.transaction_id, t.bank_reference, t.counterparty_iban
        FROM reconciliation_exceptions e
        JOIN bank_transactions t USING (transaction_id)
        WHERE e.status = 'open'
        ORDER BY t.booking_date, e.transaction_id
        LIMIT ?
        """,
        [limit],
    ).fetchall()
    keys = ["col_date", "col_amount", "col_payer", "col_text", "col_reason", "col_candidates",
            "col_transaction", "col_bank_ref", "col_iban"]  # fmt: skip
    names = [word(k, lang) for k in keys]
    return [
        dict(
            zip(
                names,
                (
                    format_date(booked, lang),
                    format_money(amount, currency, lang),
                    payer,
                    remittance,
                    reason_label(reason, lang),
                    candidates_text(raw, currency, lang),
                    tx_id,
                    bank_ref,
                    iban,
                ),
                strict=True,
            )
        )
        for booked, amount, currency, payer, remittance, reason, raw, tx_id, bank_ref, iban in rows
    ]


def candidate_label(n: int, c: dict[str, Any], currency: str | None, lang: Lang) -> str:
    """ "1) FA-2026-0001 : 600,00 EUR (score 0.65 ; numéro de facture dans le texte)": candidate
    N with its invoices, what each receives, and what points to it."""
    ids = c.get("invoice_ids") or []
    amounts = c.get("amounts_cents")
    if amounts and len(amounts) == len(ids) and len(ids) > 1:
        what = " + ".join(
            f"{i} {format_money(a, currency, lang)}" for i, a in zip(ids, amounts, strict=True)
        )
    else:
        what = ", ".join(ids)
        if c.get("amount_cents") is not None:
            what += f": {format_money(int(c['amount_cents']), currency, lang)}"
    why = "; ".join(c.get("why") or []) or rule_label(c.get("rule") or "", lang)
    return f"{n}) {what} ({word('score', lang)} {c.get('score')}; {why})"


def candidates_text(raw: str | None, currency: str | None = None, lang: Lang | None = None) -> str:
    """The candidates of an exception, numbered as "candidate N" takes them, " · " between."""
    if not raw:
        return ""
    try:
        candidates = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    lang = lang or company_language()
    return " · ".join(candidate_label(n, c, currency, lang) for n, c in enumerate(candidates, 1))
