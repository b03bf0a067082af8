"""SWIFT MT940 customer statements, as the banks really write them.

A file may hold several messages (each `:20:` starts a statement), wrapped in SWIFT blocks
(`{1:..}{2:..}{4:` ... `-}`) or not, with SOH/ETX control bytes (mBank) and in a legacy code page
(UTF-8 tried first, then cp1252, then latin-1, which reads any byte).

`:61:` is value date, optional entry (booking) date, mark C/D/RC/RD (RC, a reversed credit, is a
debit; RD a credit) with an optional funds code, amount with a decimal comma, type code, customer
reference, `//` bank reference, and supplementary details on the next line.

`:86:` comes in four dialects, told apart by their look: German/Polish structured `?20..?63`
subfields after a three-digit transaction code (remittance ?20-?29 and ?60-?63, name ?32-?33, IBAN
?31 or ?38), the same with `>` separators (Triodos), Dutch `/EREF/ /REMI/ /NAME/ /IBAN/ /CNTP/`
tags (ING, Rabobank: /ORDP/ names the ordering party, /CDTRREF/ the creditor reference), and
free text. German SEPA keys: EREF+ the end-to-end id, SVWZ+ the text, followed by KREF+ (the
payer's reference) and ABWA+ (the ultimate debtor) so that matching sees them; IBAN+ when no
?31/?38 gives the account. Subfields and tags are wrapped at 65 columns mid-word, so
their continuation lines are joined without a separator; free text is joined with spaces.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import polars as pl

from o2c.models.bank import Statement, StatementLine, lines_table
from o2c.models.bounds import amount_problem
from o2c.models.schemas import STATEMENT_LINE
from o2c.tasks.bank.statements.errors import StatementError
from o2c.tasks.bank.statements.mt940_columns import (
    DUTCH_TAGS,
    SEPA_KEYS,
    Fields,
    cut_fields,
    read_entries,
)

_BALANCE = re.compile(r"^([CD])(\d{6})([A-Z]{3})(\d[\d,]*)$")
_LINE61 = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|EC|ED|C|D)(?P<funds>[A-Z])?"
    r"(?P<amount>\d[\d]*,\d*)(?P<rest>.*)$"
)
_TYPE = re.compile(r"^([NSF][A-Z0-9]{3})(.*)$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$")
_SUBFIELD_START = re.compile(r"^\s*(\d{3})?\s*([?>])\d{2}")
_IBAN_LIKE = r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$"
_TAG_SPLIT = re.compile(rf"/({'|'.join(DUTCH_TAGS)})/")
_SEPA_KEYS = re.compile(rf"({'|'.join(SEPA_KEYS)})\+")


def _amount(raw: str, file: Path, place: str) -> Decimal:
    try:
        return Decimal(raw.replace(",", "."))
    except InvalidOperation as exc:
        raise StatementError(file, place, f"bad amount {raw!r}") from exc


def _date6(raw: str, file: Path, place: str) -> date:
    try:
        return date(2000 + int(raw[0:2]), int(raw[2:4]), int(raw[4:6]))
    except ValueError as exc:
        raise StatementError(file, place, f"bad date {raw!r}") from exc


def _balance(value: str, file: Path, place: str) -> tuple[Decimal, str, date]:
    first = value.strip().split("\n", 1)[0].strip()
    match = _BALANCE.match(first)
    if not match:
        raise StatementError(file, place, f"bad balance {first!r}")
    amount = _amount(match[4], file, place)
    return (amount if match[1] == "C" else -amount), match[3], _date6(match[2], file, place)


def _statement_line(value: str, currency: str | None, file: Path, place: str) -> StatementLine:
    first, _, supplementary = value.partition("\n")
    match = _LINE61.match(first.strip())
    if not match:
        raise StatementError(file, place, f"bad :61: line {first.strip()!r}")
    value_date = _date6(match["value"], file, place)
    booking = value_date
    if match["entry"]:
        month, day = int(match["entry"][:2]), int(match["entry"][2:])
        year = value_date.year
        if value_date.month == 12 and month == 1:
            year += 1
        elif value_date.month == 1 and month == 12:
            year -= 1
        try:
            booking = date(year, month, day)
        except ValueError as exc:
            raise StatementError(file, place, f"bad entry date {match['entry']!r}") from exc
    amount = _amount(match["amount"], file, place)
    mark = match["mark"]
    signed = amount if mark in ("C", "RD", "EC") else -amount
    rest = match["rest"]
    code = None
    if not rest.startswith("NONREF"):
        typed = _TYPE.match(rest)
        if typed:
            code, rest = typed[1], typed[2]
    bank_ref = None
    if "//" in rest:
        rest, bank_ref = rest.split("//", 1)
        bank_ref = bank_ref.strip() or None
    supp = " ".join(s.strip() for s in supplementary.split("\n") if s.strip())
    line = StatementLine(
        booking_date=booking,
        amount=signed,
        currency=currency or "",
        value_date=value_date,
        bank_reference=bank_ref,
        bank_tx_code=code,
        is_reversal=mark in ("RC", "RD"),
    )
    if supp and _IBAN.match(supp.replace(" ", "")):
        line.counterparty_iban = supp.replace(" ", "")
    elif supp and not supp.startswith("/"):
        line.counterparty_name = supp
    return line


def _none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().strip("/").strip()
    return value or None


def _apply_subfields(line: StatementLine, text: str, sep: str) -> None:
    """German ?20-?29 style (or Triodos '>'): remittance, name, IBAN, SEPA keys."""
    flat = text.replace("\n", "")
    head, *parts = re.split(rf"\{sep}(\d{{2}})" if sep == "?" else rf"{sep}(\d{{2}})", flat)
    fields: dict[int, list[str]] = {}
    for key, val in zip(parts[::2], parts[1::2], strict=False):
        fields.setdefault(int(key), []).append(val)
    gvc = head.strip()[:3]
    if gvc.isdigit() and not line.bank_tx_code:
        line.bank_tx_code = gvc
    remit = "".join(v for k in [*range(20, 30), *range(60, 64)] for v in fields.get(k, [])).strip()
    name = "".join(v for k in (32, 33) for v in fields.get(k, [])).strip()
    iban = "".join(fields.get(38, []) or fields.get(31, [])).strip().replace(" ", "")
    if _SEPA_KEYS.search(remit):
        keyed = _sepa_keys(remit)
        if keyed.get("EREF") and keyed["EREF"].upper() != "NOTPROVIDED":
            line.end_to_end_id = keyed["EREF"]
        if keyed.get("SVWZ"):
            # The payer's own reference (KREF+) and the ultimate debtor (ABWA+) stay in the
            # text: matching looks for invoice numbers and names there.
            kept = [keyed["SVWZ"], *(keyed.get(k) for k in ("KREF", "ABWA"))]
            remit = " ".join(v for v in kept if v and v.upper() not in _NO_REFERENCE)
        iban = iban or keyed.get("IBAN", "").replace(" ", "")
    line.remittance_unstructured = remit or line.remittance_unstructured
    if name:
        line.counterparty_name = " ".join(name.split())
    if iban:
        line.counterparty_iban = iban


_NO_REFERENCE = ("NOTPROVIDED", "NONREF")


def _sepa_keys(text: str) -> dict[str, str]:
    pieces = _SEPA_KEYS.split(text)
    keyed = {}
    for key, val in zip(pieces[1::2], pieces[2::2], strict=False):
        keyed[key] = val.strip()
    return keyed


def _apply_tags(line: StatementLine, text: str) -> None:
    """Dutch /TAG/value style: /EREF/ /REMI/ /NAME/ /IBAN/ /CNTP/iban/bic/name/city/; French and
    Spanish banks write the ordering party as /ORDP//NAME/name/ACCT/iban."""
    flat = text.replace("\n", "")
    pieces = _TAG_SPLIT.split(flat)
    tags: dict[str, str] = {}
    for key, val in zip(pieces[1::2], pieces[2::2], strict=False):
        tags.setdefault(key, val)
    eref = _none(tags.get("EREF"))
    if eref and eref.upper() != "NOTPROVIDED":
        line.end_to_end_id = eref
    cntp = tags["CNTP"].split("/") if "CNTP" in tags else []
    if cntp and _none(cntp[0]):
        line.counterparty_iban = _none(cntp[0])
    # /NAME/, else the name in /CNTP/, else the ordering party (/ORDP/name/; ING writes
    # /ORDP//NAME/name/, which /NAME/ reads)
    name = (
        _none(tags.get("NAME"))
        or (_none(cntp[2]) if len(cntp) > 2 else None)
        or _none(tags.get("ORDP", "").split("/")[0])
    )
    if name:
        line.counterparty_name = name
    if _none(tags.get("IBAN")):
        line.counterparty_iban = _none(tags["IBAN"])
    # French and Spanish banks' SWIFT-like party: /ORDP//NAME/name/ACCT/iban.
    acct = (_none(tags.get("ACCT")) or "").replace(" ", "").upper()
    if not line.counterparty_iban and re.match(_IBAN_LIKE, acct):
        line.counterparty_iban = acct
    remi = tags.get("REMI")
    if remi is not None:
        remi = remi.strip("/")
        if remi.startswith("USTD//"):
            line.remittance_unstructured = _none(remi[6:])
        elif remi.startswith("STRD/"):
            line.remittance_structured = _none(remi.rsplit("/", 1)[-1] or remi[5:])
            if line.remittance_structured is None:
                parts = [p for p in remi.split("/") if p]
                line.remittance_structured = parts[-1] if parts else None
        else:
            line.remittance_unstructured = _none(remi)
    if line.remittance_structured is None and _none(tags.get("CDTRREF")):
        line.remittance_structured = _none(tags["CDTRREF"])  # Rabobank: /CDTRREF/RF.../


