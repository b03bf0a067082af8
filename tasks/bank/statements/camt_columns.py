"""The columnar reader of camt files as banks send them: entries cut out of the text and read all
at once by Polars, with no Python object per entry.

It takes plain UTF-8 files whose camt namespace is the default one (`camt.plain_namespace`);
`parse_file` sends big and small files alike, so the tests hold it to the element reader's output
on every sample. Safety and exactness come from these rules:

- libxml2 checks the whole file for well-formedness in a thread meanwhile (it releases the GIL),
  and nothing is returned before it has said yes: a truncated or malformed file gets its error.
- An entry's own fields are read by one anchored pattern in schema order; detail fields by their
  tags. An entry of another shape goes to the element reader of camt.py: a batch (several
  `TxDtls`), a character reference, an attribute other than `Ccy`, an amount, date or code that
  is not plain, several creditor references, referred documents (`RfrdDocInf`/`RfrdDocAmt`).
- Comments, CDATA, processing instructions or prefixed tags anywhere send the whole file to the
  element reader.

Money becomes integer cents from the digits (never through a float).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
from lxml import etree

from o2c.models.bank import Statement, lines_table
from o2c.models.schemas import REMITTANCE_DOCUMENTS, STATEMENT_LINE
from o2c.tasks.bank.statements.camt import (
    MESSAGES,
    CamtResult,
    account_currency,
    check_well_formed,
    parse_camt,
    read_entry,
    read_header,
    reject_dtd,
)
from o2c.tasks.bank.statements.errors import StatementError

_CHUNK = 1 << 27
# Markup that hides or changes text (comments, CDATA, processing instructions): met anywhere past
# the root tag, the whole file goes to the element reader. So do tags with a namespace prefix.
_MARKUP = ("<!", "<?")
_ROOT_PREFIX = re.compile(rb"xmlns:([A-Za-z_][\w.-]*)=")


class _ElementReaderNeeded(Exception):
    """The file holds something only the element reader reads right."""


def parse_camt_columns(path: Path, head: bytes, ns: str) -> CamtResult:
    """Same statements, lines and notes as `camt.parse_camt`, with the lines as a table."""
    reject_dtd(head, path)
    text_head = head.decode("utf-8", "replace")
    found = [(k, tag) for message, (k, tag) in MESSAGES.items() if f"<{message}>" in text_head]
    if not found:
        raise StatementError(path, "/Document", "not a camt.052/053/054 message")
    kind, stmt_tag = found[0]
    # libxml2 lets go of the GIL: the file is checked while it is read.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="camt-well-formed") as pool:
        check = pool.submit(check_well_formed, path)
        try:
            reader = _Reader(path, ns, kind, stmt_tag)
            for block, starts, end in _chunks(path):
                reader.feed(block, starts, end)
            result = reader.finish()
        except _ElementReaderNeeded:
            check.result()
            return parse_camt(path, head)
        except Exception:
            check.result()  # a malformed file explains any trouble met while reading it
            raise
        check.result()
        return result


_NTRY = re.compile(rb"<Ntry>")


def _chunks(path: Path) -> Iterator[tuple[bytes, list[int], int]]:
    """The file in blocks of about _CHUNK bytes: (block, where each `<Ntry>` starts, where the
    block's last entry ends). A block ends where its last entry ends; the next one starts
    there."""
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            starts = [m.start() for m in _NTRY.finditer(block)]
            end = len(block)
            if len(block) == _CHUNK:
                if len(starts) < 2:
                    raise _ElementReaderNeeded  # an entry or a header bigger than a block
                end = starts.pop()
                fh.seek(end - len(block), 1)  # that entry comes again with the next block
            yield block, starts, end


def _pieces(block: bytes, starts: list[int], end: int) -> pl.Series:
    """Each entry's text, from its `<Ntry>` to the next one, without copying the block."""
    offsets = array("q", [*starts, end])
    binary = pa.Array.from_buffers(
        pa.large_binary(), len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(block)]
    )
    return pl.Series("body", binary).cast(pl.String)


