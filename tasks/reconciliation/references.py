"""Rules 1-3: which invoices a transfer names, by structured reference or by invoice numbers in
its text.

Customers retype invoice numbers by hand: "Rglt fact. fa 2024 123", "INV202400123", "FA-2024-0012"
(truncated by a 35-character field). So both sides are reduced to keys made of digit groups, and
matching is an exact hash join on those keys (linear, no pairwise comparison); only what is left
after the exact join goes through the one-typo and truncation variants, still as joins.

Every function returns candidate rows ``transaction_id, invoice_id, rule, confidence`` plus, when
the evidence is ambiguous, exception rows; none of them decides amounts (see amounts.py).
"""

from __future__ import annotations

import polars as pl

from o2c.models.reconciliation import Rule

CANDIDATE = {
    "transaction_id": pl.String,
    "invoice_id": pl.String,
    "rule": pl.String,
    "confidence": pl.Float64,
}

# A chain of digit groups, optionally led by letters: "FA-2024-00123", "INV 123", "2024/77".
# '.' and ',' are not separators: "1234.56" in a text is an amount, not an invoice number.
_CHAIN = r"[A-Z]*[ _\-/#]?[0-9]+(?:[ _\-/][0-9]+)*"
# A month and year, "CONTRAT ENTRETIEN 03/2026", "loyer 11-2026": the period a standing order
# pays for, not an invoice number.
_PERIOD = r"^[A-Z]*[ _\-/#]?(?:0?[1-9]|1[0-2])[/\-]20[0-9]{2}$"
# The same written as an invoice's number ("fattura n. 2/2025", "factura nº 3-2025", "Rechnung
# Nr. 5/2025"): its sequence and year, not a month. ("FACT 03/2025" alone is a month's bill.)
# Marked (_INVOICED letters) before chains are cut.
_INVOICED_PERIOD = (
    r"(\b(?:FATTURA|FACTURA|FACTURE|FACT|FRA|FAC|INVOICE|INV|RECHNUNG|RG|RE)\.?[ ]*"
    r"(?:N[.°º]|N[°º]?[ ]|NR\.?|NO\.|NUM\.?)[ ]*)((?:0?[1-9]|1[0-2])[/\-]20[0-9]{2})"
)
_INVOICED = "NSQ"
_MAX_GROUPS = 4  # longest run of digit groups taken as one invoice number
_MAX_CHAIN_GROUPS = 8
_STRONG_DIGITS = 6  # a key with fewer digits only counts when the amount confirms it
_FUZZY_MIN_DIGITS = 6
# How much an invoice's bare sequence number ("173" for FA2026-00173) weighs: a weak key.
TAIL_STRENGTH = 0.6
# A number written in full, its letters and all ("FC25-000328"): what cites a document.
FULL_STRENGTH = 1.0


def _strip_zeros(groups: pl.Expr) -> pl.Expr:
    return groups.list.eval(pl.element().str.strip_chars_start("0").replace("", "0"))


def normalize_reference(expr: pl.Expr) -> pl.Expr:
    """Upper case, letters and digits only: how references compare."""
    return expr.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")


# Leading zeros of every digit run dropped ("FA-0012/000" -> "FA-12/0"), in one regex pass
# instead of a per-element list evaluation.
_RUN_ZEROS = r"(^|[^0-9])0+([0-9])"


