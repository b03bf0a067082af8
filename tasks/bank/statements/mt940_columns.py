"""MT940 read as columns: the text cut into fields with numpy, the `:61:`/`:86:` pairs read by
Polars expressions, with no Python object per line or per entry (a big file has millions).

`cut_fields` finds the fields the way the row reader of mt940.py always has (a line opening with
`:NN:` or `:NNA:` starts a field, the lines after it continue it, SWIFT block lines `{..` and
`-}` end a message, text after `{4:` counts), from the line starts alone: each field comes out as
one slice of the file's bytes, and only the rare lines holding `{`, `-}` or a non-ASCII tag are
looked at in Python.

`read_entries` gives the columns of the entries. It reproduces the row reader exactly, which the
identity tests check on every sample: Python's whitespace and `\\d` are spelled out for the Rust
regex engine, the Dutch tags are marked by the same leftmost-first scan as `re.split`, offsets
are bytes where they come from `str.find`. A row it cannot read with certainty (a `:61:` of
unusual shape, an impossible date, a German subfield number in non-ASCII digits) is flagged
`rows` and read by the row reader; an amount below the cent or beyond Int64 cents is flagged
`exact`, for a statement kept as Decimal rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa

from o2c.models.schemas import REMITTANCE_DOCUMENTS

# Python's whitespace (str.isspace, and `\s` of `re`), which Rust's `\s` lacks \x1c-\x1f of.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_WS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"

# :86: tags of the Dutch dialect, in the order a regex alternation tries them.
DUTCH_TAGS = (
    "EREF", "REMI", "NAME", "IBAN", "CNTP", "ORDP", "BENM", "ADDR", "ISDT", "PREF", "RTRN", "MARF",
    "CSID", "TRCD", "SUM", "BUSP", "ULTD", "ULTC", "ULTB", "PURP", "BIC", "CDTRREFTP", "CDTRREF",
    "CREF", "CODE", "OCMT", "ID", "ACCT",
)  # fmt: skip
# SEPA keywords inside German remittance subfields (EREF+..., SVWZ+...).
SEPA_KEYS = (
    "EREF", "KREF", "MREF", "CRED", "DEBT", "SVWZ", "ABWA", "ABWE", "IBAN", "BIC", "COAM", "OAMT",
    "PURP",
)  # fmt: skip

FIELD = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
# Marks put around a tag once found: the decoded text never holds them (SOH/ETX are dropped).
_OPEN, _CLOSE = "\x01", "\x03"
_DUTCH_ANY = "/(?:" + "|".join(DUTCH_TAGS) + ")/"
_GERMAN_START = rf"{_WS}*(?:\d{{3}})?{_WS}*[?>]\d{{2}}"
_TRIODOS = rf"^{_WS}*\d{{0,3}}{_WS}*>"
_IBAN = r"^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$"
_IBAN_LIKE = r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$"  # as mt940._IBAN_LIKE


def utf8_text(raw: bytes) -> bytes:
    """The file as UTF-8 bytes, SOH/ETX out: UTF-8 else cp1252 else latin-1 (reads any byte)."""
    if b"\x01" in raw or b"\x03" in raw:
        raw = raw.replace(b"\x01", b"").replace(b"\x03", b"")
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            raw = text.encode("utf-8")
    return raw


def _lines(buf: bytes) -> tuple[bytes, np.ndarray, bool]:
    """(text, positions of its "\n", whether lines end with "\r\n"): CRLF is left in place when
    every CR is followed by LF, else CRLF and lone CR become LF (the row reader's line split)."""
    a = np.frombuffer(buf, np.uint8)
    newlines = np.flatnonzero(a == 10)
    returns = int(np.count_nonzero(a == 13))
    if not returns:
        return buf, newlines, False
    if returns == np.count_nonzero(a[newlines[newlines > 0] - 1] == 13):
        return buf, newlines, True
    buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return buf, np.flatnonzero(np.frombuffer(buf, np.uint8) == 10), False


def _classify(line: str) -> tuple[int, bool, bool, re.Match | None, str]:
    """(inside after it: 1/0/-1 unchanged, skipped, after `{4:`, field match, text) of a line."""
    after4 = "{4:" in line
    if after4:
        line = line.split("{4:", 1)[1]
        if not line.strip():
            return 1, True, True, None, line
    elif line.startswith("{"):
        return 0, True, False, None, line
    # A lone "-" ends a message, but ING also wraps ":86:" text onto a "-" line: keep it as
    # text; the fields that end a message (balances) only read their first line.
    if line.strip().startswith("-}"):
        return 0, True, after4, None, line
    match = FIELD.match(line)
    return (1 if match or after4 else -1), False, after4, match, line


@dataclass
class Fields:
    """The fields of an MT940 text in file order: tag, first line number, and text."""

    buf: bytes
    crlf: bool
    line: np.ndarray  # 1-based number of the field's first line
    code: np.ndarray  # tag as 256 * number + letter (0 for none); -1 for a tag not of that shape
    regular: np.ndarray  # the field is one slice of `buf`, opening with ":TAG:"
    start: np.ndarray  # byte where the field's text starts (after ":TAG:"), for regular fields
    end: np.ndarray  # byte where its slice ends (after its last line's end), for regular fields
    segments: pl.Series  # every slice of the text, a field's from ":TAG:" through its line end
    segment: np.ndarray  # the slice of each field
    tags: dict[int, str] = field(default_factory=dict)  # fields with a tag not of that shape
    values: dict[int, str] = field(default_factory=dict)  # text of the irregular fields

    def __len__(self) -> int:
        return len(self.line)

    def tag(self, i: int) -> str:
        if i in self.tags:
            return self.tags[i]
        code = int(self.code[i])
        return f"{code >> 8:02d}{chr(code & 255) if code & 255 else ''}"

    def value(self, i: int) -> str:
        """The field's text as the row reader reads it: lines joined with '\\n'."""
        if i in self.values:
            return self.values[i]
        end = int(self.end[i])
        text = self.buf[int(self.start[i]) : end].decode("utf-8")
        if self.crlf:
            text = text.replace("\r\n", "\n")
        # The slice ends with its last line's "\n", except at the end of the file.
        return text[:-1] if end < len(self.buf) else text

    def texts(self, indices: np.ndarray) -> pl.Series:
        """The slices of these (regular) fields, ":TAG:" and line ends included."""
        return self.segments.gather(pl.Series(self.segment[indices], dtype=pl.Int64))


def _lines_holding(buf: bytes, byte: bytes, starts: np.ndarray) -> list[int]:
    """Lines where `byte` occurs (memchr: fast when it is rare)."""
    found, at = [], buf.find(byte)
    while at >= 0:
        found.append(at)
        at = buf.find(byte, at + 1)
    return (np.searchsorted(starts, found, side="right") - 1).tolist() if found else []


def cut_fields(raw: bytes) -> Fields:
    """Cut the file into fields (see the module docstring); lines outside any field are dropped."""
    buf, newlines, crlf = _lines(utf8_text(raw))
    size = len(buf)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [size])).astype(np.int64)
    count = len(starts)
    if not size:
        return _no_fields()
    # The first 5 bytes of each line (past its end: the "\n", which matches no tag character;
    # reads past the end of the file are clipped, so Python reads the last line).
    a = np.frombuffer(buf, np.uint8)
    b = [a[np.minimum(starts + k, size - 1)] for k in range(5)]
    digit1 = (b[1] >= 48) & (b[1] <= 57)
    digit2 = (b[2] >= 48) & (b[2] <= 57)
    letter3 = (b[3] >= 65) & (b[3] <= 90)
    is_field = (b[0] == 58) & digit1 & digit2 & ((b[3] == 58) | (letter3 & (b[4] == 58)))
    code = np.where(
        is_field,
        ((b[1].astype(np.int32) - 48) * 10 + (b[2].astype(np.int32) - 48)) * 256
        + np.where(b[3] == 58, 0, b[3]).astype(np.int32),
        -1,
    )
    prefix = np.where(b[3] == 58, 4, 5)
    event = np.where(is_field, 1, -1).astype(np.int8)
    skipped = np.zeros(count, bool)
    after4 = np.zeros(count, bool)

    # Lines only Python reads right: those with SWIFT block marks ("{4:", "{..", "-}"), tags in
    # non-ASCII digits, and the last line.
    special = {count - 1}
    for brace in (b"{", b"}"):
        special.update(_lines_holding(buf, brace, starts))
    if not buf.isascii():
        odd = (b[0] == 58) & ((b[1] >= 128) | (b[2] >= 128) | (b[3] >= 128) | (b[4] >= 128))
        special.update(np.flatnonzero(odd).tolist())
    matches: dict[int, tuple[re.Match, bool]] = {}
    texts: dict[int, str] = {}
    for i in sorted(special):
        end = int(ends[i])
        if crlf and end > starts[i] and buf[end - 1] == 13:
            end -= 1
        event[i], skipped[i], after4[i], match, texts[i] = _classify(
            buf[int(starts[i]) : end].decode("utf-8")
        )
        is_field[i] = match is not None
        if match is not None:
            matches[i] = match

    known = event >= 0
    last = np.maximum.accumulate(np.where(known, np.arange(count), -1))
    inside = np.where(last >= 0, event[np.maximum(last, 0)], 0) == 1
    fid = np.cumsum(is_field)
    kept = ~is_field & ~skipped & inside & (fid > 0)
    plain = kept & ~after4
    first_lines = np.flatnonzero(~plain)
    segment_of_line = np.cumsum(~plain) - 1
    offsets = np.append(starts[first_lines], size).astype(np.int64)
    segments = pl.Series(
        "text",
        pa.LargeStringArray.from_buffers(
            len(first_lines), pa.py_buffer(offsets), pa.py_buffer(buf)
        ),
    )

    field_lines = np.flatnonzero(is_field)
    segment = segment_of_line[field_lines]
    regular = np.ones(len(field_lines), bool)
    tags: dict[int, str] = {}
    for i, match in matches.items():  # field lines read in Python: their text is built there
        number = int(fid[i]) - 1
        regular[number] = False
        tag = match[1]
        if tag.isascii():
            code[i] = int(tag[:2]) * 256 + (ord(tag[2]) if len(tag) > 2 else 0)
        else:
            tags[number] = tag
    # Continuation lines not in their field's slice: after a skipped line, or text after "{4:".
    stray = kept & (after4 | ~is_field[first_lines[segment_of_line]])
    regular[fid[stray] - 1] = False
    values: dict[int, str] = {}
    for number in np.flatnonzero(~regular).tolist():
        i = int(field_lines[number])
        following = i + 1 + np.flatnonzero(kept[i + 1 : _next(field_lines, number, count)])
        pieces = [matches[i][2] if i in matches else _line(buf, starts, ends, i, crlf)[prefix[i] :]]
        pieces += [texts[j] if j in texts else _line(buf, starts, ends, j, crlf) for j in following]
        values[number] = "\n".join(pieces)
    return Fields(
        buf=buf,
        crlf=crlf,
        line=field_lines + 1,
        code=code[field_lines],
        regular=regular,
        start=starts[field_lines] + prefix[field_lines],
        end=offsets[segment + 1],
        segments=segments,
        segment=segment,
        tags=tags,
        values=values,
    )