# A bank transaction code after its `<BkTxCd>`: by domain, family and sub-family, and/or
# proprietary.
_CODE_INSIDE = (
    r"\s*<(?:Domn>\s*<Cd>(?P<d>[^<]*)</Cd>\s*<Fmly>\s*<Cd>(?P<f>[^<]*)</Cd>\s*"
    r"<SubFmlyCd>(?P<s>[^<]*)</SubFmlyCd>\s*</Fmly>\s*</Domn>\s*<)?"
    r"(?:Prtry>\s*<Cd>(?P<p>[^<]*)</Cd>)?"
)
_CODE = "<BkTxCd>" + _CODE_INSIDE
# The head of a plain entry, in schema order, written so that the next byte always decides the
# branch (a one-pass regex, which Polars' regex engine reads fast). Any other head: element reader.
_HEAD = (
    r"^<Ntry>\s*<(?:NtryRef>(?P<ref>[^<]*)</NtryRef>\s*<)?"
    r'Amt Ccy="(?P<ccy>[A-Z]{3})">\s*(?P<units>[0-9]{1,15})(?:\.(?P<dec>[0-9]{1,2}))?\s*</Amt>\s*'
    r"<CdtDbtInd>(?P<ind>CRDT|DBIT)</CdtDbtInd>\s*"
    r"<(?:RvslInd>(?P<rvsl>[a-z0-9]*)</RvslInd>\s*<)?"
    r"(?:Sts>\s*(?:<Cd>(?P<sts>[A-Z]{4})</Cd>|(?P<sts2>[A-Z]{4}))\s*</Sts>\s*<)?"
    r"BookgDt>\s*<Dt(?:Tm)?>(?P<book>[0-9T:.+Z-]*)</Dt(?:Tm)?>\s*</BookgDt>\s*"
    r"<(?:ValDt>\s*<Dt(?:Tm)?>(?P<val>[0-9T:.+Z-]*)</Dt(?:Tm)?>\s*</ValDt>\s*<)?"
    r"(?:AcctSvcrRef>(?P<svcr>[^<]*)</AcctSvcrRef>\s*<)?"
    rf"(?:BkTxCd>{_CODE_INSIDE})?"
)
_CDTR_REF = r"<CdtrRefInf>\s*<(?:Tp>(?s:.)*?</Tp>\s*<)?Ref>([^<]*)</Ref>"
_NAME = r"<{}>\s*<(?:Pty>\s*<)?Nm>([^<]*)</Nm>"
_ACCOUNT = r"<{}Acct>\s*<Id>\s*<(?:IBAN>(?P<iban>[^<]*)</IBAN>|Othr>\s*<Id>(?P<othr>[^<]*)</Id>)"
_ROLES = ("Dbtr", "Cdtr", "UltmtDbtr", "UltmtCdtr")
_TEXT_COLUMNS = [
    "counterparty_name", "counterparty_iban", "remittance_unstructured", "remittance_structured",
    "end_to_end_id", "bank_reference", "bank_tx_code", "entry_ref",
]  # fmt: skip


def _account(role: str) -> pl.Expr:
    groups = pl.col(f"{role}_acct")
    return pl.coalesce(groups.struct.field("iban"), groups.struct.field("othr"))


def _code(groups: pl.Expr) -> pl.Expr:
    """`Domn/Fmly/SubFmly` codes joined with '/', else the proprietary code."""
    domain = pl.concat_str(
        [groups.struct.field(x).str.strip_chars() for x in ("d", "f", "s")], separator="/"
    )
    return pl.coalesce(domain, groups.struct.field("p").str.strip_chars())


# What a plain entry holds at most once (more takes a slower path), and what only the element
# reader reads (character references).
# Documents named in a structured remittance (`RfrdDocInf`, `RfrdDocAmt`) are read by the element
# reader only: few transfers carry them.
_ONCE = ("<TxDtls>", "<BkTxCd>", "<Ustrd>", "<CdtrRefInf>", "<AddtlRmtInf>", "&#", "<RfrdDoc")


