"""Rules 4 and 5: who paid. The payer's IBAN (a customer's own or one learned from finance's
decisions), else the payer's name compared with customer names.

Name comparison is blocked (only customers sharing a distinctive word with the payer are scored)
so it stays linear in the number of leftover transfers, and it runs only on what the
exact rules left.
"""

from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz, process

from o2c.models.reconciliation import Rule
from o2c.tasks.reconciliation.config import ReconciliationConfig
from o2c.tasks.reconciliation.exceptions import REASON_AMBIGUOUS_PAYER, exception_rows

# Words that say nothing about who a company is.
_NOISE = (
    "SAS|SASU|SARL|SA|EURL|SCI|SNC|SCOP|SELARL|STE|SOCIETE|ETS|ETABLISSEMENTS|CIE|GMBH|AG|LTD|"
    "LIMITED|PLC|INC|LLC|SPA|SRL|SL|BV|NV|THE|LA|LE|LES|L|DE|DU|DES|D|ET|AND|EN|GROUPE|GROUP|"
    "FRANCE|VIR|VIREMENT|SEPA|M|MME|MR|MLLE|"
    # Belgian, Dutch, German, Italian, Spanish forms: "Taverne Het Anker SPRL", "Brauhaus
    # Rheinblick GmbH & Co. KG", "Hotel Castilla S.L.U."
    "SPRL|SPRLU|SCRL|SC|CVBA|BVBA|VOF|ASBL|VZW|KG|OHG|UG|CO|SLU|SAU|SRLS|SNC|LLP|EIRL|EI"
)
# A craftsman's trade before the owner's surname ("Plomberie Guérin", "Reformas Sánchez"): the
# owner pays from a private account as "MR GUERIN O" or "JAVIER SANCHEZ SANCHEZ".
_TRADES = frozenset(
    {
        "PLOMBERIE",
        "CARRELAGE",
        "PLATRERIE",
        "RENOVATION",
        "MENUISERIE",
        "ELECTRICITE",
        "MACONNERIE",
        "PEINTURE",
        "COUVERTURE",
        "CHARPENTE",
        "CHAUFFAGE",
        "SERRURERIE",
        "VITRERIE",
        "BOULANGERIE",
        "PATISSERIE",
        "BOUCHERIE",
        "GARAGE",
        "TAXI",
        "AMBULANCES",
        "TRANSPORTS",
        "PAYSAGES",
        "JARDINS",
        "COIFFURE",
        "PHARMACIE",
        "CABINET",
        "ATELIER",
        "REFORMAS",
        "CONSTRUCCIONES",
        "INSTALACIONES",
        "FONTANERIA",
        "CARPINTERIA",
        "TALLERES",
        "IMPRESA",
        "COSTRUZIONI",
        "IDRAULICA",
        "MALERBETRIEB",
        "SCHREINEREI",
        "ELEKTRO",
        "SANITAR",
    }
)
# A cheque in a deposit slip's detail, with its drawer: "CHQ 2503556 MAZARS OLIVIER 2 578,85".
_CHEQUE_DRAWER = (
    r"(?i)^\s*(?:CHQ|CHEQUE|CHEQ)\.?\s*(?:N[O°]?\.?\s*)?[0-9]{5,}\s+"
    r"([A-Z][A-Z .'\-]*[A-Z])\s+[0-9][0-9 .]*,[0-9]{2}\s*$"
)
_MIN_CUT_NAME = 10  # a cut name this long (legal forms aside) still says who it is
_MAX_BLOCK = 200  # a word shared by more customers than this is too common to block on


