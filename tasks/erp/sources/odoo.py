"""Odoo as an ERP source: invoices and customers read through its external API, incrementally.

What is read (CONTRACTS.md section 3), through tasks/connectors/odoo.py (JSON-RPC or JSON-2):
- `res.partner`, the customers (`customer_rank > 0`, companies and contacts without a parent):
  name, VAT, company registry (a SIRET's first nine digits are the SIREN), email, language
  (`fr_FR` -> fr, `en_US` -> en; any other language is left empty, the dunning default, rather
  than quarantining the customer), address, and the IBAN of the first `res.partner.bank`;
- `account.move` of type out_invoice / out_refund, posted or cancelled: name -> invoice_id, the
  commercial partner -> customer_id (its id) and customer_name, invoice_date, invoice_date_due,
  currency, amount_total (a refund as a credit note: stored negative), amount_total -
  amount_residual -> amount_paid, payment_state -> status (state cancel -> `cancelled`, which
  the warehouse keeps: an invoice is never deleted), payment_reference -> reference when it is a
  structured reference (RF or Belgian OGM; Odoo's default, the invoice number, is not one).

Incremental by (write_date, id). Odoo answers write_date to the second while it stores it to the
microsecond and orders by the stored value, so within one second the order is not the id's: a
cursor "(second, last id)" taken in the middle of a second could skip a row. So a page that is
full ends its cursor at the start of its last second, `(S, 0)`, and that second is then drained
on its own, ordered by id alone (`S <= write_date < S + 1 s, id > last`), before reading on from
`S + 1 s`; rows read twice are loaded as unchanged. This also covers a second holding more rows
than a page.

Whether Odoo bumps an invoice's write_date when a payment is reconciled with it is unverified
(CONTRACTS.md section 7). `resync` re-reads invoices the warehouse holds as not settled, by name,
whatever their write_date, so a payment recorded in Odoo by someone else reaches us at the next
resync even if the cursor never sees it (`o2c ingest erp odoo --resync`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from o2c.models.erp import CUSTOMER_COLUMNS, INVOICE_COLUMNS
from o2c.models.erp_source import Cursor, ErpAllocation, Page, PageKind, PushSummary
from o2c.tasks.connectors.http import ConnectorError
from o2c.tasks.connectors.odoo import Domain, OdooClient
from o2c.tasks.erp.tabular_files import LINE

NAME = "odoo"
MOVES = "account.move"
PARTNERS = "res.partner"
BANKS = "res.partner.bank"
PAYMENTS = "account.payment"
REGISTER = "account.payment.register"
_SECOND = "%Y-%m-%d %H:%M:%S"
INVOICE_DOMAIN: Domain = [
    ("move_type", "in", ["out_invoice", "out_refund"]),
    ("state", "in", ["posted", "cancel"]),
    ("name", "!=", "/"),  # a draft cancelled before it was ever numbered
]
PARTNER_DOMAIN: Domain = [("customer_rank", ">", 0), ("parent_id", "=", False)]
INVOICE_FIELDS = (
    "name",
    "move_type",
    "state",
    "commercial_partner_id",
    "invoice_date",
    "invoice_date_due",
    "amount_total",
    "amount_residual",
    "currency_id",
    "payment_state",
    "payment_reference",
    "write_date",
)
PARTNER_FIELDS = (
    "name",
    "vat",
    "company_registry",
    "email",
    "lang",
    "street",
    "street2",
    "zip",
    "city",
    "country_code",
    "write_date",
)
MANY2ONE = ("commercial_partner_id", "currency_id", "partner_id")
_STRUCTURED_REFERENCE = r"^(?:RF[0-9]{2}|\+\+\+|\*\*\*)"
RESYNC_CHUNK = 200  # names per search_read of a resync


def payment_memo(allocation_id: str) -> str:
    """What the payment's memo says: ours, and enough for an accountant reading it in Odoo."""
    return f"o2c allocation {allocation_id}"


def second_after(write_date: str) -> str:
    return (datetime.strptime(write_date[:19], _SECOND) + timedelta(seconds=1)).strftime(_SECOND)


def _plain(value: Any) -> Any:
    return None if value is False else value


