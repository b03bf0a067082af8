"""The buyer's own number: a purchase order, pro forma, site or engagement number in the text.

A customer who paid a pro forma before the invoice existed, or whose accounts payable books by
its own order number, writes that number ("Proforma PF-2025-0012", "PO 4500012345", "BC 884213")
instead of ours. The ERP keeps it on the invoice (``po_number``), so a careful controller reads it
as the invoice's name:

- a number in the text equal (compared as references are: letters and digits only, upper case) to
  the order number of exactly one open document names that document, as an invoice number would;
- an order number several open documents of ONE customer carry (one order invoiced in parts,
  a yearly engagement) does not say which of them were paid: finance decides, shown the sets of
  them whose sum is the amount paid (or short of it by no more than the bank charges), then the
  documents. Open means open when the money came: documents issued by the booking date (a
  payment before any of them, a pro forma paid in advance, names those issued since);
- an order number documents of several customers carry names nothing (two buyers numbering
  their orders alike), nor does a short or generic one: fewer than four letters and digits, or
  no digit at all ("COMMANDE", "lot GO").

The digits of an order number also look like an invoice number ("PF-2025-0012" beside
FA-2025-0012): where an order number is read, the text's number runs that hold its digits are
not read again as invoice numbers (without_order_runs).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import polars as pl

from o2c.models.reconciliation import Rule
from o2c.models.schemas import RECONCILIATION_EXCEPTION
from o2c.tasks.reconciliation.config import ReconciliationConfig
from o2c.tasks.reconciliation.exceptions import REASON_AMBIGUOUS_REFERENCE, exception_rows
from o2c.tasks.reconciliation.references import _chains, normalize_reference

# An order number must have at least this many letters and digits, one a digit.
MIN_ORDER_CHARS = 4
# Longest run of the text's words read as one order number ("PF 2025 0012" is three).
_MAX_PIECES = 4
# An exception searches the sets of at most this many of an order's open documents (2^n sums).
MAX_ORDER_DOCUMENTS = 12

ORDER_LINK = {"t": pl.UInt32, "i": pl.UInt32, "key": pl.String}


def order_keys(items: pl.LazyFrame) -> pl.LazyFrame:
    """i, key: each item's order number as references compare, kept only when it is long enough,
    holds a digit, and belongs to one customer's documents."""
    if "po_number" not in items.collect_schema().names():
        return pl.LazyFrame(schema={"i": pl.UInt32, "key": pl.String})
    return (
        items.select("i", "customer_id", key=normalize_reference(pl.col("po_number")))
        .filter(
            (pl.col("key").str.len_bytes() >= MIN_ORDER_CHARS) & pl.col("key").str.contains("[0-9]")
        )
        .filter(pl.col("customer_id").n_unique().over("key") == 1)
        .select("i", "key")
    )


