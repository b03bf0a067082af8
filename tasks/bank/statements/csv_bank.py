"""CSV exports of online banking, read through one mapping file per bank (TOML).

A bank's CSV has no standard: the mapping says its delimiter, encoding, decimal separator, date
format, which column holds which field, and how the sign is given (`signed` amounts, `inverted`
amounts where a positive figure is a debit, or separate `debit_credit` columns). Mappings shipped
with o2c live in csv_mappings/; a user adds theirs with the same keys. A CSV carries no balances,
so its statements are not balance-checked. Bad cells are errors naming the line and the column.
"""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from o2c.models.bank import Statement, StatementLine
from o2c.tasks.bank.statements.errors import StatementError

_FIELDS = (
    "booking_date",
    "value_date",
    "amount",
    "debit",
    "credit",
    "currency",
    "account_iban",
    "counterparty_name",
    "counterparty_iban",
    "remittance_unstructured",
    "remittance_structured",
    "end_to_end_id",
    "bank_reference",
    "bank_tx_code",
)
_SIGNS = ("signed", "inverted", "debit_credit")


@dataclass(frozen=True)
class CsvMapping:
    name: str
    columns: dict[str, str]
    delimiter: str = ";"
    encoding: str = "utf-8"
    decimal_separator: str = ","
    thousands_separator: str = ""
    date_format: str = "%d/%m/%Y"
    sign: str = "signed"
    skip_rows: int = 0
    currency: str | None = None
    account_iban: str | None = None
    extra: dict = field(default_factory=dict)


def load_mapping(path: Path) -> CsvMapping:
    """Read and check a mapping file; its errors name the file and the key."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StatementError(path, None, f"unreadable CSV mapping: {exc}") from exc
    return mapping_from_dict(data, str(path))


def mapping_from_dict(data: dict, origin: str = "<mapping>") -> CsvMapping:
    columns = data.get("columns")
    if not isinstance(columns, dict):
        raise StatementError(origin, "[columns]", "mapping has no [columns] table")
    unknown = sorted(set(columns) - set(_FIELDS))
    if unknown:
        raise StatementError(origin, "[columns]", f"unknown field(s) {', '.join(unknown)}")
    sign = data.get("sign", "signed")
    if sign not in _SIGNS:
        raise StatementError(origin, "sign", f"sign must be one of {', '.join(_SIGNS)}")
    needed = ["booking_date"] + (["debit", "credit"] if sign == "debit_credit" else ["amount"])
    missing = [f for f in needed if f not in columns]
    if missing:
        raise StatementError(origin, "[columns]", f"missing column for {', '.join(missing)}")
    if "currency" not in columns and not data.get("currency"):
        raise StatementError(origin, "currency", "give a currency column or a fixed currency")
    return CsvMapping(
        name=str(data.get("name") or Path(origin).stem),
        columns={k: str(v) for k, v in columns.items()},
        delimiter=str(data.get("delimiter", ";")),
        encoding=str(data.get("encoding", "utf-8")),
        decimal_separator=str(data.get("decimal_separator", ",")),
        thousands_separator=str(data.get("thousands_separator", "")),
        date_format=str(data.get("date_format", "%d/%m/%Y")),
        sign=sign,
        skip_rows=int(data.get("skip_rows", 0)),
        currency=data.get("currency"),
        account_iban=data.get("account_iban"),
    )


def bundled_mappings() -> list[CsvMapping]:
    """The mappings shipped in o2c.tasks.bank.statements/csv_mappings."""
    folder = resources.files("o2c.tasks.bank.statements") / "csv_mappings"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            found.append(mapping_from_dict(data, entry.name))
    return found


def _rows(raw: bytes, mapping: CsvMapping) -> list[list[str]]:
    text = raw.decode(mapping.encoding.replace("utf-8", "utf-8-sig"))
    lines = text.splitlines()[mapping.skip_rows :]
    return list(csv.reader(io.StringIO("\n".join(lines)), delimiter=mapping.delimiter))


def header_matches(raw_head: bytes, mapping: CsvMapping) -> bool:
    """Does this file's header row hold every column the mapping names?"""
    try:
        rows = _rows(raw_head, mapping)
    except (UnicodeDecodeError, LookupError, csv.Error):
        return False
    if not rows:
        return False
    header = {h.strip() for h in rows[0]}
    return set(mapping.columns.values()) <= header