def apply_information(line: StatementLine, text: str) -> None:
    """Read one :86: field into the line it follows."""
    if _SUBFIELD_START.match(text) or re.search(r"\?2\d", text[:40]):
        _apply_subfields(line, text, ">" if re.match(r"^\s*\d{0,3}\s*>", text) else "?")
    elif _TAG_SPLIT.search(text.replace("\n", "")):
        _apply_tags(line, text)
    else:
        free = " ".join(text.split())
        line.remittance_unstructured = free or None


def parse_mt940(path: Path, raw: bytes) -> list[Statement]:
    """All statements of an MT940 file, in file order, their lines as a table (cents).

    An amount below the cent or beyond the bound (models/bounds.py) refuses the file, naming
    the line of its :61: field. Errors name the line of the first field in error.
    """
    fields = cut_fields(raw)
    if not len(fields):
        raise StatementError(path, None, "no MT940 field found")
    frame = _Framing(path, fields)
    entries = _Entries(path, fields, frame)
    errors = frame.errors + entries.errors
    if errors:
        raise min(errors, key=lambda error: error[0])[1]
    entries.fill(frame.statements)
    for number, controls in frame.controls.items():
        check_controls(path, frame.statements[number], controls)
    return frame.statements


def check_controls(
    path: Path, statement: Statement, controls: dict[str, tuple[int, Decimal, str]]
) -> None:
    """An MT942 has no balances to check: its :90D:/:90C: count and sum of the debit and credit
    entries must be what its lines hold (StatementError at the field otherwise)."""
    if statement.table is not None:
        cents = statement.table["amount_cents"].to_list()
        amounts = [Decimal(c).scaleb(-2) for c in cents]
    else:
        amounts = [line.amount for line in statement.lines]
    for mark, (count, total, place) in sorted(controls.items()):
        side = [abs(a) for a in amounts if (a < 0) == (mark == "D")]
        held = sum(side, Decimal(0))
        if len(side) != count or held != total:
            kind = "debit" if mark == "D" else "credit"
            raise StatementError(
                path,
                place,
                f"{count} {kind} entries for {total} announced, the statement holds "
                f"{len(side)} for {held}",
            )