def records_frame(records: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> pl.DataFrame:
    """Odoo records as a text frame: `_line` is the id, a many2one `f` gives `f` (its id) and
    `f_name`, `false` is null, numbers keep their exact text (Decimal from the client)."""
    columns: dict[str, list[Any]] = {LINE: [int(r["id"]) for r in records]}
    for name in fields:
        values = [_plain(r.get(name)) for r in records]
        if name in MANY2ONE:
            columns[name] = [str(v[0]) if v else None for v in values]
            columns[f"{name}_name"] = [str(v[1]) if v else None for v in values]
        else:
            columns[name] = [None if v is None else str(v) for v in values]
    schema = {c: pl.Int64 if c == LINE else pl.String for c in columns}
    return pl.DataFrame(columns, schema=schema)


def invoice_rows(moves: pl.DataFrame) -> pl.DataFrame:
    """account.move rows in the invoice export contract (models/erp.py)."""
    refund = pl.col("move_type") == "out_refund"  # Odoo's amounts are positive on a refund
    sign = pl.when(refund).then(pl.lit("-")).otherwise(pl.lit(""))
    total = pl.col("amount_total").cast(pl.Decimal(20, 2), strict=False)
    residual = pl.col("amount_residual").cast(pl.Decimal(20, 2), strict=False)
    paid = (total - residual).cast(pl.String)
    reference = pl.col("payment_reference").str.strip_chars()
    frame = moves.select(
        LINE,
        pl.col("name").alias("invoice_id"),
        pl.col("commercial_partner_id").alias("customer_id"),
        pl.col("commercial_partner_id_name").alias("customer_name"),
        pl.col("invoice_date").alias("issue_date"),
        pl.coalesce("invoice_date_due", "invoice_date").alias("due_date"),
        pl.col("currency_id_name").alias("currency"),
        # the text as Odoo sent it, so an amount that is no amount reaches quarantine as such
        pl.concat_str(sign, pl.col("amount_total")).alias("amount_total"),
        pl.when(refund)
        .then(pl.lit("credit_note"))
        .otherwise(pl.lit("invoice"))
        .alias("document_type"),
        pl.when(refund & (total != residual))
        .then(pl.concat_str(pl.lit("-"), paid))
        .otherwise(paid)
        .alias("amount_paid"),
        pl.when(pl.col("state") == "cancel")
        .then(pl.lit("cancelled"))
        .otherwise(pl.col("payment_state"))
        .alias("status"),
        pl.when(reference.str.to_uppercase().str.contains(_STRUCTURED_REFERENCE))
        .then(reference)
        .alias("reference"),
    )
    missing = [c for c in INVOICE_COLUMNS if c not in frame.columns]
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing).select(
        LINE, *INVOICE_COLUMNS
    )


def customer_rows(partners: pl.DataFrame, banks: pl.DataFrame) -> pl.DataFrame:
    """res.partner rows (with their first bank account) in the customer export contract."""
    first_iban = (
        banks.sort(LINE)
        .group_by("partner_id", maintain_order=True)
        .agg(pl.col("acc_number").first().alias("iban"))
        .rename({"partner_id": "customer_id"})
    )
    registry = pl.col("company_registry").str.replace_all(r"[\s.-]", "")
    lang = pl.col("lang").str.slice(0, 2).str.to_lowercase()
    frame = partners.select(
        LINE,
        pl.col(LINE).cast(pl.String).alias("customer_id"),
        "name",
        "email",
        pl.when(registry.str.contains(r"^[0-9]{14}$"))
        .then(registry.str.slice(0, 9))
        .otherwise(registry)
        .alias("siren"),
        pl.col("vat").alias("vat_number"),
        pl.when(lang.is_in(["fr", "en"])).then(lang).alias("language"),
        pl.col("street").alias("address_line1"),
        pl.col("street2").alias("address_line2"),
        pl.col("zip").alias("postal_code"),
        "city",
        pl.col("country_code").alias("country"),
    ).join(first_iban, on="customer_id", how="left")
    missing = [c for c in CUSTOMER_COLUMNS if c not in frame.columns]
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing).select(
        LINE, *CUSTOMER_COLUMNS
    )


