"""What is not a customer payment, so reconciliation leaves it alone instead of asking again.

Two sources, both editable by finance:
- the counterparties finance decided "not a customer payment" (the tax office, the insurer, the
  utility, the bank's interest), remembered in ``not_customer_counterparties`` (sql/015) by
  their IBAN, else their normalised name, else (a line with neither, such as bank interest) the
  words of their text without numbers or dates; undone by ``forget``;
- a starter list of bank transaction codes (interest, fees, tax, salaries, card settlements),
  not_customer.toml beside this module or the copy O2C_NOT_CUSTOMER_CODES names.
Lines left alone are never given to the engine (filtered here, before it) and are counted in the
run's artifact.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from o2c.tasks.reconciliation.payers import normalize_iban, normalize_name
from o2c.warehouse import transaction

CODES_FILE = Path(__file__).with_name("not_customer.toml")
CODES_ENV = "O2C_NOT_CUSTOMER_CODES"
_PART = re.compile(r"^[A-Za-z0-9*]{1,12}$")
_MIN_NAME = 3  # a shorter name tells nobody apart
_MIN_TEXT = 6


def load_codes(path: Path | None = None) -> dict[str, list[str]]:
    """The starter list, {kind: [code patterns]}: ``path``, else O2C_NOT_CUSTOMER_CODES, else the
    shipped file. A bad entry is refused naming the file and the key."""
    chosen = path or (Path(os.environ[CODES_ENV]) if os.environ.get(CODES_ENV) else CODES_FILE)
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{chosen}: list of not-customer bank codes not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{chosen}: not valid TOML ({err})") from None
    unknown = set(data) - {"codes"}
    if unknown:
        raise ValueError(f"{chosen}: unknown section(s) {', '.join(sorted(unknown))}")
    codes = data.get("codes", {})
    if not isinstance(codes, dict):
        raise ValueError(f"{chosen}: [codes] must be a table")
    for kind, patterns in codes.items():
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise ValueError(f"{chosen}: codes.{kind} must be a list of texts")
        for p in patterns:
            if not p or not all(_PART.match(part) for part in p.split("/")):
                raise ValueError(
                    f"{chosen}: codes.{kind}: {p!r} is not a code pattern (parts of letters,"
                    " digits or *, separated by /)"
                )
    return codes


def code_regex(codes: dict[str, list[str]]) -> str | None:
    """One anchored regex matching any pattern of the list (``*`` is one part), or None."""
    alternatives = [
        "/".join("[^/]+" if part == "*" else re.escape(part.upper()) for part in p.split("/"))
        for patterns in codes.values()
        for p in patterns
    ]
    return f"^(?:{'|'.join(alternatives)})$" if alternatives else None


def counterparty_key(iban: pl.Expr, name: pl.Expr, text: pl.Expr) -> pl.Expr:
    """Who a line is from, as remembered: "iban:<IBAN>", else "name:<NORMALISED NAME>", else
    "text:<WORDS>" (its text without numbers or dates), else null (nothing to remember)."""
    iban = normalize_iban(iban).fill_null("")
    name = normalize_name(name).fill_null("")
    words = (
        normalize_name(text)
        .str.replace_all(r"\b\w*\d\w*\b", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .fill_null("")
    )
    return (
        pl.when(iban.str.len_chars() > 0)
        .then(pl.lit("iban:") + iban)
        .when(name.str.len_chars() >= _MIN_NAME)
        .then(pl.lit("name:") + name)
        .when(words.str.len_chars() >= _MIN_TEXT)
        .then(pl.lit("text:") + words)
        .otherwise(None)
    )


def _key_of(frame: pl.DataFrame) -> pl.Expr:
    text = pl.coalesce(
        [c for c in ("remittance_unstructured", "remittance_structured") if c in frame.columns]
    )
    return counterparty_key(pl.col("counterparty_iban"), pl.col("counterparty_name"), text)


def set_aside(
    transactions: pl.DataFrame, remembered: list[str], codes: dict[str, list[str]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(what the engine should look at, what is left alone with ``left_alone_by``: "decision"
    for a remembered counterparty, "code" for a code of the starter list)."""
    by_code = pl.lit(False)
    regex = code_regex(codes)
    if regex is not None:
        by_code = pl.col("bank_tx_code").str.to_uppercase().str.contains(regex).fill_null(False)
    by_decision = pl.lit(False)
    if remembered:
        by_decision = pl.Series(_remembered(transactions, remembered))
    marked = transactions.with_columns(
        left_alone_by=pl.when(by_decision)
        .then(pl.lit("decision"))
        .when(by_code)
        .then(pl.lit("code"))
        .otherwise(None)
    )
    alone = pl.col("left_alone_by").is_not_null()
    return marked.filter(~alone).drop("left_alone_by"), marked.filter(alone)