def _place(fields: Fields, i: int) -> str:
    return f"line {fields.line[i]} (:{fields.tag(i)}:)"


_CODE_61, _CODE_86 = 61 << 8, 86 << 8
_STARTS = 20 << 8
_CONTROLS = ((90 << 8) + ord("D"), (90 << 8) + ord("C"))
_FRAMING = {
    (13 << 8): "13D",
    (13 << 8) + ord("D"): "13D",
    (25 << 8): "25",
    (34 << 8) + ord("F"): "34F",
    (90 << 8) + ord("D"): "90D",
    (90 << 8) + ord("C"): "90C",
    (28 << 8): "28",
    (28 << 8) + ord("C"): "28C",
    (60 << 8) + ord("F"): "60F",
    (60 << 8) + ord("M"): "60M",
    (62 << 8) + ord("F"): "62F",
    (62 << 8) + ord("M"): "62M",
}


class _Framing:
    """The statements and what frames their entries (:20: :25: :28C: :60a: :62a:), read in
    Python: a few fields per statement. Records the currency and reference each field leaves."""

    def __init__(self, path: Path, fields: Fields) -> None:
        code = fields.code
        starts = code == _STARTS
        starts[0] = True  # the first field opens a statement whatever its tag
        self.statement_of = np.cumsum(starts) - 1
        self.fields = np.flatnonzero(starts | np.isin(code, list(_FRAMING)))
        self.statements: list[Statement] = []
        self.errors: list[tuple[int, StatementError]] = []
        self.currency: list[str | None] = []
        self.reference: list[str | None] = []
        # MT942's :90D:/:90C: by statement: mark -> (count, sum, place)
        self.controls: dict[int, dict[str, tuple[int, Decimal, str]]] = {}
        for i in self.fields.tolist():
            value = fields.value(i)
            if starts[i]:
                self.statements.append(
                    Statement(
                        format="mt940",
                        account_iban=None,
                        currency=None,
                        statement_ref=value.strip() or None,
                        from_date=None,
                        to_date=None,
                        opening_balance=None,
                        closing_balance=None,
                        entries_total=Decimal(0),
                    )
                )
            current = self.statements[-1]
            tag = _FRAMING.get(int(code[i]))
            try:
                if tag in ("90D", "90C"):
                    count, total = _control(value, path, _place(fields, i))
                    controls = self.controls.setdefault(len(self.statements) - 1, {})
                    controls[tag[2]] = (count, total, _place(fields, i))
                _framing_field(current, tag, value, path, _place(fields, i))
            except StatementError as exc:
                self.errors.append((i, exc))
            self.currency.append(current.currency)
            self.reference.append(current.statement_ref)