class OdooSource:
    """`pull(since)`: customers, then invoices, changed after their cursors, page by page."""

    name = NAME

    def __init__(self, client: OdooClient, *, page_size: int | None = None) -> None:
        self.client = client
        self.page_size = page_size or client.settings.page_size

    def pull(self, since: Mapping[str, Cursor]) -> Iterator[Page]:
        for model, kind, domain, fields in (
            (PARTNERS, "customers", PARTNER_DOMAIN, PARTNER_FIELDS),
            (MOVES, "invoices", INVOICE_DOMAIN, INVOICE_FIELDS),
        ):
            cursor = since.get(model, Cursor.start())
            for records, after in self._changed(model, domain, fields, cursor):
                yield self._page(model, kind, records, after)

    def resync(self, invoice_ids: Sequence[str]) -> Iterator[Page]:
        """The given invoices read again by name, whatever their write_date (no cursor moves)."""
        for start in range(0, len(invoice_ids), RESYNC_CHUNK):
            names = list(invoice_ids[start : start + RESYNC_CHUNK])
            domain = [*INVOICE_DOMAIN, ("name", "in", names)]
            records = self.client.search_read(MOVES, domain, INVOICE_FIELDS, order="id asc")
            if records:
                yield self._page(MOVES, "invoices", records, None, resync=True)

    def push(self, allocations: Sequence[ErpAllocation]) -> PushSummary:
        """Each allocation registered as a payment on its invoice, once.

        Through the `account.payment.register` wizard (created with the invoice as
        active_ids in its context, then `action_create_payments`, which posts the payment and
        reconciles it with the invoice), our allocation id in the payment's memo. Before
        registering, and again when the posting call failed without telling whether it took
        effect, the memo is looked for: a retry, a second run or a lost answer never post twice.
        """
        done = PushSummary()
        for allocation in allocations:
            memo = payment_memo(allocation.allocation_id)
            try:
                if self._payment_with(memo):
                    done.already.append(allocation.allocation_id)
                    continue
                problem = self._register(allocation, memo)
            except ConnectorError as exc:
                problem = str(exc)
                if exc.retryable:
                    done.retryable.add(allocation.allocation_id)
            if problem:
                done.failed[allocation.allocation_id] = problem
            else:
                done.pushed.append(allocation.allocation_id)
        return done

    def _payment_with(self, memo: str) -> bool:
        field = self.client.settings.payment_memo_field
        found = self.client.search_read(PAYMENTS, [(field, "=", memo)], ("id",), limit=1)
        return bool(found)

    def _register(self, allocation: ErpAllocation, memo: str) -> str | None:
        """Register one payment; None when done, else why not."""
        domain = [*INVOICE_DOMAIN, ("name", "=", allocation.invoice_id), ("state", "=", "posted")]
        moves = self.client.search_read(MOVES, domain, ("currency_id", "amount_residual"))
        if not moves:
            return f"{allocation.invoice_id}: no posted invoice of that name in Odoo"
        move = moves[0]
        currency = move["currency_id"][1] if move.get("currency_id") else None
        if currency != allocation.currency:
            ours = allocation.currency
            return f"{allocation.invoice_id}: in {currency} in Odoo, the allocation in {ours}"
        context = {"active_model": MOVES, "active_ids": [int(move["id"])]}
        values: dict[str, Any] = {
            "amount": allocation.amount,
            "payment_date": allocation.pay_date.isoformat(),
            "communication": memo,
        }
        if self.client.settings.payment_journal_id:
            values["journal_id"] = self.client.settings.payment_journal_id
        wizard = self.client.create(REGISTER, values, context=context)
        try:
            self.client.act(REGISTER, "action_create_payments", [wizard], context=context)
        except ConnectorError:
            if self._payment_with(memo):  # the answer was lost, the payment is there
                return None
            raise
        return None

    # -- reading -------------------------------------------------------------------------------

    def _changed(
        self, model: str, base: Domain, fields: Sequence[str], cursor: Cursor
    ) -> Iterator[tuple[list[dict[str, Any]], Cursor]]:
        """(records, cursor once they are loaded), in write_date order; see the module doc."""
        size = self.page_size
        seen: set[int] = set()  # ids of the cursor's second given already by the last page
        while True:
            # Drain the cursor's second by id: rows of it not loaded yet.
            second, last_id = cursor.write_date, cursor.record_id
            while True:
                domain = [
                    *base,
                    ("write_date", ">=", second),
                    ("write_date", "<", second_after(second)),
                    ("id", ">", last_id),
                ]
                records = self.client.search_read(model, domain, fields, order="id asc", limit=size)
                if records:
                    last_id = int(records[-1]["id"])
                    cursor = Cursor(second, last_id)
                    # rows the last page gave already are not loaded again, but the cursor
                    # moves past them all the same (a page of no rows carries it)
                    yield [r for r in records if int(r["id"]) not in seen], cursor
                if len(records) < size:
                    break
            # Then what comes after that second.
            domain = [*base, ("write_date", ">=", second_after(second))]
            records = self.client.search_read(
                model, domain, fields, order="write_date asc, id asc", limit=size
            )
            if not records:
                return
            last_second = str(records[-1]["write_date"])[:19]
            if len(records) < size:
                ids = [int(r["id"]) for r in records if str(r["write_date"])[:19] == last_second]
                yield records, Cursor(last_second, max(ids))
                return
            cursor = Cursor(last_second, 0)  # that second is drained by id next
            seen = {int(r["id"]) for r in records if str(r["write_date"])[:19] == last_second}
            yield records, cursor

    def _page(
        self,
        model: str,
        kind: PageKind,
        records: list[dict[str, Any]],
        cursor: Cursor | None,
        *,
        resync: bool = False,
    ) -> Page:
        if not records:
            columns = CUSTOMER_COLUMNS if kind == "customers" else INVOICE_COLUMNS
            empty = pl.DataFrame(schema={LINE: pl.Int64} | dict.fromkeys(columns, pl.String))
            return Page(NAME, model, kind, empty, cursor, f"{NAME}:{model} cursor", "")
        if kind == "customers":
            ids = [int(r["id"]) for r in records]
            banks = self.client.search_read(
                BANKS, [("partner_id", "in", ids)], ("partner_id", "acc_number"), order="id asc"
            )
            rows = customer_rows(
                records_frame(records, PARTNER_FIELDS),
                records_frame(banks, ("partner_id", "acc_number")),
            )
        else:
            rows = invoice_rows(records_frame(records, INVOICE_FIELDS))
        fetched = datetime.now(UTC).isoformat()
        digest = hashlib.sha256(
            json.dumps([model, fetched, records], default=str).encode()
        ).hexdigest()
        first, last = records[0], records[-1]
        what = "resync" if resync else f"{first['write_date']} #{first['id']}..#{last['id']}"
        return Page(NAME, model, kind, rows, cursor, f"{NAME}:{model} {what}", digest)