def _remembered(transactions: pl.DataFrame, remembered: list[str]) -> pl.Series:
    """Which lines come from a remembered counterparty. Names and texts are normalised only for
    the lines without an IBAN, and only when a name or text is remembered: at a million lines
    the normalisation is what costs."""
    iban = normalize_iban(pl.col("counterparty_iban")).fill_null("")
    hit = transactions.select(
        hit=(pl.lit("iban:") + iban).is_in([k for k in remembered if k.startswith("iban:")]),
        no_iban=iban.str.len_chars() == 0,
    )
    if not any(k.startswith(("name:", "text:")) for k in remembered):
        return hit["hit"]
    rest = transactions.with_row_index("_i").filter(hit["no_iban"])
    # Names repeat: each distinct one is normalised once.
    names = (
        rest.select("counterparty_name")
        .unique()
        .with_columns(_name=normalize_name(pl.col("counterparty_name")).fill_null(""))
    )
    rest = rest.join(names, on="counterparty_name", how="left", nulls_equal=True)
    named = pl.col("_name").str.len_chars() >= _MIN_NAME
    found = rest.filter(named & (pl.lit("name:") + pl.col("_name")).is_in(remembered))["_i"]
    if any(k.startswith("text:") for k in remembered):
        unnamed = rest.filter(~named)
        found = pl.concat([found, unnamed.filter(_key_of(unnamed).is_in(remembered))["_i"]])
    return hit["hit"] | pl.int_range(transactions.height, eager=True).is_in(found)


def left_alone_stats(left: pl.DataFrame) -> dict:
    """Counts and sums per currency of what was left alone, for the artifact."""
    by_currency = (
        left.group_by("currency").agg(pl.len().alias("n"), pl.col("amount_cents").sum())
        if left.height
        else pl.DataFrame(schema={"currency": pl.String, "n": pl.UInt32, "amount_cents": pl.Int64})
    )
    return {
        "left_alone": left.height,
        "left_alone_by_decision": left.filter(pl.col("left_alone_by") == "decision").height,
        "left_alone_by_code": left.filter(pl.col("left_alone_by") == "code").height,
        "left_alone_by_currency": {
            cur: {"transactions": n, "amount_cents": cents}
            for cur, n, cents in by_currency.sort("currency").iter_rows()
        },
    }


# --------------------------------------------------------------------------------------------
# The memory in the warehouse
# --------------------------------------------------------------------------------------------


def remembered_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The counterparties finance said are not customers (and has not taken back)."""
    rows = con.execute(
        "SELECT counterparty_key FROM not_customer_counterparties WHERE forgotten_at IS NULL"
    ).fetchall()
    return [k for (k,) in rows]


def remember(
    con: duckdb.DuckDBPyConnection,
    transaction_ids: list[str],
    *,
    decided_by: str | None,
    source: str,
    now: datetime,
) -> int:
    """Remember the counterparties of these transactions (decided "not a customer payment"), in
    the caller's transaction; how many were new or taken up again. Lines with nothing to tell
    their counterparty by, or from a customer's known account, are decided, not remembered."""
    if not transaction_ids:
        return 0
    lines = _query(
        con,
        """SELECT transaction_id, counterparty_iban, counterparty_name,
                  remittance_unstructured, remittance_structured
           FROM bank_transactions WHERE list_contains(?, transaction_id)
           ORDER BY transaction_id""",
        [transaction_ids],
    )
    keyed = (
        lines.with_columns(
            counterparty_key=_key_of(lines),
            shown_as=pl.coalesce(
                "counterparty_iban",
                "counterparty_name",
                "remittance_unstructured",
                "remittance_structured",
            ),
        )
        .filter(pl.col("counterparty_key").is_not_null())
        .unique("counterparty_key", keep="first", maintain_order=True)
        .select("counterparty_key", "shown_as", "transaction_id")
    )
    # A customer's own account (or one learned as paying for a customer) is never remembered:
    # one line of it may be no payment (a refund, a deposit), its next invoices will be.
    customers = _query(
        con,
        """SELECT iban FROM customers WHERE iban IS NOT NULL
           UNION SELECT payer_iban FROM customer_payer_aliases WHERE payer_iban IS NOT NULL""",
    ).select(key=pl.lit("iban:") + normalize_iban(pl.col("iban")))
    keyed = keyed.join(customers, left_on="counterparty_key", right_on="key", how="anti")
    if keyed.height == 0:
        return 0
    con.register("_remember", keyed.to_arrow())
    try:
        with transaction(con):  # a forgotten counterparty is learned again; a new one added
            relearned = con.execute(
                """UPDATE not_customer_counterparties AS n SET
                       shown_as = r.shown_as, learned_from = r.transaction_id, decided_by = ?,
                       source = ?, decided_at = ?, forgotten_at = NULL, forgotten_by = NULL
                   FROM _remember r
                   WHERE n.counterparty_key = r.counterparty_key AND n.forgotten_at IS NOT NULL""",
                [decided_by, source, now],
            ).fetchall()[0][0]
            added = con.execute(
                """INSERT INTO not_customer_counterparties
                   SELECT counterparty_key, shown_as, transaction_id, ?, ?, ?, NULL, NULL
                   FROM _remember
                   WHERE counterparty_key NOT IN
                         (SELECT counterparty_key FROM not_customer_counterparties)""",
                [decided_by, source, now],
            ).fetchall()[0][0]
        return relearned + added
    finally:
        con.unregister("_remember")