def order_links(transactions: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """ORDER_LINK: each (transfer t, item i) a text names by the item's order number, against
    every item (open or not: what is open is the rule's business at each use).

    The text's words (runs of letters and digits) are joined one to four at a time, so "PF 2025
    0012", "PF-2025-0012" and "PF20250012" all read as PF20250012; the end-to-end id and the
    structured reference are compared whole."""
    keys = order_keys(items.lazy()).collect()
    if keys.height == 0:
        return pl.DataFrame(schema=ORDER_LINK)
    texts = transactions.lazy().select(
        "t",
        words=pl.col("remittance_unstructured")
        .fill_null("")
        .str.to_uppercase()
        .str.extract_all("[A-Z0-9]+"),
    )
    # Only words that can begin a key (a word's first two characters are a key's, or the word
    # is one character and a key's first): the cheap way to leave most texts out.
    firsts = pl.concat(
        [keys.lazy().select(first=pl.col("key").str.slice(0, n)) for n in (1, 2)]
    ).unique()
    spans = (
        texts.with_columns(n=pl.col("words").list.len())
        .filter(pl.col("n") > 0)
        .with_columns(start=pl.int_ranges(pl.col("n")))
        .explode("start")
        .with_columns(first=pl.col("words").list.get("start").str.slice(0, 2))
        .join(firsts, on="first", how="semi")
        .with_columns(
            length=pl.int_ranges(
                1, pl.min_horizontal(pl.col("n") - pl.col("start"), _MAX_PIECES) + 1
            )
        )
        .explode("length")
        .select("t", key=pl.col("words").list.slice("start", "length").list.join(""))
    )
    whole = [
        transactions.lazy().select("t", key=normalize_reference(pl.col(c)))
        for c in ("end_to_end_id", "remittance_structured")
        if c in transactions.columns
    ]
    return (
        pl.concat([spans, *whole])
        .join(keys.lazy(), on="key")
        .unique(["t", "i"])
        .select("t", "i", "key")
        .collect()
        .cast(ORDER_LINK)
    )


def without_order_runs(
    hits: pl.DataFrame, transactions: pl.DataFrame, links: pl.DataFrame
) -> pl.DataFrame:
    """``hits`` (references.text_hits by t) less the number runs whose digits hold an order
    number the same text names: those digits are the order's, not an invoice's."""
    if links.height == 0 or hits.height == 0:
        return hits
    named = links.select("t", digits=pl.col("key").str.replace_all("[^0-9]", "")).unique()
    texts = transactions.join(named.select("t").unique(), on="t", how="semi")
    runs = (
        _chains(texts.lazy().select("t", "remittance_unstructured"), "t")
        .select("t", "chain_no", digits=pl.col("groups").list.join(""))
        .collect()
        .join(named.rename({"digits": "order"}), on="t")
        .filter(pl.col("digits").str.contains(pl.col("order"), literal=True))
        .select("t", "chain_no")
        .unique()
    )
    return hits.join(runs, on=["t", "chain_no"], how="anti")


_CLAIMS = {
    "transaction_id": pl.String,
    "invoice_id": pl.String,
    "rule": pl.String,
    "confidence": pl.Float64,
}


def _open_then(
    links: pl.DataFrame,
    todo: pl.DataFrame,
    open_items: pl.DataFrame,
    items: pl.DataFrame,
    settled_later: Callable[[pl.Series], pl.DataFrame],
) -> pl.DataFrame:
    """The documents ``links`` name for the pending transfers ``todo``, as they were open when
    the money came: those open now, and (``paid_later``) those a transfer booked later paid in
    this run; of one customer and of the transfer's currency."""
    cols = ["invoice_id", "customer_id", "amount_open_cents", "due_date", "issue_date"]
    money = todo.select("t", "transaction_id", "amount_cents", "currency", "booking_date")
    mine = links.join(money, on="t")
    now = mine.join(open_items.select("i", *cols, item_currency="currency"), on="i").with_columns(
        paid_later=pl.lit(False)
    )
    ids = mine.join(items.select("i", "invoice_id", "customer_id"), on="i")
    later = (
        ids.join(
            settled_later(ids["customer_id"].unique()).select(
                *cols, "alloc_t", item_currency="currency"
            ),
            on=["invoice_id", "customer_id"],
        )
        .filter(pl.col("alloc_t") > pl.col("t"))
        .join(now.select("t", "invoice_id"), on=["t", "invoice_id"], how="anti")
        .unique(["t", "invoice_id"])
        .select(now.drop("paid_later").columns)
        .with_columns(paid_later=pl.lit(True))
    )
    return (
        pl.concat([now, later.cast(now.schema)])
        .filter(pl.col("currency") == pl.col("item_currency"))
        .filter(pl.col("customer_id").n_unique().over("t") == 1)
    )


def order_rule_for(
    links: pl.DataFrame,
    items: pl.DataFrame,
    config: ReconciliationConfig,
    settled_later: Callable[[pl.Series], pl.DataFrame],
) -> Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]:
    """The cascade's rule over order_links (``items``: every item, by ``i``): claims and
    exceptions, as the other rules give. ``settled_later``: the run's settled items (the
    engine's _Run.settled): a document a transfer booked later paid was open when this one came."""

    def rule(todo: pl.DataFrame, open_items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        named = _open_then(links, todo, open_items, items, settled_later)
        # What the order had open when the money came: its documents issued by then; a payment
        # before any of them (a pro forma paid in advance) names those issued since.
        issued = pl.col("issue_date").is_null() | (pl.col("issue_date") <= pl.col("booking_date"))
        named = named.filter(issued | ~issued.any().over("t"))
        none = pl.DataFrame(schema=_CLAIMS)
        if named.height == 0:
            return none, pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
        one = named.filter((pl.len().over("t") == 1) & ~pl.col("paid_later")).select(
            "transaction_id",
            "invoice_id",
            rule=pl.lit(Rule.INVOICE_NUMBER),
            confidence=pl.lit(1.0),
        )
        # Several open documents under one order number: which of them were paid is finance's
        # question (a yearly engagement covers many invoices), shown the sets whose sum is the
        # amount paid, else the documents themselves. Asked again on the next pass: a transfer
        # settled meanwhile may leave the order one open document.
        several = named.filter(pl.len().over("t") > 1).with_columns(
            tol=config.tolerance(pl.col("currency"))
        )
        listed = []
        for (tid,), docs in several.group_by(["transaction_id"], maintain_order=True):
            docs = docs.sort("due_date", "invoice_id", nulls_last=True).head(MAX_ORDER_DOCUMENTS)
            amount, slack = int(docs["amount_cents"][0]), int(docs["tol"][0])
            ids, cents = docs["invoice_id"].to_list(), docs["amount_open_cents"].to_list()
            fits = subsets_of(ids, cents, amount, slack)
            listed += [(tid, list(f), sum(cents[ids.index(x)] for x in f), 0.9) for f in fits]
            listed += [
                (tid, [x], c, 0.5) for x, c in zip(ids, cents, strict=True) if (x,) not in fits
            ]
        return one.cast(none.schema), listed_sets(listed)

    return rule


def subsets_of(ids: list[str], cents: list[int], amount: int, slack: int) -> list[tuple[str, ...]]:
    """The subsets of a few documents whose sum is ``amount`` exactly or, when none is,
    short of it by no more than ``slack`` (bank charges)."""
    exact, short = [], []
    for size in range(1, len(ids) + 1):
        for combo in combinations(range(len(ids)), size):
            total = sum(cents[k] for k in combo)
            if total == amount:
                exact.append(tuple(ids[k] for k in combo))
            elif amount > 0 and 0 < total - amount <= slack:
                short.append(tuple(ids[k] for k in combo))
    return exact or short


def listed_sets(rows: list[tuple]) -> pl.DataFrame:
    """One ambiguous_reference exception per transfer from (transaction, ids, cents, score)."""
    if not rows:
        return pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
    return exception_rows(
        pl.DataFrame(
            rows,
            schema={
                "transaction_id": pl.String,
                "invoice_ids": pl.List(pl.String),
                "amount_cents": pl.Int64,
                "score": pl.Float64,
            },
            orient="row",
        ).with_columns(rule=pl.lit(Rule.GROUPED_INVOICE_NUMBERS)),
        REASON_AMBIGUOUS_REFERENCE,
    )


# ------------------------------------------------------------------------------------------
# An order field that is a name: a building site, a project ("Chantier Les Tilleuls - lot GO")
# ------------------------------------------------------------------------------------------

# A word of a named order counts from this many letters ("LES", "LOT", "DU" do not).
MIN_NAME_WORD = 4
# Words that say what the field is, not which one: never a name's distinctive word.
GENERIC_ORDER_WORDS = frozenset(
    [
        "COMMANDE",
        "ORDRE",
        "ORDER",
        "BESTELLUNG",
        "AUFTRAG",
        "BESTELLING",
        "OPDRACHT",
        "PEDIDO",
        "ORDINE",
        "CONTRAT",
        "CONTRACT",
        "VERTRAG",
        "CONTRATO",
        "CONTRATTO",
        "PROJET",
        "PROJECT",
        "PROJEKT",
        "PROJECTO",
        "PROYECTO",
        "PROGETTO",
        "CHANTIER",
        "BAUSTELLE",
        "BOUWPLAATS",
        "OBRA",
        "CANTIERE",
        "MARCHE",
        "AFFAIRE",
        "DOSSIER",
        "FACTURE",
        "INVOICE",
        "RECHNUNG",
        "FACTUUR",
        "FACTURA",
        "FATTURA",
        "PAIEMENT",
        "PAYMENT",
        "ZAHLUNG",
        "BETALING",
        "PAGO",
        "REGLEMENT",
        "VIREMENT",
        "ACOMPTE",
        "SOLDE",
        "SITUATION",
    ]
)


def _fold(expr: pl.Expr) -> pl.Expr:
    """Upper case, French and German accents and ligatures folded: how names compare."""
    expr = expr.str.to_uppercase()
    for accented, plain in (
        ("ÀÂÄÁÃÅ", "A"), ("ÇĆČ", "C"), ("ÉÈÊËĚ", "E"), ("ÎÏÍÌ", "I"), ("ÔÖÓÒÕØ", "O"),
        ("ÙÛÜÚŮ", "U"), ("ŸÝ", "Y"), ("ÑŃ", "N"), ("ŠŚ", "S"), ("ŽŹŻ", "Z"),
    ):  # fmt: skip
        expr = expr.str.replace_all(f"[{accented}]", plain)
    return expr.str.replace_all("Œ", "OE", literal=True).str.replace_all("Æ", "AE", literal=True)


def name_links(transactions: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """ORDER_LINK rows (``key`` the order's name) for texts that hold every distinctive word of
    an order name: a word of MIN_NAME_WORD letters or more that only one customer's order
    fields use and that is no GENERIC_ORDER_WORDS ("TILLEULS" names that developer's site;
    "CHANTIER", and lot words every developer writes, are no one's). Order fields with a digit
    are numbers (order_links)."""
    if "po_number" not in items.columns:
        return pl.DataFrame(schema=ORDER_LINK)
    named = items.filter(
        pl.col("po_number").is_not_null() & ~pl.col("po_number").str.contains("[0-9]")
    ).select("i", "customer_id", key="po_number")
    if named.height == 0:
        return pl.DataFrame(schema=ORDER_LINK)
    words = (
        named.select("key", "customer_id", word=_fold(pl.col("key")).str.extract_all("[A-Z]+"))
        .explode("word")
        .filter(pl.col("word").str.len_chars() >= MIN_NAME_WORD)
        .unique()
    )
    mine = words.filter(
        (pl.col("customer_id").n_unique().over("word") == 1)
        & ~pl.col("word").is_in(list(GENERIC_ORDER_WORDS))
    )
    need = mine.group_by("key").agg(n=pl.col("word").n_unique())
    found = (
        transactions.lazy()
        .select(
            "t",
            word=_fold(pl.col("remittance_unstructured").fill_null("")).str.extract_all("[A-Z]+"),
        )
        .explode("word")
        .join(mine.lazy().select("word").unique(), on="word", how="semi")
        .unique()
        .collect()
    )
    if found.height == 0:
        return pl.DataFrame(schema=ORDER_LINK)
    keys = (
        found.join(mine.select("word", "key"), on="word")
        .group_by("t", "key")
        .agg(n=pl.col("word").n_unique())
        .join(need, on=["key", "n"], how="semi")
    )
    return keys.join(named.select("i", "key"), on="key").select("t", "i", "key").cast(ORDER_LINK)


def name_rule_for(
    links: pl.DataFrame,
    numbers: pl.DataFrame,
    items: pl.DataFrame,
    config: ReconciliationConfig,
    settled_later: Callable[[pl.Series], pl.DataFrame],
) -> Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]:
    """The cascade's rule over name_links, for transfers no order number names: of one
    customer's documents under the names the text holds, open when the money came (issued by
    then; one a transfer booked later paid counts as open), the one set whose sum is the amount
    paid is paid: all of them, or the one subset. Two sets are finance's question; none, or
    one that needs a document a later transfer paid, is left to the rules that follow."""
    links = links.join(numbers.select("t").unique(), on="t", how="anti")
    none = pl.DataFrame(schema=_CLAIMS)

    def rule(todo: pl.DataFrame, open_items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        if links.height == 0:
            return none, pl.DataFrame(schema=RECONCILIATION_EXCEPTION)
        named = _open_then(links, todo, open_items, items, settled_later)
        issued = pl.col("issue_date").is_null() | (pl.col("issue_date") <= pl.col("booking_date"))
        named = named.filter(issued).filter(pl.len().over("t") <= MAX_ORDER_DOCUMENTS)
        claims, listed = [], []
        for (tid,), docs in named.group_by(["transaction_id"], maintain_order=True):
            docs = docs.sort("due_date", "invoice_id", nulls_last=True)
            amount = int(docs["amount_cents"][0])
            ids, cents = docs["invoice_id"].to_list(), docs["amount_open_cents"].to_list()
            later = set(docs.filter("paid_later")["invoice_id"].to_list())
            fits = subsets_of(ids, cents, amount, 0)
            if len(fits) == 1 and not later.intersection(fits[0]):
                claims += [(tid, x, len(fits[0]) > 1) for x in fits[0]]
            elif len(fits) > 1:
                listed += [(tid, list(f), sum(cents[ids.index(x)] for x in f), 0.9) for f in fits]
        found = pl.DataFrame(
            claims,
            schema={"transaction_id": pl.String, "invoice_id": pl.String, "set": pl.Boolean},
            orient="row",
        ).select(
            "transaction_id",
            "invoice_id",
            rule=pl.when("set")
            .then(pl.lit(Rule.GROUPED_INVOICE_NUMBERS))
            .otherwise(pl.lit(Rule.INVOICE_NUMBER)),
            confidence=pl.lit(0.9),
        )
        return found.cast(_CLAIMS), listed_sets(listed)

    return rule