def _stripped_groups(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(_RUN_ZEROS, "${1}${2}").str.extract_all(r"[0-9]+")


def _digit_runs(text: pl.Expr) -> pl.Expr:
    """The digit runs of a text, one space between them ("FA-0012/000" -> " 0012 000")."""
    return text.str.replace_all(r"[^0-9]+", " ")


def _stripped_digits(runs: pl.Expr) -> pl.Expr:
    """The digits of _digit_runs, each run without its leading zeros, joined (" 0012 000" ->
    "120"). Word boundaries instead of capture groups: about twice as fast as _stripped_groups +
    join."""
    return runs.str.replace_all(r"(?-u:\b)0+(?-u:\B)", "").str.replace_all(" ", "", literal=True)


def _strength(key: pl.Expr) -> pl.Expr:
    return (
        pl.when(key.str.contains(r"[A-Z]"))
        .then(pl.lit(1.0))
        .when(key.str.len_chars() >= _STRONG_DIGITS)
        .then(pl.lit(0.97))
        .otherwise(pl.lit(0.7))
    )


def invoice_keys(open_items: pl.DataFrame, *, carry: tuple[str, ...] = ()) -> pl.DataFrame:
    """invoice_id, key, strength: each form under which an invoice number may be written.

    The forms of one invoice are deduplicated in the row (no group-by over the million keys of a
    large run), and a form's strength follows from how it was built (no regex over the keys).
    ``carry``: further columns of open_items kept beside invoice_id (the engine's row number)."""
    return _invoice_keys(open_items.lazy(), carry).collect()


def _invoice_keys(open_items: pl.LazyFrame, carry: tuple[str, ...]) -> pl.LazyFrame:
    up = pl.col("_up")
    ids = ["invoice_id", *carry]
    names = open_items.collect_schema().names()
    # One regex pass finds the digit runs; the digits and the stripped digits follow from them.
    base = (
        open_items.with_columns(_up=pl.col("invoice_id").str.to_uppercase())
        .with_columns(_runs=_digit_runs(up))
        .select(
            *ids,
            credit=(
                pl.col("amount_total_cents") < 0 if "amount_total_cents" in names else pl.lit(False)
            ),
            letters=up.str.extract(r"^([A-Z]*)", 1),
            digits=pl.col("_runs").str.replace_all(" ", "", literal=True),
            stripped=_stripped_digits(pl.col("_runs")),
            full=normalize_reference(up),
            # The sequence alone, when the number has a year or series before it: payers write
            # "facture 173" or "FA26-173" for FA2026-00173.
            # (Or, in a number written in one run, what follows its year: "F2600447" is
            # invoice 447 of 2026, "FA202600123" invoice 123.)
            tail=up.str.extract(r"[0-9][^0-9]+0*([0-9]+)[^0-9]*$", 1).fill_null(
                up.str.extract(r"^[A-Z]*[^A-Z0-9]?(?:20)?2[0-9]([0-9]{4,})$", 1)
                .str.strip_chars_start("0")
                .replace("", None)
            ),
            # The year the number carries, in full: "FA24-00028" and "FA2024-00028" are of 2024,
            # "2025/00123" of 2025 (the sequence then comes after it).
            year=up.str.extract(r"^[A-Z]*[^A-Z0-9]?(20[0-9]{2})[^0-9]+[0-9]+[^0-9]*$", 1).fill_null(
                pl.lit("20")
                + up.str.extract(r"^[A-Z]+[^A-Z0-9]?([0-9]{2})[^0-9]+[0-9]+[^0-9]*$", 1)
            ),
            # The letters just before the digits when the number has several groups of them:
            # "FR-26-10025" is how LNV-FR-26-10025 is written short, and its "FR" is what tells
            # it from the credit note LNV-AV-26-10025.
            series=up.str.extract(r"[A-Z][^A-Z0-9]+([A-Z]+)[^A-Z0-9]*[0-9]", 1),
            # The year written short: "FA24-011271" for FA2024-011271, "AV25-00275" for
            # AV2025-00275 (the letters, the year's last two digits, then the number).
            # (A year, then a separator or a sequence of four digits or more: "FA200123" is
            # number 200123, not 123 of 2001.)
            short_year=up.str.contains(r"^[A-Z]+[^A-Z0-9]?20[0-9]{2}(?:[^0-9]|[0-9]{4})"),
        )
        .filter(pl.col("digits") != "")  # a key without digits is no invoice number
        .with_columns(full_stripped=pl.col("letters") + pl.col("stripped"))
        # Made once: the ten forms below each read it, and a lazy plan computed it for each
        # (0.85 s at a million invoices, 0.43 s so).
        .collect()
        .lazy()
    )
    full, fs, digits, stripped = (
        pl.col(c) for c in ("full", "full_stripped", "digits", "stripped")
    )

    def by_length(key: pl.Expr) -> pl.Expr:
        return pl.when(key.str.len_bytes() >= _STRONG_DIGITS).then(0.97).otherwise(0.7)

    forms = [
        # full is letters and digits only: it holds a letter exactly when it is not the digits
        base.select(
            *ids,
            key=full,
            strength=pl.when(full != digits).then(1.0).otherwise(by_length(full)),
        ),
        base.filter(fs != full).select(
            *ids,
            key=fs,
            strength=pl.when(pl.col("letters") != "").then(1.0).otherwise(by_length(fs)),
        ),
        base.filter((digits != full) & (digits != fs)).select(
            *ids, key=digits, strength=by_length(digits)
        ),
        base.filter((stripped != full) & (stripped != fs) & (stripped != digits)).select(
            *ids, key=stripped, strength=by_length(stripped)
        ),
        base.filter(pl.col("series").is_not_null()).select(
            *ids, key=pl.col("series") + digits, strength=pl.lit(1.0)
        ),
        base.filter(pl.col("short_year")).select(
            *ids, key=pl.col("letters") + digits.str.slice(2), strength=pl.lit(1.0)
        ),
        base.filter(pl.col("short_year") & (stripped != digits)).select(
            *ids,
            key=pl.col("letters") + digits.str.slice(2, 2) + stripped.str.slice(4),
            strength=pl.lit(1.0),
        ),
        base.filter(pl.col("series").is_not_null() & (stripped != digits)).select(
            *ids, key=pl.col("series") + stripped, strength=pl.lit(1.0)
        ),
        # Never strong, whatever its length: the same sequence recurs every year and series.
        base.filter(pl.col("tail").str.len_bytes() > 0).select(
            *ids, key="tail", strength=pl.lit(TAIL_STRENGTH)
        ),
        # The sequence then the year, as Italian and Spanish customers write it: "fattura n.
        # 28/2024", "Fra. 123/2025". The year makes it more than a bare sequence; the key is
        # marked (_sequence_year) so that no other run of digits, a date's, meets it.
        # (An invoice's: "fattura n. 5/2024" pays invoice 5, not the credit note of that number.)
        base.filter(
            pl.col("tail").str.len_bytes() > 0, pl.col("year").is_not_null(), ~pl.col("credit")
        ).select(*ids, key=_sequence_year(pl.col("tail"), pl.col("year")), strength=pl.lit(0.97)),
    ]
    return pl.concat(forms)


def _sequence_year(sequence: pl.Expr, year: pl.Expr) -> pl.Expr:
    """The key of a number written sequence first, then its year: "28/2024" -> "28Y2024"."""
    return sequence + pl.lit("Y") + year


def _close_dashes(text: pl.Expr) -> pl.Expr:
    """A space beside a dash or slash dropped: typed "FA 2026 - 00123", or a bank's fixed-width
    label zones joined with a space where one cut beside it ("LNV-FR-26" | "-10025"). Literal
    replacements: far cheaper over a million texts than a wider chain pattern."""
    for spaced, closed in ((" -", "-"), ("- ", "-"), (" /", "/"), ("/ ", "/")):
        text = text.str.replace_all(spaced, closed, literal=True)
    return text


def _chains(transactions: pl.LazyFrame, id_col: str) -> pl.LazyFrame:
    """id, chain_no, is_last, letters, groups, sgroups (leading zeros dropped): the number-like
    runs of each remittance text."""
    # An RF creditor reference is read whole, by its check digits (check_digit_references), never
    # for the numbers inside it: one that fails them is no reference, and the invoice number its
    # issuer built into it may be the very place the payer mistyped ("RF89ECFA2400001").
    text = pl.col("remittance_unstructured").fill_null("").str.to_uppercase()
    text = _close_dashes(text.str.replace_all(_RF_RUN, " "))
    return (
        transactions.select(
            id_col,
            chain=text.str.replace_all(_INVOICED_PERIOD, "$1 " + _INVOICED + "$2").str.extract_all(
                _CHAIN
            ),
        )
        .with_columns(n=pl.col("chain").list.len())
        .filter(pl.col("n") > 0)
        .with_columns(chain_no=pl.int_ranges(pl.col("n")))
        .explode("chain", "chain_no")
        .filter(~pl.col("chain").str.contains(_PERIOD) | pl.col("chain").str.starts_with(_INVOICED))
        .select(
            id_col,
            "chain_no",
            is_last=pl.col("chain_no") == pl.col("n") - 1,
            letters=pl.col("chain").str.extract(r"^([A-Z]*)", 1),
            groups=pl.col("chain").str.extract_all(r"[0-9]+").list.head(_MAX_CHAIN_GROUPS),
            sgroups=_stripped_groups(pl.col("chain")).list.head(_MAX_CHAIN_GROUPS),
        )
    )


def text_chains(transactions: pl.DataFrame) -> pl.DataFrame:
    """transaction_id, chain_no, letters, groups, is_last: number-like runs of the remittance."""
    return (
        _chains(transactions.lazy(), "transaction_id")
        .select("transaction_id", "chain_no", "is_last", "letters", "groups")
        .collect()
    )


def _text_keys(chains: pl.LazyFrame, id_col: str) -> pl.LazyFrame:
    """id, chain_no, start, length, key: each run of up to 4 digit groups of a chain, as keys
    (the same key may appear twice; every use of it is a max, any or unique)."""
    n = pl.col("groups").list.len()
    spans = (
        chains.with_columns(start=pl.int_ranges(n))
        .explode("start")
        .with_columns(length=pl.int_ranges(1, pl.min_horizontal(n - pl.col("start"), 4) + 1))
        .explode("length")
        .select(
            id_col,
            "chain_no",
            pl.col("start").cast(pl.Int32),
            pl.col("length").cast(pl.Int32),
            digits=pl.col("groups").list.slice("start", "length").list.join(""),
            stripped=pl.col("sgroups").list.slice("start", "length").list.join(""),
            head=pl.when(pl.col("start") == 0).then("letters"),
        )
        .with_columns(
            full=pl.col("head") + pl.col("digits"),
            full_stripped=pl.col("head") + pl.col("stripped"),
        )
        .drop("head")
    )
    # A list written short after a full number, "FV26/00215-00246-00297": each later group as
    # wide as the first one's sequence stands for that number, with its prefix and year.
    group = pl.col("groups").list.get("start")
    listed = (
        chains.filter((pl.col("letters") != "") & (n >= 3))
        .with_columns(start=pl.int_ranges(2, n))
        .explode("start")
        .filter(group.str.len_bytes() == pl.col("groups").list.get(1).str.len_bytes())
        .select(
            id_col,
            "chain_no",
            pl.col("start").cast(pl.Int32),
            length=pl.lit(1, pl.Int32),
            listed=pl.col("letters") + pl.col("groups").list.first() + group,
            listed_stripped=pl.col("letters")
            + pl.col("sgroups").list.first()
            + pl.col("sgroups").list.get("start"),
        )
    )
    # A chain of two groups, a sequence then a year ("fattura n. 28/2024"): _sequence_year. Not
    # a month and a year ("FIN 07 2025", "FLOTTE 10 2025"): a sequence of 1 to 12 is read so,
    # unless an invoice word comes before it ("fattura n. 2/2025": _INVOICED).
    first = pl.col("sgroups").list.first()
    yearly = chains.filter(
        (n == 2)
        & pl.col("groups").list.get(1, null_on_oob=True).str.contains(r"^20[0-9]{2}$")
        & (
            (first.str.len_bytes() > 2)
            | (first.cast(pl.Int64, strict=False) > 12)
            | (pl.col("letters") == _INVOICED)
        )
    ).select(
        id_col,
        "chain_no",
        start=pl.lit(0, pl.Int32),
        length=pl.lit(2, pl.Int32),
        yearly=_sequence_year(first, pl.col("groups").list.get(1)),
    )
    index = [id_col, "chain_no", "start", "length"]
    return pl.concat(
        [
            spans.unpivot(index=index, value_name="key"),
            listed.unpivot(index=index, value_name="key"),
            yearly.unpivot(index=index, value_name="key"),
        ]
    ).filter(pl.col("key").is_not_null())


def text_keys(chains: pl.DataFrame) -> pl.DataFrame:
    """transaction_id, chain_no, start, length, key: each run of up to 4 digit groups, as keys."""
    lazy = chains.lazy().with_columns(sgroups=_strip_zeros(pl.col("groups")))
    return _text_keys(lazy, "transaction_id").drop("variable").unique().collect()


# Fields where a payer or its bank may have put a creditor reference.
_REFERENCE_FIELDS = (
    "remittance_unstructured",
    "remittance_structured",
    "end_to_end_id",
    "counterparty_name",
)
# Fields rule 1 already compares whole (_two_keys).
_WHOLE_FIELDS = ("remittance_structured", "end_to_end_id")
# ISO 11649: RF, two check digits, up to 21 letters or digits, written in groups of four or not,
# glued to the words around it or not ("PAIEMENTRF89...", "REF. RF24 0186 2600 818").
_RF_RUN = r"RF[0-9]{2}(?:[ ]?[0-9A-Z]){1,21}"
# Belgian structured communication: +++123/4567/89012+++, also with *** or without, spaces or
# slashes or dots between the groups, or the twelve digits in a row.
_BE_RUN = r"(?:^|[^0-9])([0-9]{3})[ /.]*([0-9]{4})[ /.]*([0-9]{5})(?:[^0-9]|$)"


def _iso7064_ok(reference: str) -> bool:
    """ISO 11649 check: the reference with RF and its check digits moved to the end, letters as
    10-35, is 1 modulo 97."""
    moved = reference[4:] + reference[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


def _valid_rf_prefixes(run: str) -> list[str]:
    """Every prefix of a compacted RF run that is a valid reference: where it ends is what its
    check digits say, not where the text puts a space (a random extension is valid 1 time in 97,
    and a key only counts if it is an open item's reference)."""
    return [run[:n] for n in range(5, min(len(run), 25) + 1) if _iso7064_ok(run[:n])]


def check_digit_references(frame: pl.LazyFrame | pl.DataFrame, ids: list[str]) -> pl.LazyFrame:
    """ids, key: the RF creditor references (ISO 11649) and Belgian structured communications
    written anywhere in a transfer's text fields, kept only when their check digits hold, as
    normalize_reference() keys.

    A field that is a reference and nothing else is compared whole already (_two_keys); only
    runs inside longer text are looked for here. The RF check is arbitrary-precision arithmetic
    on the few distinct runs found, not on every row."""
    lazy = frame.lazy()
    fields = [c for c in _REFERENCE_FIELDS if c in lazy.collect_schema().names()]
    # One row per field that may hold one (two cheap scans over the million texts), the rest of
    # the work on those few.
    maybe = r"(?i)RF[0-9]{2}|[0-9]{3}[ /.+*]*[0-9]{4}[ /.]*[0-9]{5}"
    pure = r"^(?:RF[0-9]{2}[0-9A-Z]+|[0-9]{12})$"
    parts = []
    for c in fields:
        part = lazy.select(*ids, text=pl.col(c)).filter(pl.col("text").str.contains(maybe))
        if c in _WHOLE_FIELDS:
            part = part.filter(~normalize_reference(pl.col("text")).str.contains(pure))
        parts.append(part.with_columns(pl.col("text").str.to_uppercase()))
    # Collected once: the few rows feed two searches.
    texts = pl.concat(parts).collect().lazy()
    rf = (
        texts.filter(pl.col("text").str.contains("RF[0-9]{2}"))
        .select(*ids, run=pl.col("text").str.extract_all(_RF_RUN))
        .explode("run")
        .drop_nulls("run")
        .with_columns(run=pl.col("run").str.replace_all(" ", "", literal=True))
    )
    valid = (
        rf.select("run")
        .unique()
        .with_columns(
            key=pl.col("run").map_elements(_valid_rf_prefixes, return_dtype=pl.List(pl.String))
        )
        .explode("key")
        .drop_nulls("key")
    )
    rf_keys = rf.join(valid, on="run").select(*ids, "key")
    be = (
        texts.filter(pl.col("text").str.contains("[0-9]{3}"))
        .select(*ids, run=pl.col("text").str.replace_all(r"[+*]", " ").str.extract_all(_BE_RUN))
        .explode("run")
        .drop_nulls("run")
        .with_columns(key=pl.col("run").str.replace_all(r"[^0-9]", ""))
        .filter(pl.col("key").str.len_bytes() == 12)
        .with_columns(
            body=pl.col("key").str.slice(0, 10).cast(pl.Int64) % 97,
            check=pl.col("key").str.slice(10, 2).cast(pl.Int64),
        )
        .filter(pl.when(pl.col("body") == 0).then(97).otherwise(pl.col("body")) == pl.col("check"))
        .select(*ids, "key")
    )
    return pl.concat([rf_keys, be])


def _two_keys(frame: pl.DataFrame, ids: list[str], first: str, second: str) -> pl.DataFrame:
    """ids, key: two columns normalized as references, the second kept only where it differs
    (deduplicated in the row: no unique() over a million keys)."""
    # Each column normalized once (a filter on them and a select of them would each redo it).
    both = frame.select(
        *ids, a=normalize_reference(pl.col(first)), b=normalize_reference(pl.col(second))
    )
    return pl.concat(
        [
            both.select(*ids, key="a"),
            both.filter(pl.col("b").ne_missing(pl.col("a"))).select(*ids, key="b"),
        ]
    ).filter(pl.col("key").str.len_chars() >= 4)


def reference_keys(open_items: pl.DataFrame, *, carry: tuple[str, ...] = ()) -> pl.DataFrame:
    """invoice_id, key: an invoice's reference and id as rule 1 compares them (built once a run).
    ``carry``: further columns kept beside invoice_id."""
    return _two_keys(open_items, ["invoice_id", *carry], "reference", "invoice_id")


def structured_pairs(
    transactions: pl.DataFrame, refs: pl.DataFrame, *, carry: tuple[str, ...] = ()
) -> pl.DataFrame:
    """transaction_id, invoice_id (and the ``carry`` columns of both sides): every pair rule 1
    links, open or not. Computed once a run; what is open is filtered at each use."""
    ids = ["transaction_id", *(c for c in carry if c in transactions.columns)]
    tx = pl.concat(
        [
            _two_keys(transactions, ids, "remittance_structured", "end_to_end_id"),
            check_digit_references(transactions, ids).collect(),
        ]
    )
    return tx.join(refs, on="key").drop("key").unique()


def run_links(
    transactions: pl.DataFrame, open_items: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """structured_pairs (with ``t`` and ``i``) and text_hits (by ``t``) of a run's transactions
    against every item, in one collect_all: the two are independent and partly single-threaded,
    so on two cores they overlap. ``transactions`` carry ``t``, ``open_items`` carry ``i``."""
    refs = _two_keys(open_items.lazy(), ["invoice_id", "i"], "reference", "invoice_id")
    ids = ["transaction_id", "t"]
    tx = pl.concat(
        [
            _two_keys(transactions.lazy(), ids, "remittance_structured", "end_to_end_id"),
            check_digit_references(transactions, ids),
        ]
    )
    pairs = tx.join(refs, on="key").drop("key").unique()
    texts = transactions.lazy().select("t", "remittance_unstructured")
    hits = _text_hits(texts, _invoice_keys(open_items.lazy(), ("i",)), "t")
    found_pairs, found_hits = pl.collect_all([pairs, hits])
    return found_pairs, found_hits


def structured_reference(
    transactions: pl.DataFrame, open_items: pl.DataFrame, refs: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Rule 1: the RF creditor reference or end-to-end id equals an invoice's reference
    (or its id). ``refs``: reference_keys() of a superset of open_items (a run reuses them)."""
    refs = reference_keys(open_items) if refs is None else refs
    tx = pl.concat(
        [
            _two_keys(transactions, ["transaction_id"], "remittance_structured", "end_to_end_id"),
            check_digit_references(transactions, ["transaction_id"]).collect(),
        ]
    )
    return (
        tx.join(refs, on="key")
        .select("transaction_id", "invoice_id")
        .unique()
        .join(open_items.select("invoice_id"), on="invoice_id", how="semi")
        .with_columns(rule=pl.lit(Rule.STRUCTURED_REFERENCE), confidence=pl.lit(1.0))
    )


def _text_hits(texts: pl.LazyFrame, keys: pl.LazyFrame, id_col: str) -> pl.LazyFrame:
    return _text_keys(_chains(texts, id_col), id_col).join(keys, on="key").drop("key", "variable")


def with_best_key(hits: pl.LazyFrame) -> pl.LazyFrame:
    """hits with ``best``: the strongest key of each run of text (t, chain_no) over every item
    they cover, open or not (invoice_numbers keeps only what that key names)."""
    return hits.with_columns(best=pl.col("strength").max().over("t", "chain_no"))


def text_hits(transactions: pl.DataFrame, keys: pl.DataFrame, id_col: str) -> pl.DataFrame:
    """id_col, chain_no, start, length, invoice_id (and what keys carry), strength: every run of
    every remittance text that equals some invoice's key, open or not. The costly half of rules
    2-3, computed once a run: what is still open is filtered at each use (invoice_numbers)."""
    texts = transactions.lazy().select(id_col, "remittance_unstructured")
    return _text_hits(texts, keys.lazy(), id_col).collect()


def invoice_numbers(
    transactions: pl.DataFrame,
    open_items: pl.DataFrame,
    keys: pl.DataFrame | None = None,
    *,
    hits: pl.DataFrame | None = None,
    payers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Rules 2 and 3: invoice numbers written in the remittance text, one or several.

    ``payers`` (transaction_id, customer_id): whom each payer may be; a weak key then only names
    that customer's items ("factures 11 et 24" from a customer, not another's credit note AV-0011).

    Returns candidates with a ``strong`` flag and ``ambiguous``: a strong key names an invoice on
    its own; a weak one (few digits) only when the amount confirms it, which amounts.py checks.
    A run of text whose best key fits several invoices alike makes the transfer ambiguous.
    ``keys``: invoice_keys() computed once for a superset of open_items (a run reuses them).
    ``hits``: text_hits(..., id_col="t") of a superset of the transactions, which then carry that
    integer column ``t`` (the engine's row number); their keys are not extracted again.
    One lazy query; transfers are numbered so that the windows and group-bys work on integers.
    """
    if hits is None:
        inv_keys = (invoice_keys(open_items) if keys is None else keys).lazy()
        ids = transactions.lazy().select(
            "transaction_id", "remittance_unstructured", t=pl.int_range(pl.len(), dtype=pl.UInt32)
        )
        raw = _text_hits(ids, inv_keys, "t")
    else:
        ids = transactions.lazy().select("transaction_id", "t")
        raw = hits.lazy().join(ids.select("t"), on="t", how="semi")
    # Per run of text, its best key over every item the hits cover, open or not: a number written
    # with its series' letters ("FA2025-000113", paid) names that document, not another series'
    # open one that shares its digits (AV2025-00113).
    # (Hits that carry it, with_best_key, were ranked once for the whole run.)
    if "best" not in raw.collect_schema().names():
        raw = with_best_key(raw)
    # Keys of the whole run first, then only the hits on what is still open (far fewer rows).
    hits = raw.join(open_items.lazy().select("invoice_id"), on="invoice_id", how="semi")
    # Whether each document was issued when the money came (a number two documents share names
    # the one issued then: "FACT 00352" in June is FT25-00352 of May, not FB25-00352 of December).
    if "issue_date" in open_items.columns and "booking_date" in transactions.columns:
        when = (
            transactions.lazy()
            .select("transaction_id", "booking_date")
            .join(ids.select("transaction_id", "t"), on="transaction_id")
        )
        hits = (
            hits.join(open_items.lazy().select("invoice_id", "issue_date"), on="invoice_id")
            .join(when.select("t", "booking_date"), on="t")
            .with_columns(issued=~(pl.col("issue_date") > pl.col("booking_date")).fill_null(False))
            .drop("issue_date", "booking_date")
        )
    else:
        hits = hits.with_columns(issued=pl.lit(True))
    if payers is not None and payers.height:
        known = ids.join(payers.lazy(), on="transaction_id").select("t", "customer_id")
        foreign = (
            hits.filter(pl.col("strength") < 0.95)
            .join(open_items.lazy().select("invoice_id", "customer_id"), on="invoice_id")
            .join(known.select("t").unique(), on="t", how="semi")
            .join(known, on=["t", "customer_id"], how="anti")
            .select("t", "invoice_id")
        )
        hits = pl.concat(
            [
                hits.filter(pl.col("strength") >= 0.95),
                hits.filter(pl.col("strength") < 0.95).join(
                    foreign, on=["t", "invoice_id"], how="anti"
                ),
            ]
        )
    # Per run of text, keep the invoices reached by its best key; a longer run beats a shorter one
    # it contains ("2024 00123" beats "00123").
    hits = hits.filter(pl.col("strength") == pl.col("best")).drop("best")
    hits = hits.with_columns(longest=pl.col("length").max().over("t", "chain_no", "start"))
    longest = pl.col("length") == pl.col("longest")
    per_run = hits.group_by("t", "chain_no", "start").agg(
        pl.col("invoice_id").filter(longest).unique().sort(),
        pl.col("invoice_id").filter(longest & pl.col("issued")).unique().sort().alias("then"),
        pl.col("strength").max(),
        pl.col("length").max(),
    )
    per_run = per_run.with_columns(
        invoice_id=pl.when((pl.col("invoice_id").list.len() > 1) & (pl.col("then").list.len() > 0))
        .then("then")
        .otherwise("invoice_id")
    ).drop("then")
    # Drop runs covered by a longer matching run of the same chain.
    per_run = per_run.with_columns(end=pl.col("start") + pl.col("length"))
    covered = (
        per_run.join(per_run, on=["t", "chain_no"], suffix="_o")
        .filter(
            (pl.col("start_o") <= pl.col("start"))
            & (pl.col("end_o") >= pl.col("end"))
            & (pl.col("length_o") > pl.col("length"))
        )
        .select("t", "chain_no", "start")
        .unique()
    )
    runs = per_run.join(covered, on=["t", "chain_no", "start"], how="anti")
    runs = runs.with_columns(
        strong=pl.col("strength") >= 0.95,
        ambiguous=pl.col("invoice_id").list.len() > 1,
    )
    # A short number that fits several invoices says nothing: it is dropped (a strong one that
    # does makes the transfer ambiguous). A weak run beside strong ones is kept, marked weak:
    # "FA2026-00412+00437" names two invoices only if their sum is what was paid (the engine).
    runs = runs.filter(pl.col("strong") | ~pl.col("ambiguous"))
    out = (
        runs.explode("invoice_id")
        .group_by("t", "invoice_id")
        .agg(
            pl.col("strength").max().alias("confidence"),
            pl.col("strong").any(),
            pl.col("ambiguous").any(),
        )
    )
    n_inv = pl.col("invoice_id").n_unique().over("t")
    return (
        out.with_columns(
            rule=pl.when(n_inv > 1)
            .then(pl.lit(Rule.GROUPED_INVOICE_NUMBERS))
            .otherwise(pl.lit(Rule.INVOICE_NUMBER)),
            ambiguous=pl.col("ambiguous").any().over("t"),
        )
        .join(ids.select("t", "transaction_id"), on="t")
        .select("transaction_id", "invoice_id", "rule", "confidence", "strong", "ambiguous")
        .collect()
    )


FUZZY_CANDIDATE = {
    **CANDIDATE,
    "amount_fits": pl.Boolean,
    "payer_fits": pl.Boolean,
    "gap_cents": pl.Int64,
}


def _deletions(frame: pl.LazyFrame, col: str) -> pl.LazyFrame:
    """Each string with one character deleted (and itself): the symmetric-delete index."""
    n = pl.col(col).str.len_chars()
    with_pos = frame.with_columns(pos=pl.int_ranges(0, n + 1)).explode("pos")
    return with_pos.with_columns(
        variant=pl.when(pl.col("pos") == n)
        .then(pl.col(col))
        .otherwise(
            pl.col(col).str.slice(0, pl.col("pos")) + pl.col(col).str.slice(pl.col("pos") + 1)
        )
    ).drop("pos")


def _fuzzy_keys(tokens: pl.LazyFrame, inv: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(token side, invoice side) of the neighbour search, both keyed by ``variant``: one-edit
    variants of every token and key, plus (truncation) the last token of a text against the
    prefixes of at least _FUZZY_MIN_DIGITS of every longer key."""
    typo_tx = _deletions(tokens, "token").with_columns(trunc=pl.lit(False))
    typo_inv = _deletions(inv, "key").with_columns(trunc=pl.lit(False))
    trunc_tx = tokens.filter(pl.col("is_last")).with_columns(
        variant=pl.col("token"), trunc=pl.lit(True)
    )
    trunc_inv = (
        inv.with_columns(plen=pl.int_ranges(_FUZZY_MIN_DIGITS, pl.col("key").str.len_chars()))
        .explode("plen")
        .drop_nulls("plen")
        .with_columns(variant=pl.col("key").str.slice(0, pl.col("plen")), trunc=pl.lit(True))
        .drop("plen")
    )
    return (
        pl.concat([typo_tx, trunc_tx], how="vertical_relaxed").drop("is_last"),
        pl.concat([typo_inv, trunc_inv], how="vertical_relaxed"),
    )


def fuzzy_invoice_numbers(
    transactions: pl.DataFrame,
    open_items: pl.DataFrame,
    payers: pl.DataFrame | None = None,
    *,
    tolerance_cents: int = 0,
) -> pl.DataFrame:
    """Rule 2, last resort: one typo (a character wrong, missing, added or two swapped) or a number
    truncated at the end of the text. Long numbers only.

    A neighbour is a candidate only if it fits the transfer: its open amount equals the amount or
    exceeds it by at most ``tolerance_cents`` (``amount_fits``), or its customer is one the payer
    stands for (``payer_fits``; ``payers``: transaction_id, customer_id). Retyped numbers sit among
    hundreds of real one-edit neighbours, so the search is blocked on those two facts: the joins
    are keyed by (variant, amount bucket) and by (variant, customer), never by variant alone, and
    only neighbours that may fit are ever paired. Lengths are blocked by the variants themselves
    (a one-edit variant is the string or the string less one character).
    Returns FUZZY_CANDIDATE rows, sorted; choosing among them is the engine's job.
    """
    chains = text_chains(transactions)
    tokens = (
        chains.select(
            "transaction_id",
            "is_last",
            token=pl.col("groups").list.join(""),
        )
        .filter(pl.col("token").str.len_chars() >= _FUZZY_MIN_DIGITS)
        .unique()
    )
    if tokens.height == 0 or open_items.height == 0:
        return pl.DataFrame(schema=FUZZY_CANDIDATE)
    width = tolerance_cents + 1  # an amount bucket: fits are in the payer's bucket or the next
    tx_info = transactions.lazy().select("transaction_id", "amount_cents", "currency")
    inv = (
        open_items.lazy()
        .select(
            "invoice_id",
            "customer_id",
            "currency",
            "amount_open_cents",
            key=pl.col("invoice_id").str.extract_all(r"[0-9]+").list.join(""),
        )
        .filter(pl.col("key").str.len_chars() >= _FUZZY_MIN_DIGITS)
    )
    tx_side, inv_side = (f.lazy() for f in pl.collect_all(_fuzzy_keys(tokens.lazy(), inv)))
    tx_side = tx_side.join(tx_info, on="transaction_id")
    inv_side = inv_side.with_columns(bucket=pl.col("amount_open_cents").floordiv(width))
    # The amount's bucket and, when the tolerance reaches into it, the next one (two plain frames
    # rather than a list per row exploded).
    low = pl.col("amount_cents").floordiv(width)
    high = (pl.col("amount_cents") + tolerance_cents).floordiv(width)
    by_amount = (
        pl.concat(
            [
                tx_side.with_columns(bucket=low),
                tx_side.filter(high != low).with_columns(bucket=high),
            ]
        )
        .join(inv_side, on=["variant", "bucket", "currency", "trunc"])
        .filter(
            (pl.col("amount_open_cents") - pl.col("amount_cents")).is_between(0, tolerance_cents)
        )
        .select("transaction_id", "invoice_id", "token", "key")
    )
    pairs = [by_amount]
    payer_lf = (
        pl.DataFrame(schema={"transaction_id": pl.String, "customer_id": pl.String})
        if payers is None
        else payers.select("transaction_id", "customer_id")
    ).lazy()
    pairs.append(
        tx_side.join(payer_lf, on="transaction_id")
        .join(inv_side, on=["variant", "customer_id", "currency", "trunc"])
        .select("transaction_id", "invoice_id", "token", "key")
    )
    found = (
        pl.concat(pairs)
        .filter(pl.col("token") != pl.col("key"))
        .select("transaction_id", "invoice_id")
        .unique()
        .join(tx_info, on="transaction_id")
        .join(
            inv.select("invoice_id", "customer_id", "amount_open_cents"),
            on="invoice_id",
        )
        .join(
            payer_lf.with_columns(payer_fits=pl.lit(True)),
            on=["transaction_id", "customer_id"],
            how="left",
        )
        .select(
            "transaction_id",
            "invoice_id",
            rule=pl.lit(Rule.INVOICE_NUMBER_FUZZY),
            confidence=pl.lit(0.9),
            amount_fits=(pl.col("amount_open_cents") - pl.col("amount_cents")).is_between(
                0, tolerance_cents
            ),
            payer_fits=pl.col("payer_fits").fill_null(False),
            gap_cents=pl.col("amount_open_cents") - pl.col("amount_cents"),
        )
        .sort("transaction_id", "invoice_id")
    )
    return found.collect().cast(FUZZY_CANDIDATE)


def one_slip_apart(pairs: pl.DataFrame, left: str, right: str) -> pl.DataFrame:
    """The rows of ``pairs`` whose two invoice numbers (columns ``left``, ``right``) have digits
    one keying slip apart: as long, of at least _FUZZY_MIN_DIGITS, and differing in one digit or
    in two neighbours swapped ("2600206" and "2600260"). For the few pairs a rule doubts."""
    digits = [pl.col(c).str.replace_all(r"[^0-9]+", "") for c in (left, right)]
    both = pairs.with_row_index("_row").with_columns(_a=digits[0], _b=digits[1])
    same_length = both.filter(
        (pl.col("_a").str.len_chars() == pl.col("_b").str.len_chars())
        & (pl.col("_a").str.len_chars() >= _FUZZY_MIN_DIGITS)
        & (pl.col("_a") != pl.col("_b"))
    )
    at = pl.col("_pos")
    differ = (
        same_length.select("_row", "_a", "_b", _pos=pl.int_ranges(pl.col("_a").str.len_chars()))
        .explode("_pos")
        .filter(pl.col("_a").str.slice(at, 1) != pl.col("_b").str.slice(at, 1))
        .group_by("_row")
        .agg(
            n=pl.len(),
            first=at.min(),
            last=at.max(),
            a=pl.col("_a").first(),
            b=pl.col("_b").first(),
        )
    )
    first, last = pl.col("first"), pl.col("last")
    swapped = (
        (pl.col("n") == 2)
        & (last == first + 1)
        & (pl.col("a").str.slice(first, 1) == pl.col("b").str.slice(last, 1))
        & (pl.col("a").str.slice(last, 1) == pl.col("b").str.slice(first, 1))
    )
    rows = differ.filter((pl.col("n") == 1) | swapped).select("_row")
    return both.join(rows, on="_row", how="semi").drop("_row", "_a", "_b")


DOCUMENT_LINK = {
    "transaction_id": pl.String,
    "invoice_id": pl.String,
    "doc_cents": pl.Int64,  # signed as the item: a credit note's amount is negative
}


def document_links(transactions: pl.DataFrame, open_items: pl.DataFrame) -> pl.DataFrame:
    """DOCUMENT_LINK: each document a transfer's structured remittance names (its
    ``remittance_documents``: number, type, amount), resolved to the one open item of that number
    (compared as references are: "FA-2026-00012" names FA202600012), with the amount the payer
    remits for it (the item's open amount when the payer gave none). A number that fits no open
    item, or several, gives no row for that document; the engine then takes none of the
    transfer's documents. A credit note (doc_type CREN or a negative item) is netted: its amount
    counts negative whatever sign the payer wrote."""
    if "remittance_documents" not in transactions.columns:
        return pl.DataFrame(schema={**DOCUMENT_LINK, "n_docs": pl.UInt32})
    docs = (
        transactions.select("transaction_id", doc="remittance_documents")
        .filter(pl.col("doc").list.len() > 0)
        .with_columns(n_docs=pl.col("doc").list.len().cast(pl.UInt32))
        .explode("doc")
        .unnest("doc")
        .with_columns(key=normalize_reference(pl.col("doc_number")))
        .filter(pl.col("key").str.len_chars() > 0)
    )
    if docs.height == 0:
        return pl.DataFrame(schema={**DOCUMENT_LINK, "n_docs": pl.UInt32})
    items = open_items.select(
        "invoice_id", "amount_open_cents", key=normalize_reference(pl.col("invoice_id"))
    )
    found = docs.join(items, on="key").filter(pl.len().over("transaction_id", "key") == 1)
    credit = (pl.col("amount_open_cents") < 0) | (pl.col("doc_type").fill_null("") == "CREN")
    cents = pl.col("amount_cents").fill_null(pl.col("amount_open_cents")).abs()
    return found.select(
        "transaction_id",
        "invoice_id",
        doc_cents=pl.when(credit).then(-cents).otherwise(cents),
        n_docs="n_docs",
    ).cast({**DOCUMENT_LINK, "n_docs": pl.UInt32})