def normalize_iban(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")


def normalize_name(expr: pl.Expr) -> pl.Expr:
    """Upper case ASCII words without legal forms: "Sté Dupont & Fils SARL" -> "DUPONT FILS"."""
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"[^\x00-\x7F]", "")
        .str.to_uppercase()
        .str.replace_all(r"\.", "")
        .str.replace_all(r"[^A-Z0-9]+", " ")
        .str.replace_all(rf"\b(?:{_NOISE})\b", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def known_ibans(customers: pl.DataFrame, aliases: pl.DataFrame) -> pl.DataFrame:
    """iban, customer_id: every account known to pay for a customer."""
    return (
        pl.concat(
            [
                customers.select(iban=normalize_iban(pl.col("iban")), customer_id="customer_id"),
                aliases.select(
                    iban=normalize_iban(pl.col("payer_iban")), customer_id="customer_id"
                ),
            ]
        )
        .filter(pl.col("iban").str.len_chars() > 0)
        .unique()
    )


def payers_by_iban(
    transactions: pl.DataFrame,
    customers: pl.DataFrame,
    aliases: pl.DataFrame,
    *,
    known: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """transaction_id, customer_id: the customers whose known IBAN paid (several if shared).
    ``known``: known_ibans(customers, aliases) when the caller already has it (a run asks often)."""
    known = known_ibans(customers, aliases) if known is None else known
    return (
        transactions.select("transaction_id", iban=normalize_iban(pl.col("counterparty_iban")))
        .join(known, on="iban")
        .select("transaction_id", "customer_id")
        .unique()
    )


def name_candidates(
    transactions: pl.DataFrame,
    customers: pl.DataFrame,
    aliases: pl.DataFrame,
    config: ReconciliationConfig,
) -> pl.DataFrame:
    """transaction_id, customer_id: every customer the payer's name may stand for (the clear
    one, or the close contenders). A name that fits two customers alike cannot pick one, but it
    still says which invoice an invoice number or RF reference can be paying."""
    payers, ranked = _name_scores(transactions, customers, aliases)
    fits = ranked.filter(
        (pl.col("score") >= config.name_similarity_threshold)
        & (pl.col("score") > pl.col("best") - config.name_similarity_margin)
    )
    return payers.join(fits, on="n").select("transaction_id", "customer_id").unique()


def _customer_words(
    customers: pl.DataFrame, aliases: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, int]]:
    """(w, customer_id, n: the blocking key of each distinctive word of every customer's
    normalised name or learned alias, blocks of at most _MAX_BLOCK) and the words several
    customers' names hold, with how many. Built once for the frames a run passes (the rules and
    the evidence ask several times a run; at 100,000 customers it costs 0.15 s each time)."""
    # One tuple read once: runs in other threads replace it whole, never in part.
    cached = _WORDS.get("last")
    if cached is not None and cached[0] is customers and cached[1] is aliases:
        return cached[2], cached[3]
    names = (
        pl.concat(
            [
                customers.select("customer_id", n=normalize_name(pl.col("name"))),
                aliases.select("customer_id", n=normalize_name(pl.col("payer_name"))),
            ]
        )
        .filter(pl.col("n").str.len_chars() > 0)
        .unique()
    )
    words = pl.col("n").str.split(" ")
    cust_words = (
        names.with_columns(w=words)
        .explode("w")
        .filter(pl.col("w").str.len_chars() >= 3)
        .with_columns(w=pl.col("w").str.slice(0, 4))
        .unique()
    )
    cust_words = cust_words.filter(pl.col("w").count().over("w") <= _MAX_BLOCK)
    holders = names.select("customer_id", w=words).explode("w").unique().group_by("w").len()
    shared = dict(holders.filter(pl.col("len") > 1).iter_rows())
    # The frames are held, so that an identity check cannot meet a new frame at a reused address.
    _WORDS["last"] = (customers, aliases, cust_words, shared)
    return cust_words, shared


# "last": (customers, aliases, and what _customer_words built from them)
_WORDS: dict[str, tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, int]]] = {}