def _no_fields() -> Fields:
    nothing = np.zeros(0, np.int64)
    return Fields(
        buf=b"",
        crlf=False,
        line=nothing,
        code=nothing,
        regular=nothing.astype(bool),
        start=nothing,
        end=nothing,
        segments=pl.Series("text", [], pl.String),
        segment=nothing,
    )


def _next(field_lines: np.ndarray, number: int, count: int) -> int:
    return int(field_lines[number + 1]) if number + 1 < len(field_lines) else count


def _line(buf: bytes, starts: np.ndarray, ends: np.ndarray, i: int, crlf: bool) -> str:
    end = int(ends[i])
    if crlf and end > starts[i] and buf[end - 1] == 13:
        end -= 1
    return buf[int(starts[i]) : end].decode("utf-8")


def _strip(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars(WHITESPACE)


def _text_or_null(expr: pl.Expr) -> pl.Expr:
    """Python's `value or None` for a string (`expr` evaluated once: no CSE when streaming)."""
    return expr.replace("", None)


def _bytes_from(expr: pl.Expr, offset: pl.Expr, length: pl.Expr | None = None) -> pl.Expr:
    """Slice by byte offsets (those of `str.find`), cut at ASCII bytes so still UTF-8."""
    return expr.cast(pl.Binary).bin.slice(offset, length).cast(pl.String)


def _entry_columns(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The :61: line (column `e`): dates, amount, references, the supplementary details."""
    e = pl.col("e")
    frame = frame.with_columns(
        ok=e.str.contains(r"^:61:[0-9]{6}(?:[0-9]{4})?(?:RC|RD|EC|ED|C|D)[A-Z]?[0-9]+,[0-9]*"),
        has_entry=e.str.contains(r"^:61:[0-9]{10}"),
        newline=e.str.find("\n", literal=True),
        comma=e.str.find(",", literal=True),
        yymmdd=e.str.slice(4, 6).cast(pl.Int32, strict=False),
        mmdd=e.str.slice(10, 4).cast(pl.Int32, strict=False),
    )
    mark_at = pl.when("has_entry").then(14).otherwise(10)
    frame = frame.with_columns(
        mark_at=mark_at,
        mark_len=pl.when(e.str.slice(mark_at, 1).is_in(["R", "E"])).then(2).otherwise(1),
    )
    frame = frame.with_columns(mark=e.str.slice("mark_at", "mark_len"))
    funds = e.str.slice(pl.col("mark_at") + pl.col("mark_len"), 1)
    amount_at = (
        pl.col("mark_at") + pl.col("mark_len") + ((funds >= "A") & (funds <= "Z")).cast(pl.Int64)
    )
    frame = frame.with_columns(
        whole=e.str.slice(amount_at, (pl.col("comma") - amount_at).clip(0)),
        rest=e.str.slice(pl.col("comma") + 1).str.strip_chars_start("0123456789"),
    )
    fraction_len = e.str.len_chars() - pl.col("comma") - 1 - pl.col("rest").str.len_chars()
    frame = frame.with_columns(
        fraction=e.str.slice(pl.col("comma") + 1, fraction_len),
        # the rest of the first line (the supplementary details follow its "\n")
        rest=_bytes_from(
            pl.col("rest"), 0, pl.col("rest").str.find("\n", literal=True)
        ).str.strip_chars_end(WHITESPACE),
        supplementary=_bytes_from(e, pl.col("newline") + 1),
    )
    rest = pl.col("rest")
    cents = pl.col("whole").cast(pl.Int64, strict=False) * 100 + pl.col("fraction").str.pad_end(
        2, "0"
    ).str.slice(0, 2).cast(pl.Int64, strict=False)
    credit = pl.col("mark").is_in(["C", "RD", "EC"])
    supp = _strip(pl.col("supplementary").str.replace_all(rf"{_WS}*\n{_WS}*", " "))
    frame = frame.with_columns(cents=cents)
    frame = frame.with_columns(
        amount_cents=pl.when(credit).then("cents").otherwise(-pl.col("cents")),
        # below the cent, or more than 16 digits of whole units (beyond Int64 cents)
        exact=pl.col("fraction").str.contains("^[0-9]{2}0*[1-9]")
        | pl.col("whole").str.contains("[1-9][0-9]{16}"),
        is_reversal=pl.col("mark").is_in(["RC", "RD"]),
        bank_tx_code=pl.when(
            ~rest.str.starts_with("NONREF") & rest.str.contains("^[NSF][A-Z0-9]{3}")
        ).then(rest.str.slice(0, 4)),
        bank_reference=_text_or_null(
            _strip(_bytes_from(rest, rest.str.find("//", literal=True) + 2))
        ),
        supplementary=_text_or_null(supp),
        **_dates(),
    )
    supp = pl.col("supplementary")
    supp_iban = supp.str.replace_all(" ", "", literal=True)
    is_iban = supp_iban.str.contains(_IBAN)
    booking = pl.when("has_entry").then("entry_date").otherwise("value_date")
    return frame.with_columns(
        iban_61=pl.when(is_iban).then(supp_iban),
        name_61=pl.when(~is_iban & ~supp.str.starts_with("/")).then(supp),
        booking_date=booking,
        # (a fraction running on in non-ASCII digits, which Python's `\d` takes in)
        rows=~pl.col("ok")
        | pl.col("value_date").is_null()
        | booking.is_null()
        | rest.str.contains(r"^\d"),
    )


def _dates() -> dict[str, pl.Expr]:
    """Value date (YYMMDD, 20YY) and entry date (MMDD, in the year around the value date);
    null where there is no such day."""
    ymd, md = pl.col("yymmdd"), pl.col("mmdd")
    year, month = 2000 + ymd // 10000, ymd // 100 % 100
    entry_month = md // 100
    entry_year = (
        year
        + ((month == 12) & (entry_month == 1)).cast(pl.Int32)
        - ((month == 1) & (entry_month == 12)).cast(pl.Int32)
    )
    value = _date(year, month, ymd % 100)
    entry = _date(entry_year, entry_month, md % 100)
    return {"value_date": value, "entry_date": entry}


def _date(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """The date, or null when there is no such day."""
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = (
        pl.when(month == 2)
        .then(28 + leap.cast(pl.Int32))
        .when(month <= 7)
        .then(30 + month % 2)
        .otherwise(31 - month % 2)
    )
    valid = (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
    safe = pl.date(
        year.fill_null(2000),
        pl.when(valid).then(month).otherwise(1),
        pl.when(valid).then(day).otherwise(1),
    )
    return pl.when(valid).then(safe)


def _none(expr: pl.Expr) -> pl.Expr:
    """The row reader's `_none` (strip whitespace, then '/', then whitespace; null when nothing
    is left) in one strip: the same wherever no '/' is followed by whitespace and another '/'
    (`_SLASHES`); texts that have that go to the row reader."""
    return _text_or_null(expr.str.strip_chars(WHITESPACE + "/"))


def _dutch(frame: pl.LazyFrame, flat: pl.Expr) -> pl.LazyFrame:
    """/TAG/value (`flat`: the text without line ends, null for other dialects): the first
    occurrence of each tag, found by the scan `re.split` makes."""
    marked = flat.str.replace_many(
        [f"/{t}/" for t in DUTCH_TAGS], [f"{_OPEN}{t}{_CLOSE}" for t in DUTCH_TAGS], leftmost=True
    )
    frame = frame.with_columns(marked=marked, rows_86=flat.str.contains(_SLASHES))
    # each tag's text: from its mark to the next mark (byte offsets, as `str.find` gives them)
    marked = pl.col("marked")
    frame = frame.with_columns(
        _bytes_from(marked, marked.str.find(m, literal=True) + len(m)).alias(t)
        for t, m in ((t, f"{_OPEN}{t}{_CLOSE}") for t in _DUTCH_READ)
    ).with_columns(
        _bytes_from(pl.col(t), 0, pl.col(t).str.find(_OPEN, literal=True)) for t in _DUTCH_READ
    )
    frame = frame.with_columns(pl.col("REMI").str.strip_chars("/"), EREF=_none(pl.col("EREF")))
    eref = pl.col("EREF")
    cntp = pl.col("CNTP").str.split("/")
    acct = _none(pl.col("ACCT")).str.replace_all(" ", "").str.to_uppercase()
    remi = pl.col("REMI")
    ustd, strd = remi.str.starts_with("USTD//"), remi.str.starts_with("STRD/")
    frame = frame.with_columns(
        end_to_end_id=pl.when(eref.str.to_uppercase() != "NOTPROVIDED").then(eref),
        name_86=pl.coalesce(
            _none(pl.col("NAME")),
            _none(cntp.list.get(2, null_on_oob=True)),
            _none(pl.col("ORDP").str.split("/").list.first()),  # the ordering party
        ),
        iban_86=pl.coalesce(
            _none(pl.col("IBAN")),
            _none(cntp.list.get(0, null_on_oob=True)),
            pl.when(acct.str.contains(_IBAN_LIKE)).then(acct),  # /ORDP//NAME/name/ACCT/iban
        ),
        remittance_unstructured=_none(pl.when(ustd).then(remi.str.slice(6)).when(~strd).then(remi)),
        last=pl.when(~ustd & strd).then(remi).str.split("/").list.last(),
    )
    last = pl.col("last")
    return frame.with_columns(
        remittance_structured=pl.coalesce(_none(last), last, _none(pl.col("CDTRREF")))
    ).drop("marked", *_DUTCH_READ, "last")


_SLASHES = f"/{_WS}+/"
_DUTCH_READ = ("EREF", "CNTP", "NAME", "IBAN", "REMI", "ORDP", "CDTRREF", "ACCT")


def _german(frame: pl.LazyFrame) -> pl.LazyFrame:
    """?20..?63 subfields (or >20.. for Triodos) after a transaction code: see mt940.py."""
    flat = pl.col("flat")
    triodos = pl.col("t").str.contains(_TRIODOS)
    marked = (
        pl.when(triodos)
        .then(flat.str.replace_all(r">(\d{2})", f"{_OPEN}${{1}}"))
        .otherwise(flat.str.replace_all(r"\?(\d{2})", f"{_OPEN}${{1}}"))
    )
    frame = frame.with_columns(parts=marked.str.split(_OPEN))
    gvc = _strip(pl.col("parts").list.first()).str.slice(0, 3)
    frame = frame.with_columns(
        code_86=pl.when(gvc.str.contains("^[0-9]+$")).then(gvc),
        odd_code=gvc.str.contains(r"[^\x00-\x7f]"),
    )
    subfields = (
        frame.select("n", part=pl.col("parts").list.slice(1))
        .explode("part")
        .drop_nulls("part")
        .select(
            "n",
            key=pl.col("part").str.slice(0, 2).cast(pl.Int32, strict=False),
            text=pl.col("part").str.slice(2),
            odd_key=pl.col("part").str.slice(0, 2).cast(pl.Int32, strict=False).is_null(),
        )
        .sort("n", "key", maintain_order=True)
    )
    key, text = pl.col("key"), pl.col("text")
    joined = subfields.group_by("n", maintain_order=True).agg(
        remit=text.filter(key.is_between(20, 29) | key.is_between(60, 63)).str.join(""),
        name=text.filter(key.is_in([32, 33])).str.join(""),
        iban=pl.when((key == 38).any())
        .then(text.filter(key == 38).str.join(""))
        .otherwise(text.filter(key == 31).str.join("")),
        odd_key=pl.col("odd_key").any(),
    )
    frame = frame.join(joined, on="n", how="left", maintain_order="left")
    remit = _strip(pl.col("remit").fill_null(""))
    name = _strip(pl.col("name").fill_null(""))
    iban = _strip(pl.col("iban").fill_null("")).str.replace_all(" ", "", literal=True)
    frame = frame.with_columns(
        remit=remit,
        name_86=_text_or_null(name.str.replace_all(f"{_WS}+", " ")),
        iban_86=_text_or_null(iban),
        sepa=remit.str.replace_many(
            [f"{k}+" for k in SEPA_KEYS], [f"{_OPEN}{k}{_CLOSE}" for k in SEPA_KEYS], leftmost=True
        ),
    )
    # the last EREF+, SVWZ+, ... count (a later key overwrites an earlier one)
    eref, svwz, kref, abwa, sepa_iban = (
        _strip(pl.col("sepa").str.extract(rf"(?s).*\x01{key}\x03([^\x01]*)", 1))
        for key in ("EREF", "SVWZ", "KREF", "ABWA", "IBAN")
    )
    kept = [
        pl.when(
            (v.str.len_bytes() > 0) & ~v.str.to_uppercase().is_in(["NOTPROVIDED", "NONREF"])
        ).then(v)
        for v in (svwz, kref, abwa)
    ]
    remit = (
        pl.when(svwz.str.len_bytes() > 0)
        .then(pl.concat_str(kept, separator=" ", ignore_nulls=True))
        .otherwise("remit")
    )
    return frame.select(
        "n",
        "code_86",
        "name_86",
        pl.coalesce(
            "iban_86", _text_or_null(sepa_iban.str.replace_all(" ", "", literal=True))
        ).alias("iban_86"),
        end_to_end_id=pl.when(
            (eref.str.len_bytes() > 0) & (eref.str.to_uppercase() != "NOTPROVIDED")
        ).then(eref),
        remittance_unstructured=_text_or_null(remit),
        rows_86=pl.col("odd_code") | pl.col("odd_key").fill_null(False),
    )


def _free(text: pl.Expr) -> pl.Expr:
    """Free text: words joined by single spaces."""
    return _text_or_null(_strip(text.str.replace_all(f"{_WS}+", " ")))


_GERMAN = {
    "code_86": pl.String,
    "name_86": pl.String,
    "iban_86": pl.String,
    "end_to_end_id": pl.String,
    "remittance_unstructured": pl.String,
    "rows_86": pl.Boolean,
}


def _information(frame: pl.DataFrame, crlf: bool) -> pl.DataFrame:
    """Read the :86: texts (column `i`, ":86:" included, null where an entry has none) in their
    dialect: Dutch tags and free text in place, German subfields apart then joined back."""
    # German when it opens with subfields, or has ?2x within its first 40 characters.
    candidate = pl.col("i").str.contains(r"[?>]\d{2}")
    i = pl.when(candidate).then("i")
    head = i.str.slice(4, 80)
    if crlf:
        head = head.str.replace_all("\r\n", "\n", literal=True)
    german = (
        i.str.contains(f"^:86:{_GERMAN_START}") | head.str.slice(0, 40).str.contains(r"\?2\d")
    ).fill_null(False)
    i = pl.col("i")
    flat = pl.col("flat")
    frame = (
        frame.lazy()
        .with_columns(flat=i.str.slice(4).str.replace_all("[\r\n]", ""), german=german)
        .with_columns(dutch=~pl.col("german") & flat.str.contains(_DUTCH_ANY))
        .collect(engine="streaming")
    )
    german_rows = frame.select(pl.col("german").sum()).item()
    free = i.is_not_null() & ~pl.col("german") & ~pl.col("dutch")
    frame = _dutch(frame.lazy(), pl.when("dutch").then(flat)).with_columns(
        remittance_unstructured=pl.coalesce(
            "remittance_unstructured", _free(pl.when(free).then(i.str.slice(4)))
        )
    )
    frame = frame.collect(engine="streaming")
    if german_rows:
        read = _german(
            frame.lazy().with_row_index("n").filter("german").select("n", "flat", t=i.str.slice(4))
        ).collect()
        frame = frame.with_row_index("n").join(
            read.select("n", *(pl.col(c).alias(f"{c}_de") for c in _GERMAN)),
            on="n",
            how="left",
            maintain_order="left",
        )
        frame = frame.with_columns(
            pl.when("german").then(f"{c}_de").otherwise(c if c != "code_86" else None).alias(c)
            for c in _GERMAN
        )
    else:
        frame = frame.with_columns(code_86=pl.lit(None, pl.String))
    return frame


def read_entries(entries: pl.DataFrame, crlf: bool) -> pl.DataFrame:
    """Columns of the entries: `e` their :61: text, `i` their :86: text or null (field texts as
    `Fields.texts` gives them). Adds the STATEMENT_LINE columns it can read (amount in cents),
    `rows` (read this entry with the row reader) and `exact` (not whole cents)."""
    frame = _information(_entry_columns(entries.lazy()).collect(engine="streaming"), crlf)
    return frame.with_columns(
        counterparty_name=pl.coalesce("name_86", "name_61"),
        counterparty_iban=pl.coalesce("iban_86", "iban_61"),
        bank_tx_code=pl.coalesce("bank_tx_code", "code_86"),
        rows=pl.col("rows") | pl.col("rows_86").fill_null(False),
        detail_index=pl.lit(0, pl.Int32),
        external_id=pl.lit(None, pl.String),
        remittance_documents=pl.lit(None, REMITTANCE_DOCUMENTS),
    )