def _entry_lines(entries: pl.DataFrame, unusual: list[str]) -> pl.DataFrame:
    """STATEMENT_LINE columns of a batch of entries (column `body`), with two flags:
    `route` (the element reader must read it) and `pending` (not booked).

    Each field is one regex pass; what needs more (counting tags, joining lists, codes on the
    detail) is done on the rows that need it only."""
    body = pl.col("body")
    frame = entries.with_columns(
        head=body.str.extract_groups(_HEAD),
        e2e=body.str.extract(r"<EndToEndId>([^<]*)</EndToEndId>", 1),
        ustrd=body.str.extract(r"<Ustrd>([^<]*)</Ustrd>", 1),
        cdtr_ref=body.str.extract(_CDTR_REF, 1),
        addtl_tx=body.str.extract(r"<AddtlTxInf>([^<]*)</AddtlTxInf>", 1),
        info=body.str.extract(r"<AddtlNtryInf>([^<]*)</AddtlNtryInf>", 1),
        **{f"{role}_name": body.str.extract(_NAME.format(role), 1) for role in _ROLES},
        **{f"{role}_acct": body.str.extract_groups(_ACCOUNT.format(role)) for role in _ROLES[:2]},
        marks=body.str.count_matches("|".join(re.escape(m) for m in (*_ONCE, *unusual))),
        # Any attribute but a plain Ccy (an '=' in text counts too: that entry only goes the
        # slow way).
        attributes=body.str.count_matches("=", literal=True)
        != body.str.count_matches(' Ccy="', literal=True),
    ).unnest("head")
    frame = frame.with_columns(
        batch=False,
        codes=pl.any_horizontal(pl.col("d", "p").is_not_null()).cast(pl.Int64),  # the entry's
        lists=False,
        detail_code=pl.lit(None, pl.String),
    )
    plain_marks = (
        1  # one TxDtls
        + pl.col("codes")
        + pl.col("ustrd").is_not_null().cast(pl.Int64)
        + pl.col("cdtr_ref").is_not_null().cast(pl.Int64)
    )
    odd = (frame["marks"] != frame.select(plain_marks).to_series()).arg_true()
    if odd.len():
        frame = _count_marks(frame, odd, unusual)
    day = "%Y-%m-%d"
    frame = frame.with_columns(
        cents=pl.col("units").cast(pl.Int64) * 100
        + pl.col("dec").fill_null("").str.pad_end(2, "0").cast(pl.Int64),
        credit=pl.col("ind") == "CRDT",
        status=pl.coalesce("sts", "sts2"),
        booking_date=pl.col("book").str.slice(0, 10).str.to_date(day, strict=False),
        value_date=pl.col("val").str.slice(0, 10).str.to_date(day, strict=False),
        entry_code=_code(pl.struct("d", "f", "s", "p")),
        svcr=pl.col("svcr").str.strip_chars(),
        e2e=pl.col("e2e").str.strip_chars(),
    )
    route = (
        pl.col("units").is_null()
        | pl.col("batch")
        | pl.col("attributes")
        | pl.col("booking_date").is_null()
        | (pl.col("val").is_not_null() & pl.col("value_date").is_null())
        | (pl.col("entry_code").is_null() & (pl.col("codes") > 0))
    )
    credit = pl.col("credit")
    e2e = pl.col("e2e")
    return frame.select(
        "seq",
        route.fill_null(True).alias("route"),
        (pl.col("status").is_not_null() & (pl.col("status") != "BOOK")).alias("pending"),
        "booking_date",
        "value_date",
        pl.when(credit).then("cents").otherwise(-pl.col("cents")).alias("amount_cents"),
        pl.col("ccy").alias("currency"),
        # the other party: the debtor of a credit, the creditor of a debit
        pl.when(credit).then("Dbtr_name").otherwise("Cdtr_name").alias("counterparty_name"),
        pl.when(credit)
        .then(_account("Dbtr"))
        .otherwise(_account("Cdtr"))
        .alias("counterparty_iban"),
        pl.concat_str(
            pl.coalesce(
                *(_nonempty(pl.col(c).str.strip_chars()) for c in ("ustrd", "addtl_tx")),
                # the entry's text only when the transaction has no remittance of its own
                pl.when(_nonempty(pl.col("cdtr_ref").str.strip_chars()).is_null()).then(
                    _nonempty(pl.col("info").str.strip_chars())
                ),
            ),
            # the party on whose behalf a third party pays (the ultimate debtor of a credit)
            _nonempty(
                pl.when(credit).then("UltmtDbtr_name").otherwise("UltmtCdtr_name").str.strip_chars()
            ),
            separator=" ",
            ignore_nulls=True,
        ).alias("remittance_unstructured"),
        pl.col("cdtr_ref").alias("remittance_structured"),
        pl.when(e2e.str.to_uppercase() != "NOTPROVIDED").then(e2e).alias("end_to_end_id"),
        pl.col("svcr").alias("bank_reference"),
        pl.coalesce("detail_code", "entry_code").alias("bank_tx_code"),
        pl.col("rvsl").is_in(["true", "1"]).fill_null(False).alias("is_reversal"),
        pl.coalesce(_nonempty(pl.col("ref").str.strip_chars()), _nonempty(pl.col("svcr"))).alias(
            "entry_ref"
        ),
        pl.lit(0, pl.Int32).alias("detail_index"),
        pl.lit(None, pl.String).alias("external_id"),
        pl.lit(None, REMITTANCE_DOCUMENTS).alias("remittance_documents"),
    ).with_columns(_nonempty(pl.col(c).str.strip_chars()) for c in _TEXT_COLUMNS)