_FLOOR = re.compile(r"^([A-Z]{3})[DC]?(\d[\d,]*)$")
_CONTROL = re.compile(r"^(\d{1,5})([A-Z]{3})(\d[\d,]*)$")
_DATE_TIME = re.compile(r"^(\d{6})(\d{4})?([+-]\d{4})?$")


def _control(value: str, path: Path, place: str) -> tuple[int, Decimal]:
    """MT942 :90D:/:90C:: number of debit/credit entries, currency, sum."""
    first = value.strip().split("\n", 1)[0].strip()
    match = _CONTROL.match(first)
    if not match:
        raise StatementError(path, place, f"bad entry count and sum {first!r}")
    return int(match[1]), _amount(match[3], path, place)


def _framing_field(current: Statement, tag: str | None, value: str, path: Path, place: str) -> None:
    first = value.strip().split("\n", 1)[0].strip()
    if tag == "13D":  # MT942: when the report was made
        match = _DATE_TIME.match(first)
        if not match:
            raise StatementError(path, place, f"bad date and time {first!r}")
        current.format = "mt942"
        current.to_date = _date6(match[1], path, place)
    elif tag == "34F":  # MT942 floor limit: what it gives is the currency
        match = _FLOOR.match(first)
        if not match:
            raise StatementError(path, place, f"bad floor limit {first!r}")
        current.format = "mt942"
        current.currency = current.currency or match[1]
    elif tag in ("90D", "90C"):
        current.format = "mt942"
        currency = _CONTROL.match(first)
        current.currency = current.currency or (currency[2] if currency else None)
    elif tag == "25":
        account = value.strip().split("\n")[0].strip()
        # "NL34RABO0142623393 EUR" / "NL77INGB0574908765EUR": the currency is not the account.
        parts = account.split()
        account = parts[0] if parts else account
        if len(account) > 3 and account[-3:].isalpha() and _IBAN.match(account[:-3]):
            account = account[:-3]
        current.account_iban = account
    elif tag in ("28C", "28"):
        seq = value.strip().split("\n-", 1)[0].replace("\n", "").strip()
        if seq and current.statement_ref:
            current.statement_ref = f"{current.statement_ref}/{seq}"
    elif tag in ("60F", "60M"):
        amount, ccy, when = _balance(value, path, place)
        current.opening_balance, current.currency, current.from_date = amount, ccy, when
    elif tag in ("62F", "62M"):
        amount, ccy, when = _balance(value, path, place)
        current.closing_balance, current.to_date = amount, when
        current.currency = current.currency or ccy


