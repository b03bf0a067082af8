"""Reading the dunning policy file, and the day count its delays use.

The shipped policy.yaml sits beside this module; O2C_DUNNING_POLICY names a company's own file
(a whole policy, not a patch: one file says everything that is sent). Any mistake, YAML or
policy, is one error naming the file and the line, found through the YAML node marks, because
the person who reads it is editing that file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import polars as pl
import yaml
from pydantic import ValidationError

from o2c.models.dunning_policy import AT, Calendar, DunningPolicy

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")
POLICY_ENV = "O2C_DUNNING_POLICY"


class PolicyError(ValueError):
    """A policy file that cannot be used, with the file and line in the message."""


def policy_path(path: Path | str | None = None) -> Path:
    """`path`, else the file O2C_DUNNING_POLICY names, else the shipped default."""
    if path:
        return Path(path)
    chosen = os.environ.get(POLICY_ENV, "").strip()
    return Path(chosen) if chosen else DEFAULT_POLICY_FILE


def load_policy(path: Path | str | None = None) -> DunningPolicy:
    """The policy in `path` (see policy_path), checked; PolicyError names the line at fault."""
    source = policy_path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{source}: dunning policy file not found ({POLICY_ENV})") from None
    return parse_policy(text, source)


def parse_policy(text: str, source: Path | str = "<policy>") -> DunningPolicy:
    """The policy written in `text`; `source` only names it in errors."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else str(source)
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(f"{where}: not valid YAML ({problem})") from None
    if node is None:
        raise PolicyError(f"{source}: the policy file is empty")
    lines: dict[tuple, int] = {}
    _index(node, (), lines, source)
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise PolicyError(f"{source}:{node.start_mark.line + 1}: the policy must be a mapping")
    try:
        return DunningPolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_describe(exc, lines, source)) from None


def _index(node: yaml.Node, path: tuple, lines: dict[tuple, int], source: Path | str) -> None:
    """Line (1-based) of every key and item under `node`, by its path; duplicate keys refused
    (YAML keeps the last silently, and the user meant one of them)."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key, value in node.value:
            name = key.value
            line = key.start_mark.line + 1
            if name in seen:
                raise PolicyError(
                    f"{source}:{line}: key {name!r} repeated (first on line {seen[name]})"
                )
            seen[name] = line
            _index(value, (*path, name), lines, source)
            lines[(*path, name)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines, source)


def _describe(exc: ValidationError, lines: dict[tuple, int], source: Path | str) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if message.startswith(AT):
            below, _, message = message[len(AT) :].partition(": ")
            loc = (*loc, *(int(p) if p.isdigit() else p for p in below.split(".")))
        found = next(loc[:n] for n in range(len(loc), -1, -1) if loc[:n] in lines)
        field = ".".join(str(p) for p in loc) or "(top)"
        problems.append(f"{source}:{lines[found]}: {field}: {message}")
    return "; ".join(problems)


@cache
def _holidays(country: str, subdivision: str | None, years: tuple[int, ...]) -> tuple[date, ...]:
    import holidays

    return tuple(sorted(holidays.country_holidays(country, subdiv=subdivision, years=years)))


def holidays_between(calendar: Calendar, first: date, last: date) -> list[date]:
    """Public holidays of the calendar's country from `first` to `last` (both years whole)."""
    if not calendar.business_days:
        return []
    years = tuple(range(min(first, last).year - 1, max(first, last).year + 2))
    return list(_holidays(calendar.country, calendar.subdivision, years))


def elapsed_days(calendar: Calendar, start: pl.Expr, end: pl.Expr, span: Iterable[date]) -> pl.Expr:
    """Days after `start` up to and including `end`, in the calendar's count (negative when
    `end` is before `start`): a due date of Friday seen on Monday is 1 business day late.
    `span` bounds the dates involved, to know which years' holidays to load."""
    if not calendar.business_days:
        return (end - start).dt.total_days().cast(pl.Int32)
    days = list(span)
    first, last = min(days), max(days)
    off = holidays_between(calendar, first, last)
    # Each date as the business days from a fixed day before it, so that one count per date
    # serves both directions: (start, end] forward, minus (end, start] backward.
    epoch = pl.lit(date(first.year - 1, 1, 1))
    one = timedelta(days=1)

    def rank(day: pl.Expr) -> pl.Expr:
        return pl.business_day_count(epoch, day + one, holidays=off)

    return (rank(end) - rank(start)).cast(pl.Int32)


def business_days_between(calendar: Calendar, start: date, end: date) -> int:
    """elapsed_days for two single dates."""
    frame = pl.DataFrame({"s": [start], "e": [end]})
    return int(frame.select(elapsed_days(calendar, pl.col("s"), pl.col("e"), [start, end]))[0, 0])


def check_fresh_data(policy: DunningPolicy, as_of: date, last_bank_load: date | None) -> None:
    """Refuse to dun on stale bank data: a customer who paid since would be reminded."""
    if last_bank_load is None:
        raise PolicyError("no bank statement was ever loaded: dunning needs what was paid")
    age = business_days_between(policy.calendar, last_bank_load, as_of)
    if age > policy.fresh_data_business_days:
        raise PolicyError(
            f"the last bank load ({last_bank_load}) is {age} business days older than "
            f"{as_of}; the policy allows {policy.fresh_data_business_days} "
            "(fresh_data_business_days): load today's statements first"
        )