def _decimal(raw: str, mapping: CsvMapping, file: Path, place: str) -> Decimal | None:
    raw = raw.strip().replace("\u00a0", "").replace(" ", "")
    if not raw:
        return None
    if mapping.thousands_separator:
        raw = raw.replace(mapping.thousands_separator, "")
    if mapping.decimal_separator != ".":
        raw = raw.replace(mapping.decimal_separator, ".")
    try:
        value = Decimal(raw.replace("+", ""))
    except InvalidOperation as exc:
        raise StatementError(file, place, f"bad amount {raw!r}") from exc
    if not value.is_finite():
        raise StatementError(file, place, f"bad amount {raw!r}")
    return value


def _date(raw: str, mapping: CsvMapping, file: Path, place: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return datetime.strptime(raw, mapping.date_format).date()
    except ValueError as exc:
        raise StatementError(
            file, place, f"bad date {raw!r} (expected {mapping.date_format})"
        ) from exc


def parse_csv(path: Path, raw: bytes, mapping: CsvMapping) -> list[Statement]:
    """One statement per account (and currency) found in the file, lines in file order."""
    try:
        rows = _rows(raw, mapping)
    except (UnicodeDecodeError, LookupError) as exc:
        raise StatementError(path, None, f"cannot decode as {mapping.encoding}: {exc}") from exc
    if not rows:
        raise StatementError(path, None, "empty CSV")
    header = [h.strip() for h in rows[0]]
    index = {}
    for fld, column in mapping.columns.items():
        if column not in header:
            raise StatementError(path, "line 1", f"column {column!r} ({fld}) not in the header")
        index[fld] = header.index(column)
    statements: dict[tuple[str, str], Statement] = {}
    first = mapping.skip_rows + 2
    for number, row in enumerate(rows[1:], start=first):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise StatementError(
                path, f"line {number}", f"{len(row)} cells, header has {len(header)}"
            )

        def cell(fld: str, row: list[str] = row) -> str:
            return row[index[fld]].strip() if fld in index else ""

        def where(fld: str, number: int = number) -> str:
            return f"line {number}, column {mapping.columns[fld]!r}"

        booking = _date(cell("booking_date"), mapping, path, where("booking_date"))
        if booking is None:
            raise StatementError(path, where("booking_date"), "empty booking date")
        if mapping.sign == "debit_credit":
            debit = _decimal(cell("debit"), mapping, path, where("debit")) or Decimal(0)
            credit = _decimal(cell("credit"), mapping, path, where("credit")) or Decimal(0)
            if debit and credit:
                raise StatementError(path, f"line {number}", "both a debit and a credit")
            amount = abs(credit) - abs(debit)
        else:
            value = _decimal(cell("amount"), mapping, path, where("amount"))
            if value is None:
                raise StatementError(path, where("amount"), "empty amount")
            amount = -value if mapping.sign == "inverted" else value
        currency = cell("currency") or mapping.currency or ""
        account = cell("account_iban").replace(" ", "") or mapping.account_iban or path.stem
        line = StatementLine(
            booking_date=booking,
            amount=amount,
            currency=currency,
            value_date=_date(cell("value_date"), mapping, path, where("value_date"))
            if "value_date" in index
            else None,
            counterparty_name=cell("counterparty_name") or None,
            counterparty_iban=cell("counterparty_iban").replace(" ", "") or None,
            remittance_unstructured=cell("remittance_unstructured") or None,
            remittance_structured=cell("remittance_structured") or None,
            end_to_end_id=cell("end_to_end_id") or None,
            bank_reference=cell("bank_reference") or None,
            bank_tx_code=cell("bank_tx_code") or None,
        )
        key = (account, currency)
        st = statements.get(key)
        if st is None:
            st = Statement("csv", account, currency, None, None, None, None, None)
            st.entries_total = Decimal(0)
            statements[key] = st
        st.lines.append(line)
        st.entry_count += 1
        st.entries_total += amount
        line.entry_ref = f"{path.name}:{number}"
    for st in statements.values():
        st.from_date = min(x.booking_date for x in st.lines)
        st.to_date = max(x.booking_date for x in st.lines)
        st.statement_ref = f"{mapping.name}/{st.account_iban}/{st.from_date}/{st.to_date}"
    return list(statements.values())