def _nonempty(col: pl.Expr) -> pl.Expr:
    return pl.when(col.str.len_bytes() > 0).then(col)


def _count_marks(frame: pl.DataFrame, rows: pl.Series, unusual: list[str]) -> pl.DataFrame:
    """The rows whose tags are not those of a plain entry: batches (several `TxDtls`), a code on
    the detail too (the detail's wins), lists of `Ustrd` or an `AddtlRmtInf` (joined as the
    element reader does). Character references, several `CdtrRefInf` (the element reader puts
    the RF ones first) and referred documents go to the element reader (flag `batch`)."""
    body = pl.col("body")
    some = frame[rows].select(
        body.str.contains_any(unusual).alias("unusual"),
        (
            (body.str.count_matches("<TxDtls>", literal=True) > 1)
            | (body.str.count_matches("<CdtrRefInf>", literal=True) > 1)
            | body.str.contains("&#", literal=True)
            | body.str.contains("<RfrdDoc", literal=True)
        ).alias("batch"),
        body.str.count_matches("<BkTxCd>", literal=True).alias("codes"),
        (
            (body.str.count_matches("<Ustrd>", literal=True) > 1)
            | (body.str.count_matches("<CdtrRefInf>", literal=True) > 1)
            | body.str.contains("<AddtlRmtInf>", literal=True)
        ).alias("lists"),
        body.str.extract_all(r"<(?:Ustrd|AddtlRmtInf)>[^<]*")
        .list.eval(pl.element().str.replace(r"^<[^>]*>", "").str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.join(" ")
        .alias("texts"),
        body.str.extract_all(_CDTR_REF)
        .list.eval(pl.element().str.extract(_CDTR_REF, 1).str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.join(" ")
        .alias("refs"),
        _code(
            body.str.splitn("<TxDtls>", 2).struct.field("field_1").str.extract_groups(_CODE)
        ).alias("detail_code"),
        frame["ustrd"][rows].alias("ustrd"),
        frame["cdtr_ref"][rows].alias("cdtr_ref"),
    )
    if some["unusual"].any():
        raise _ElementReaderNeeded
    lists = some["lists"]
    return frame.with_columns(
        frame["batch"].scatter(rows, some["batch"]),
        frame["codes"].scatter(rows, some["codes"]),
        frame["detail_code"].scatter(
            rows, some.select(pl.when(pl.col("codes") > 1).then("detail_code")).to_series()
        ),
        frame["ustrd"].scatter(
            rows, some.select(pl.when(lists).then("texts").otherwise("ustrd")).to_series()
        ),
        frame["cdtr_ref"].scatter(
            rows, some.select(pl.when(lists).then("refs").otherwise("cdtr_ref")).to_series()
        ),
    )


def _clean_text(frame: pl.DataFrame, crlf: bool) -> pl.DataFrame:
    """XML's own escapes and line ends, on the rows that have them."""
    columns = {}
    for name in _TEXT_COLUMNS:
        series = frame[name]
        if crlf:  # XML reads \r\n and a lone \r as \n
            series = series.str.replace_all("\r\n", "\n", literal=True).str.replace_all(
                "\r", "\n", literal=True
            )
        rows = series.str.contains("&", literal=True).fill_null(False).arg_true()
        if rows.len():
            fixed = series[rows]
            for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'")):
                fixed = fixed.str.replace_all(entity, char, literal=True)
            series = series.scatter(rows, fixed.str.replace_all("&amp;", "&", literal=True))
        columns[name] = series
    return frame.with_columns(**columns)


class _Reader:
    """Statements from consecutive chunks: headers by lxml (a few), entries by Polars (many)."""

    def __init__(self, path: Path, ns: str, kind: str, stmt_tag: str) -> None:
        self.path, self.ns, self.kind, self.stmt_tag = path, ns, kind, stmt_tag
        self.headers: list[etree._Element] = []  # one per statement, in file order
        self.open = False
        self.seq = 0
        self.frames: list[pl.DataFrame] = []
        self.routed: list[tuple[int, int, str]] = []  # seq, statement, text
        self.parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        self.fed = False
        self.unusual: list[str] = []

    def _read_lead(self, lead: str) -> None:
        """Statements closing and opening between two entries (or before the first one)."""
        if any(m in lead for m in self.unusual) or re.search(rf"</?{self.stmt_tag}\s", lead):
            raise _ElementReaderNeeded
        opening, closing = f"<{self.stmt_tag}>", f"</{self.stmt_tag}>"
        pos = 0
        while True:
            o, c = lead.find(opening, pos), lead.find(closing, pos)
            if c >= 0 and (o < 0 or c < o):
                self.open = False
                pos = c + len(closing)
                continue
            if o < 0:
                return
            end = lead.find(closing, o)
            header = lead[o + len(opening) : end if end >= 0 else len(lead)]
            self.headers.append(
                etree.fromstring(
                    f'<{self.stmt_tag} xmlns="{self.ns}">{header}</{self.stmt_tag}>'.encode(),
                    self.parser,
                )
            )
            self.open = True
            pos = o + len(opening)

    def _statement(self) -> int:
        return len(self.headers) - 1 if self.open else -1

    def feed(self, block: bytes, starts: list[int], end: int) -> None:
        lead_from = 0
        if not self.fed:
            root = block.find(b"<Document")
            lead_from = block.find(b">", root) + 1
            prefixes = _ROOT_PREFIX.findall(block, root, lead_from)
            self.unusual = [*_MARKUP, *(f"<{p.decode()}:" for p in prefixes)]
            self.fed = True
        self._read_lead(block[lead_from : starts[0] if starts else end].decode())
        if not starts:
            return
        # A piece runs from its entry to the next one: read what lies between them in the few
        # pieces that have more than blanks there (statement ends and starts), and give each
        # entry the statement opened last before it.
        bodies = _pieces(block, starts, end)
        marks = (~bodies.str.contains(r"</Ntry>[ \t\r\n]*$")).arg_true()
        first_rows, numbers = [0], [self._statement()]
        cut = []
        for i in marks.to_list():
            piece = bodies[i]
            close = piece.find("</Ntry>") + len("</Ntry>")
            if close < len("</Ntry>"):
                raise _ElementReaderNeeded  # an end tag written `</Ntry >`
            cut.append(piece[:close])
            self._read_lead(piece[close:])
            first_rows.append(i + 1)
            numbers.append(self._statement())
        if cut:
            bodies = bodies.scatter(marks, pl.Series(cut, dtype=pl.String))
        row = pl.int_range(0, bodies.len(), dtype=pl.UInt32, eager=True)
        at = pl.Series(first_rows, dtype=pl.UInt32).search_sorted(row, side="right") - 1
        entries = pl.DataFrame(
            {"body": bodies, "stmt_no": pl.Series(numbers, dtype=pl.Int32).gather(at)}
        ).with_row_index("seq", offset=self.seq)
        outside = entries.filter(pl.col("stmt_no") < 0)
        if outside.height:
            where = f"entry {outside['seq'][0] + 1}"
            raise StatementError(self.path, where, "entry outside a statement")
        self.seq += entries.height
        lines = _clean_text(
            _entry_lines(entries, self.unusual), crlf=block.find(b"\r", 0, end) >= 0
        )
        lines = lines.with_columns(stmt_no=entries["stmt_no"])
        routed = entries.filter(lines["route"])
        self.routed.extend(
            zip(*(routed[c].to_list() for c in ("seq", "stmt_no", "body")), strict=True)
        )
        self.frames.append(lines)

    def finish(self) -> CamtResult:
        if self.open:
            raise StatementError(
                self.path, "end of file", f"truncated XML: <{self.stmt_tag}> not closed"
            )
        if not self.frames:  # no entry at all: the statements still count
            nothing = pl.DataFrame(schema={"seq": pl.UInt32, "body": pl.String})
            self.frames.append(
                _entry_lines(nothing, list(_MARKUP)).with_columns(stmt_no=pl.lit(0, pl.Int32))
            )
        read = [read_header(header, self.kind, self.path) for header in self.headers]
        labels = [st.statement_ref or str(number + 1) for number, (st, _) in enumerate(read)]
        every = pl.concat(self.frames).with_columns(
            ordinal=pl.col("seq") - pl.col("seq").min().over("stmt_no") + 1
        )
        if every["entry_ref"].null_count():
            label = pl.col("stmt_no").replace_strict(
                list(range(len(labels))), labels, return_dtype=pl.String
            )
            every = every.with_columns(
                entry_ref=pl.coalesce("entry_ref", pl.format("{}/{}", label, "ordinal"))
            )
        plain = every.filter(~pl.col("route"))
        booked = plain.filter(~pl.col("pending"))
        pending = plain.height - booked.height
        figures = {
            number: (cents, count, currencies)
            for number, cents, count, currencies in booked.group_by("stmt_no")
            .agg(pl.col("amount_cents").sum(), pl.len(), pl.col("currency").unique())
            .iter_rows()
        }
        by_stmt = booked.select("stmt_no", "seq", *STATEMENT_LINE).partition_by(
            "stmt_no", as_dict=True, include_key=False
        )
        routed_by: dict[int, list[tuple[int, str]]] = {}
        for seq, number, body in self.routed:
            routed_by.setdefault(number, []).append((seq, body))
        ordinals = dict(every.filter(pl.col("route")).select("seq", "ordinal").iter_rows())
        notes = [note for _, note in read if note]
        statements: list[Statement] = []
        opening = f'<Ntry xmlns="{self.ns}">'
        for number, (st, _) in enumerate(read):
            cents, count, found = figures.get(number, (0, 0, []))
            total, currencies = Decimal(int(cents)).scaleb(-2), set(found)
            tables = [by_stmt.get((number,), every.clear().select("seq", *STATEMENT_LINE))]
            acct_ccy = account_currency(self.headers[number])
            for seq, body in routed_by.get(number, []):
                elem = etree.fromstring(body.replace("<Ntry>", opening, 1).encode(), self.parser)
                try:
                    signed, ccy, status, new = read_entry(elem, self.path, acct_ccy)
                except StatementError as exc:  # its place is within the entry: say which
                    inside = re.sub(r" \(line \d+\)$", "", exc.place or "")  # of the snippet
                    where = f"statement {labels[number]}, entry {ordinals[seq]}, {inside}"
                    raise StatementError(self.path, where, exc.reason) from exc
                if status != "BOOK":
                    pending += 1
                    continue
                for x in new:
                    x.entry_ref = x.entry_ref or f"{labels[number]}/{ordinals[seq]}"
                total += signed
                count += 1
                currencies.update([ccy] if ccy else [])
                tables.append(lines_table(new).with_columns(seq=pl.lit(seq, pl.UInt32)))
            table = pl.concat([t.select("seq", *STATEMENT_LINE) for t in tables])
            if len(tables) > 1:
                table = table.sort("seq", "detail_index", maintain_order=True)
            st.table = table.drop("seq")
            st.entries_total, st.entry_count = total, count
            if st.currency is None and len(currencies) == 1:
                st.currency = next(iter(currencies))
            statements.append(st)
        if pending:
            notes.append(f"{pending} entries not booked (pending/information) were not loaded")
        return CamtResult(self.kind, statements, notes)