def _name_scores(
    transactions: pl.DataFrame, customers: pl.DataFrame, aliases: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(payers: transaction_id, n) and (ranked: n, customer_id, score, rank, best): each normalised
    payer name scored against the customers sharing a distinctive word with it."""
    cust_words, shared = _customer_words(customers, aliases)
    text = pl.col("remittance_unstructured") if "remittance_unstructured" in transactions else None
    drawer = text.str.extract(_CHEQUE_DRAWER, 1) if text is not None else pl.lit(None, pl.String)
    payers = transactions.select(
        "transaction_id", n=normalize_name(pl.coalesce(pl.col("counterparty_name"), drawer))
    ).filter(pl.col("n").str.len_chars() > 0)
    distinct = payers.select("n").unique()
    # Block: pairs sharing the start (4 letters) of a distinctive word of at least 3 characters,
    # so that a name whose every word the bank cut ("BATIME ROUERG") still meets its customer.
    words, key = pl.col("n").str.split(" "), pl.col("w").str.slice(0, 4)
    pairs = (
        distinct.with_columns(w=words)
        .explode("w")
        .with_columns(w=key)
        .join(cust_words.select("w", "customer_id", cn="n"), on="w")
        .select("n", "customer_id", "cn")
        .unique()
    )
    if pairs.height:
        scores = process.cpdist(
            pairs["n"].to_list(), pairs["cn"].to_list(), scorer=fuzz.token_sort_ratio, workers=1
        )
        pairs = pairs.with_columns(score=pl.Series(scores, dtype=pl.Float64))
    else:
        pairs = pairs.with_columns(score=pl.lit(None, pl.Float64))
    # A name field cut by the bank ("STE NOUVELLE PAPETER" for Société Nouvelle Papeterie Garnier):
    # the payer's name is the start of the customer's, cut inside a word. As good as equal.
    cut = (
        (pl.col("n").str.len_chars() >= _MIN_CUT_NAME)
        # What is left of the cut word must still be a word's start, not an initial.
        & (pl.col("n").str.extract(r"(\S+)$", 1).str.len_chars() >= 3)
        & pl.col("cn").str.starts_with(pl.col("n"))
        & pl.col("cn").str.slice(pl.col("n").str.len_chars(), 1).str.contains("^[A-Z0-9]$")
    )
    # Words shortened, and the name cut after a word: "STE BRASS. DU VIEUX LILLE", "BRASSERIE DU
    # VIEUX" for Brasserie du Vieux Lille SAS. Each word written (three letters at least, two
    # words at least) starts the customer's word at its place, in order: as good as equal.
    # (The per-row pattern is built only for pairs whose first word already fits.)
    maybe = (
        (pl.col("n").str.len_chars() >= _MIN_CUT_NAME)
        & pl.col("n").str.contains(" ", literal=True)
        & ~pl.col("n").str.contains(r"(?:^| )\S{1,2}(?: |$)")
        & pl.col("cn").str.starts_with(pl.col("n").str.extract(r"^(\S+)", 1))
    )
    pattern = pl.lit("^") + pl.col("n").str.replace_all(" ", r"\S* ", literal=True) + r"\S*(?: |$)"
    shortened = (
        pairs.filter(maybe)
        .filter(pl.col("cn").str.contains(pattern))
        .select("n", "customer_id", "cn", shortened=pl.lit(True))
    )
    # Only when no other customer's name holds the surname (``shared``): "M JEAN ESCANDE" may be
    # the owner of Plâtrerie Escande or of SAS Escande et Fils.
    person = pl.struct("n", "cn").map_elements(
        lambda r: _a_person_of(r["n"], r["cn"], shared), return_dtype=pl.Boolean
    )
    pairs = pairs.join(shortened, on=["n", "customer_id", "cn"], how="left").with_columns(
        score=pl.when(cut | pl.col("shortened").fill_null(False) | person)
        .then(pl.lit(100.0))
        .otherwise(pl.col("score"))
    )
    per_customer = pairs.group_by("n", "customer_id").agg(pl.col("score").max())
    ranked = per_customer.sort(
        ["n", "score", "customer_id"], descending=[False, True, False]
    ).with_columns(
        rank=pl.int_range(pl.len()).over("n"),
        best=pl.col("score").max().over("n"),
    )
    return payers, ranked


def _a_person_of(payer: str, customer: str, shared: dict[str, int]) -> bool:
    """The payer is the person a customer's name stands for, as banks print people: "DA SILVA E"
    for EI Da Silva Eric (an initial for a first name, any word order), "MR GUERIN O" or "OLIVIER
    GUERIN" for Plomberie Guérin (a trade and the owner's surname: the payer adds one first name
    or initial). Every word of the customer's name must be there, in full at least one of 3
    letters or more that no other customer's name holds (``shared``: word -> how many hold it;
    "M JEAN ESCANDE" may be the owner of Plâtrerie Escande or of SAS Escande et Fils); a first
    name the payer writes otherwise ("BOYER M" for Boyer Laurent) is someone else."""
    words = customer.split()
    kept = [w for w in words if w not in _TRADES]
    if not kept or len(kept) > 3:
        return False
    left = list(dict.fromkeys(payer.split()))  # "SANCHEZ SANCHEZ JAVIER": two surnames alike
    full = False
    for word in kept:
        if word in left:
            left.remove(word)
            # A word of 3 letters or more that no other customer's name holds says who it is.
            full = full or (len(word) >= 3 and word not in shared)
        elif word[0] in left:
            left.remove(word[0])
        else:
            return False
    # Beside a trade, one first name or initial; two more words are another person's name
    # ("SERGI SERRA BOSCH" is not Reformas Serra's owner for sure).
    extra_allowed = 1 if len(kept) < len(words) else 0
    return full and len(left) <= extra_allowed


def payers_by_name(
    transactions: pl.DataFrame,
    customers: pl.DataFrame,
    aliases: pl.DataFrame,
    config: ReconciliationConfig,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rule 5: (transaction_id, customer_id, score) when one customer's name clearly fits, and
    exceptions when two customers fit alike."""
    payers, ranked = _name_scores(transactions, customers, aliases)
    second = ranked.filter(pl.col("rank") == 1).select("n", second="score")
    top = (
        ranked.filter(pl.col("rank") == 0)
        .join(second, on="n", how="left")
        .with_columns(pl.col("second").fill_null(0.0))
        .filter(pl.col("score") >= config.name_similarity_threshold)
    )
    clear = top.filter(pl.col("score") - pl.col("second") >= config.name_similarity_margin)
    matches = payers.join(clear.select("n", "customer_id", "score"), on="n").select(
        "transaction_id", "customer_id", "score"
    )
    close = top.filter(pl.col("score") - pl.col("second") < config.name_similarity_margin).select(
        "n"
    )
    contenders = ranked.join(close, on="n").filter(
        pl.col("score") > pl.col("best") - config.name_similarity_margin
    )
    exceptions = exception_rows(
        payers.join(contenders, on="n").select(
            "transaction_id",
            invoice_ids=pl.concat_list(pl.lit("customer:") + pl.col("customer_id")),
            amount_cents=pl.lit(None, pl.Int64),
            rule=pl.lit(Rule.PAYER_NAME_AMOUNT),
            score=pl.col("score") / 100,
        ),
        REASON_AMBIGUOUS_PAYER,
    )
    return matches, exceptions
