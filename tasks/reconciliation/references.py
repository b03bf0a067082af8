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

RULE_STRUCTURED = "structured_reference"
RULE_INVOICE_NUMBER = "invoice_number"
RULE_GROUPED = "grouped_invoice_numbers"
RULE_FUZZY = "invoice_number_fuzzy"

CANDIDATE = {
    "transaction_id": pl.String,
    "invoice_id": pl.String,
    "rule": pl.String,
    "confidence": pl.Float64,
}

# A chain of digit groups, optionally led by letters: "FA-2024-00123", "INV 123", "2024/77".
# '.' and ',' are not separators: "1234.56" in a text is an amount, not an invoice number.
_CHAIN = r"[A-Z]*[ _\-/#]?[0-9]+(?:[ _\-/][0-9]+)*"
_MAX_GROUPS = 4  # longest run of digit groups taken as one invoice number
_MAX_CHAIN_GROUPS = 8
_STRONG_DIGITS = 6  # a key with fewer digits only counts when the amount confirms it
_FUZZY_MIN_DIGITS = 6


def normalize_reference(expr: pl.Expr) -> pl.Expr:
    """Upper case, letters and digits only: how references compare."""
    return expr.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")


def _strip_zeros(groups: pl.Expr) -> pl.Expr:
    return groups.list.eval(pl.element().str.strip_chars_start("0").replace("", "0"))


def invoice_keys(open_items: pl.DataFrame) -> pl.DataFrame:
    """invoice_id, key, strength: each form under which an invoice number may be written."""
    base = open_items.select(
        "invoice_id",
        up=pl.col("invoice_id").str.to_uppercase(),
    ).with_columns(
        groups=pl.col("up").str.extract_all(r"[0-9]+"),
        letters=pl.col("up").str.extract(r"^([A-Z]*)", 1),
    )
    keys = base.select(
        "invoice_id",
        full=normalize_reference(pl.col("up")),
        full_stripped=pl.col("letters") + _strip_zeros(pl.col("groups")).list.join(""),
        digits=pl.col("groups").list.join(""),
        stripped=_strip_zeros(pl.col("groups")).list.join(""),
    ).unpivot(index="invoice_id", variable_name="kind", value_name="key")
    return (
        keys.filter(pl.col("key").str.contains(r"[0-9]"))
        .with_columns(
            strength=pl.when(pl.col("key").str.contains(r"[A-Z]"))
            .then(pl.lit(1.0))
            .when(pl.col("key").str.len_chars() >= _STRONG_DIGITS)
            .then(pl.lit(0.97))
            .otherwise(pl.lit(0.7))
        )
        .group_by("invoice_id", "key")
        .agg(pl.col("strength").max())
    )


def text_chains(transactions: pl.DataFrame) -> pl.DataFrame:
    """transaction_id, chain_no, letters, groups, is_last: number-like runs of the remittance."""
    return (
        transactions.select(
            "transaction_id",
            chain=pl.col("remittance_unstructured")
            .fill_null("")
            .str.to_uppercase()
            .str.extract_all(_CHAIN),
        )
        .with_columns(n=pl.col("chain").list.len())
        .filter(pl.col("n") > 0)
        .with_columns(chain_no=pl.int_ranges(pl.col("n")))
        .explode("chain", "chain_no")
        .select(
            "transaction_id",
            "chain_no",
            is_last=pl.col("chain_no") == pl.col("n") - 1,
            letters=pl.col("chain").str.extract(r"^([A-Z]*)", 1),
            groups=pl.col("chain").str.extract_all(r"[0-9]+").list.head(_MAX_CHAIN_GROUPS),
        )
    )


def text_keys(chains: pl.DataFrame) -> pl.DataFrame:
    """transaction_id, chain_no, start, key: each run of up to 4 digit groups, as keys."""
    parts = []
    for start in range(_MAX_CHAIN_GROUPS):
        for length in range(1, _MAX_GROUPS + 1):
            sub = chains.filter(pl.col("groups").list.len() >= start + length).select(
                "transaction_id",
                "chain_no",
                pl.lit(start, pl.Int32).alias("start"),
                pl.lit(length, pl.Int32).alias("length"),
                "letters",
                g=pl.col("groups").list.slice(start, length),
            )
            if sub.height == 0:
                continue
            forms = [
                pl.col("g").list.join("").alias("digits"),
                _strip_zeros(pl.col("g")).list.join("").alias("stripped"),
            ]
            if start == 0:
                forms.append((pl.col("letters") + pl.col("g").list.join("")).alias("full"))
                forms.append(
                    (pl.col("letters") + _strip_zeros(pl.col("g")).list.join("")).alias(
                        "full_stripped"
                    )
                )
            parts.append(
                sub.select("transaction_id", "chain_no", "start", "length", *forms).unpivot(
                    index=["transaction_id", "chain_no", "start", "length"],
                    variable_name="kind",
                    value_name="key",
                )
            )
    if not parts:
        return pl.DataFrame(
            schema={
                "transaction_id": pl.String,
                "chain_no": pl.Int64,
                "start": pl.Int32,
                "length": pl.Int32,
                "kind": pl.String,
                "key": pl.String,
            }
        )
    return pl.concat(parts, how="vertical_relaxed").unique()