def forget(
    con: duckdb.DuckDBPyConnection, who: list[str], *, by: str | None, now: datetime
) -> dict[str, list[str]]:
    """Take back "not a customer payment" for counterparties given as finance sees them (an
    IBAN, a name, a text as in the artifact, or a transaction id), in the caller's transaction:
    the memory is marked forgotten and the not-a-customer decisions on that counterparty's lines
    are marked undone, so the next run looks at those lines again. Returns {"forgotten": keys,
    "unknown": what matched nothing}."""
    remembered = remembered_keys(con)
    by_tx = dict(
        _query(
            con,
            """SELECT transaction_id, counterparty_iban, counterparty_name,
                      remittance_unstructured FROM bank_transactions
               WHERE list_contains(?, transaction_id)""",
            [who],
        )
        .select("transaction_id", key=_key_of_plain())
        .iter_rows()
    )
    forgotten, unknown = [], []
    for given in who:
        keys = [by_tx[given]] if by_tx.get(given) else _keys_for(given)
        hit = [k for k in keys if k in remembered]
        (forgotten.extend(hit) if hit else unknown.append(given))
    forgotten = sorted(set(forgotten))
    if not forgotten:
        return {"forgotten": [], "unknown": unknown}
    _run(
        con,
        """UPDATE not_customer_counterparties SET forgotten_at = ?, forgotten_by = ?
           WHERE list_contains(?, counterparty_key) AND forgotten_at IS NULL""",
        [now, by, forgotten],
    )
    decided = (
        _query(
            con,
            """SELECT d.transaction_id, t.counterparty_iban, t.counterparty_name,
                      t.remittance_unstructured
               FROM reconciliation_decisions d JOIN bank_transactions t USING (transaction_id)
               WHERE d.invoice_id IS NULL AND d.undone_at IS NULL""",
        )
        .select("transaction_id", key=_key_of_plain())
        .filter(pl.col("key").is_in(forgotten))["transaction_id"]
        .to_list()
    )
    if decided:
        _run(
            con,
            """UPDATE reconciliation_decisions SET undone_at = ?
               WHERE invoice_id IS NULL AND undone_at IS NULL
                 AND list_contains(?, transaction_id)""",
            [now, decided],
        )
        # Their exceptions were resolved by the decision: open them again for the next run.
        _run(
            con,
            """DELETE FROM reconciliation_exceptions WHERE list_contains(?, transaction_id)""",
            [decided],
        )
    return {"forgotten": forgotten, "unknown": unknown}


def _key_of_plain() -> pl.Expr:
    return counterparty_key(
        pl.col("counterparty_iban"), pl.col("counterparty_name"), pl.col("remittance_unstructured")
    )


def _keys_for(given: str) -> list[str]:
    """The keys a counterparty typed by finance could be remembered under (IBAN, name, text)."""
    one = pl.DataFrame({"v": [given]})
    return [
        k
        for k in one.select(
            iban=counterparty_key(pl.col("v"), pl.lit(None, pl.String), pl.lit(None, pl.String)),
            name=counterparty_key(pl.lit(None, pl.String), pl.col("v"), pl.lit(None, pl.String)),
            text=counterparty_key(pl.lit(None, pl.String), pl.lit(None, pl.String), pl.col("v")),
        ).row(0)
        if k
    ]


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """A query's rows as text columns (a result with no row keeps its columns)."""
    rel = con.sql(sql, params=params) if params else con.sql(sql)
    return pl.DataFrame(
        pl.from_arrow(rel.to_arrow_table()), schema=dict.fromkeys(rel.columns, pl.String)
    )


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> None:
    con.execute(sql, params).fetchall()