class _Entries:
    """The :61: fields with the :86: that follows each, read as columns (mt940_columns); the
    entries of unusual shape through the row reader (`_statement_line`, `apply_information`)."""

    def __init__(self, path: Path, fields: Fields, frame: _Framing) -> None:
        self.path, self.fields = path, fields
        code = fields.code
        self.at = np.flatnonzero(code == _CODE_61)
        self.statement = frame.statement_of[self.at]
        # A :86: belongs to the :61: just before it in its statement, if no :86: came between.
        # (An MT942's :90D:/:90C: ends its entries: an :86: after them is about the report.)
        pair = np.flatnonzero(np.isin(code, [_CODE_61, _CODE_86, *_CONTROLS]))
        follows = (
            (code[pair[1:]] == _CODE_86)
            & (code[pair[:-1]] == _CODE_61)
            & (frame.statement_of[pair[1:]] == frame.statement_of[pair[:-1]])
        )
        self.info = np.full(len(self.at), -1, np.int64)
        self.info[np.searchsorted(self.at, pair[:-1][follows])] = pair[1:][follows]
        # currency and statement reference as they stand when the entry is read
        state = np.searchsorted(frame.fields, self.at, side="right") - 1
        self.currency = pl.Series(frame.currency, dtype=pl.String).gather(state)
        reference = pl.Series(frame.reference, dtype=pl.String).gather(state)
        first = np.searchsorted(self.statement, self.statement, side="left")
        number = np.arange(len(self.at)) - first + 1
        self.number = number
        has_info = self.info >= 0
        self.table = read_entries(
            pl.DataFrame(
                {
                    "e": fields.texts(self.at),
                    "i": fields.texts(np.where(has_info, self.info, 0)),
                    "has_info": has_info,
                }
            ).with_columns(i=pl.when("has_info").then("i")),
            fields.crlf,
        ).with_columns(
            rows=pl.col("rows")
            | pl.Series(~fields.regular[self.at])
            | pl.Series(has_info & ~fields.regular[np.maximum(self.info, 0)]),
            currency=self.currency,
            entry_ref=pl.concat_str(
                reference.fill_null(""), pl.lit("#"), pl.Series(number).cast(pl.String)
            ),
            statement=pl.Series(self.statement),
            k=pl.int_range(pl.len()),
        )
        self.errors: list[tuple[int, StatementError]] = []
        no_currency = self.table.filter(~pl.col("rows") & pl.col("currency").is_null())
        if no_currency.height:
            i = int(self.at[no_currency["k"][0]])
            self.errors.append((i, self._no_currency(i)))
        self.lines: dict[int, StatementLine] = {}  # entries read by the row reader, by position
        for k in self.table.filter("rows")["k"].to_list():
            self._read_row(k)

    def _no_currency(self, i: int) -> StatementError:
        return StatementError(
            self.path, _place(self.fields, i), "entry before any balance gives its currency"
        )

    def _read_row(self, k: int) -> StatementLine | None:
        if k in self.lines:
            return self.lines[k]
        i = int(self.at[k])
        place = _place(self.fields, i)
        currency = self.currency[k]
        try:
            line = _statement_line(self.fields.value(i), currency, self.path, place)
        except StatementError as exc:
            self.errors.append((i, exc))
            return None
        if not line.currency:
            self.errors.append((i, self._no_currency(i)))
            return None
        if self.info[k] >= 0:
            apply_information(line, self.fields.value(int(self.info[k])))
        line.entry_ref = self.table["entry_ref"][k]
        self.lines[k] = line
        return line

    def fill(self, statements: list[Statement]) -> None:
        """Give each statement its lines, entry count and total, and dates when unframed."""
        table = self.table
        exact = set(table.filter(~pl.col("rows") & pl.col("exact"))["statement"].to_list())
        for k, line in self.lines.items():
            if not _whole_cents(line.amount):
                exact.add(int(self.statement[k]))
        columnar = table.filter(~pl.col("rows") & ~pl.col("statement").is_in(list(exact)))
        by_rows = [k for k in self.lines if int(self.statement[k]) not in exact]
        if by_rows:
            rows = lines_table([self.lines[k] for k in by_rows]).with_columns(
                statement=pl.Series(self.statement[by_rows]), k=pl.Series(by_rows)
            )
            columnar = pl.concat(
                [columnar.select(*STATEMENT_LINE, "statement", "k"), rows], how="vertical"
            ).sort("k")
        columnar = columnar.select(*STATEMENT_LINE, "statement")
        bounds = np.searchsorted(
            columnar["statement"].to_numpy(), np.arange(len(statements) + 1), side="left"
        )
        sums = dict(
            columnar.group_by("statement")
            .agg(
                pl.col("amount_cents").sum(),
                pl.len(),
                pl.col("booking_date").min().alias("a"),
                pl.col("booking_date").max().alias("b"),
            )
            .select("statement", pl.struct("amount_cents", "len", "a", "b"))
            .iter_rows()
        )
        lines = columnar.drop("statement")
        for n, st in enumerate(statements):
            if n in exact:
                ks = np.flatnonzero(self.statement == n).tolist()
                rows = [self._read_row(k) for k in ks]
                for k, row in zip(ks, rows, strict=True):
                    problem = row is not None and amount_problem(row.amount)
                    if problem:  # the parser refuses it, naming the field's line
                        place = f"{_place(self.fields, int(self.at[k]))}, amount"
                        raise StatementError(self.path, place, problem)
                st.lines = rows
                st.entry_count = len(rows)
                st.entries_total = sum((x.amount for x in rows), Decimal(0))
                dates = [x.booking_date for x in rows]
            else:
                st.table = lines.slice(int(bounds[n]), int(bounds[n + 1] - bounds[n]))
                cents, count, low, high = sums[n].values() if n in sums else (0, 0, None, None)
                st.entry_count = count
                st.entries_total = Decimal(cents).scaleb(-2)
                dates = [d for d in (low, high) if d is not None]
            if st.from_date is None and dates:
                st.from_date = min(dates)
            if st.to_date is None and dates:
                st.to_date = max(dates)


def _whole_cents(amount: Decimal) -> bool:
    scaled = amount.scaleb(2)
    return scaled == int(scaled) and abs(int(scaled)) < 2**63