def structured_reference(transactions: pl.DataFrame, open_items: pl.DataFrame) -> pl.DataFrame:
    """Rule 1: the RF creditor reference or end-to-end id equals an invoice's reference
    (or its id)."""
    refs = (
        pl.concat(
            [
                open_items.select("invoice_id", key=normalize_reference(pl.col("reference"))),
                open_items.select("invoice_id", key=normalize_reference(pl.col("invoice_id"))),
            ]
        )
        .filter(pl.col("key").str.len_chars() >= 4)
        .unique()
    )
    tx = (
        pl.concat(
            [
                transactions.select("transaction_id", key=normalize_reference(pl.col(c)))
                for c in ("remittance_structured", "end_to_end_id")
            ]
        )
        .filter(pl.col("key").str.len_chars() >= 4)
        .unique()
    )
    return (
        tx.join(refs, on="key")
        .select("transaction_id", "invoice_id")
        .unique()
        .with_columns(rule=pl.lit(RULE_STRUCTURED), confidence=pl.lit(1.0))
    )


def invoice_numbers(
    transactions: pl.DataFrame, open_items: pl.DataFrame, keys: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Rules 2 and 3: invoice numbers written in the remittance text, one or several.

    Returns candidates with a ``strong`` flag and ``ambiguous``: a strong key names an invoice on
    its own; a weak one (few digits) only when the amount confirms it, which amounts.py checks.
    A run of text whose best key fits several invoices alike makes the transfer ambiguous.
    ``keys``: invoice_keys() computed once for a superset of open_items (a run reuses them).
    """
    inv_keys = invoice_keys(open_items) if keys is None else keys
    inv_keys = inv_keys.join(open_items.select("invoice_id"), on="invoice_id", how="semi")
    hits = text_keys(text_chains(transactions)).join(inv_keys, on="key")
    # Per run of text, keep the invoices reached by its best key; a longer run beats a shorter one
    # it contains ("2024 00123" beats "00123").
    hits = hits.with_columns(
        best=pl.col("strength").max().over("transaction_id", "chain_no"),
    ).filter(pl.col("strength") == pl.col("best"))
    hits = hits.with_columns(
        longest=pl.col("length").max().over("transaction_id", "chain_no", "start"),
    )
    per_run = hits.group_by("transaction_id", "chain_no", "start").agg(
        pl.col("invoice_id").filter(pl.col("length") == pl.col("longest")).unique().sort(),
        pl.col("strength").max(),
        pl.col("length").max(),
    )
    # Drop runs covered by a longer matching run of the same chain.
    per_run = per_run.with_columns(end=pl.col("start") + pl.col("length"))
    covered = (
        per_run.join(per_run, on=["transaction_id", "chain_no"], suffix="_o")
        .filter(
            (pl.col("start_o") <= pl.col("start"))
            & (pl.col("end_o") >= pl.col("end"))
            & (pl.col("length_o") > pl.col("length"))
        )
        .select("transaction_id", "chain_no", "start")
        .unique()
    )
    runs = per_run.join(covered, on=["transaction_id", "chain_no", "start"], how="anti")
    runs = runs.with_columns(
        strong=pl.col("strength") >= 0.95,
        ambiguous=pl.col("invoice_id").list.len() > 1,
    )
    # Strong evidence silences weak runs of the same transfer.
    runs = runs.with_columns(any_strong=pl.col("strong").any().over("transaction_id")).filter(
        pl.col("strong") | ~pl.col("any_strong")
    )
    out = (
        runs.explode("invoice_id")
        .group_by("transaction_id", "invoice_id")
        .agg(
            pl.col("strength").max().alias("confidence"),
            pl.col("strong").any(),
            pl.col("ambiguous").any(),
        )
    )
    n_inv = pl.col("invoice_id").n_unique().over("transaction_id")
    return out.with_columns(
        rule=pl.when(n_inv > 1).then(pl.lit(RULE_GROUPED)).otherwise(pl.lit(RULE_INVOICE_NUMBER)),
        ambiguous=pl.col("ambiguous").any().over("transaction_id"),
    ).select("transaction_id", "invoice_id", "rule", "confidence", "strong", "ambiguous")


def _deletions(frame: pl.DataFrame, col: str) -> pl.DataFrame:
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


def fuzzy_invoice_numbers(transactions: pl.DataFrame, open_items: pl.DataFrame) -> pl.DataFrame:
    """Rule 2, last resort: one typo (a character wrong, missing, added or two swapped) or a number
    truncated at the end of the text. Long numbers only; ambiguity is judged with
    the amount later."""
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
    if tokens.height == 0:
        return pl.DataFrame(schema=CANDIDATE)
    inv = (
        open_items.select(
            "invoice_id",
            key=pl.col("invoice_id").str.extract_all(r"[0-9]+").list.join(""),
        )
        .filter(pl.col("key").str.len_chars() >= _FUZZY_MIN_DIGITS)
        .unique()
    )
    typo = (
        _deletions(tokens, "token")
        .join(_deletions(inv, "key"), on="variant")
        .filter(pl.col("token") != pl.col("key"))
        .select("transaction_id", "invoice_id")
    )
    # Truncation: the last number of the text is the start of an invoice number (>= 6 digits kept).
    prefixes = (
        inv.with_columns(plen=pl.int_ranges(_FUZZY_MIN_DIGITS, pl.col("key").str.len_chars()))
        .explode("plen")
        .drop_nulls("plen")
        .select("invoice_id", token=pl.col("key").str.slice(0, pl.col("plen")))
    )
    trunc = (
        tokens.filter(pl.col("is_last"))
        .join(prefixes, on="token")
        .select("transaction_id", "invoice_id")
    )
    return (
        pl.concat([typo, trunc])
        .unique()
        .with_columns(rule=pl.lit(RULE_FUZZY), confidence=pl.lit(0.9))
        .sort("transaction_id", "invoice_id")
    )
