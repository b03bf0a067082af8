"""The company's language and the words o2c writes in it: one place for reports and letters.

- `company_language()` reads O2C_LANGUAGE (fr or en, default fr): artifacts, reports and any
  letter to a customer whose language is unknown are written in it. Nothing else reads it.
- `language_for(customer)` is the language of one customer's letter: theirs, else the company's.
- `label(key, lang)` is a word or sentence from the catalog, templates/labels/<lang>.toml (plain
  TOML a company can edit; O2C_LABELS_DIR names a folder of its own fr.toml / en.toml whose keys
  replace the shipped ones, key by key). A key missing in French falls back to English.
- Money, dates, counts and percentages are formatted by tasks/common/formatting.py, the one
  formatter, re-exported here so a caller needs one import: `format_money(cents, "EUR", lang,
  symbol=True)` in a letter ("1 234,56 €" / "€1,234.56"), ISO codes in reports.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import cast

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

import o2c.templates
from o2c.tasks.common.formatting import (
    MISSING,
    Lang,
    format_count,
    format_date,
    format_days,
    format_money,
    format_number,
    format_percent,
)

__all__ = [
    "FALLBACK",
    "LABELS_DIR",
    "LANGUAGES",
    "MISSING",
    "Labels",
    "Lang",
    "LanguageSettings",
    "catalog",
    "company_language",
    "format_count",
    "format_date",
    "format_days",
    "format_money",
    "format_number",
    "format_percent",
    "label",
    "language_for",
    "normalise",
]

LANGUAGES: tuple[Lang, ...] = ("fr", "en")
FALLBACK: Lang = "en"  # what a key missing from a catalog is taken from
LABELS_DIR = Path(o2c.templates.__file__).parent / "labels"
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def normalise(lang: str | None) -> Lang | None:
    """'fr', 'FR', 'fr-FR', 'en_GB' -> 'fr' / 'en'; anything else (or nothing) -> None."""
    code = (lang or "").strip().replace("_", "-").split("-")[0].lower()
    return cast(Lang, code) if code in LANGUAGES else None


class LanguageSettings(BaseSettings):
    """O2C_LANGUAGE: the company's language; O2C_LABELS_DIR: its own label catalogs."""

    model_config = SettingsConfigDict(env_prefix="O2C_", extra="ignore", frozen=True)

    language: Lang = "fr"
    labels_dir: Path | None = Field(default=None)

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: object) -> str:
        code = normalise(str(value)) if value is not None else None
        if code is None:
            raise ValueError(f"O2C_LANGUAGE={value!r}: o2c writes 'fr' or 'en'")
        return code


def company_language() -> Lang:
    """The company's language (O2C_LANGUAGE, default fr), read here and nowhere else."""
    return LanguageSettings().language


def language_for(customer_language: str | None, default: Lang | None = None) -> Lang:
    """A customer's letter is in the customer's language, not the sender's (OCA PR #571); one
    o2c cannot write (or none on file) gives the company's."""
    return normalise(customer_language) or default or company_language()


def _flatten(table: dict, where: Path, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, where, f"{name}."))
        elif isinstance(value, str):
            out[name] = value
        else:
            raise ValueError(f"{where}: label {name!r} is {type(value).__name__}, not text")
    return out


@lru_cache(maxsize=16)
def _read(path: Path, mtime_ns: int) -> dict[str, str]:
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:  # its message names the line and column
        raise ValueError(f"{path}: {err}") from err
    return _flatten(table, path)


def read_catalog(path: Path) -> dict[str, str]:
    """One catalog file as {dotted.key: text}; re-read when the file changes."""
    return _read(path, path.stat().st_mtime_ns)


def catalog_files(lang: Lang, settings: LanguageSettings | None = None) -> list[Path]:
    """The files a language's labels come from, shipped first, the company's after."""
    settings = settings or LanguageSettings()
    files = [LABELS_DIR / f"{lang}.toml"]
    if settings.labels_dir is not None:
        own = settings.labels_dir / f"{lang}.toml"
        if own.is_file():
            files.append(own)
    return files


def catalog(lang: str, settings: LanguageSettings | None = None) -> dict[str, str]:
    """Every label of a language: English underneath, then the language, then the company's."""
    code = normalise(lang)
    if code is None:
        raise ValueError(f"language {lang!r}: o2c writes 'fr' or 'en'")
    files = tuple(
        f for each in dict.fromkeys((FALLBACK, code)) for f in catalog_files(each, settings)
    )
    return dict(_merged(tuple((f, f.stat().st_mtime_ns) for f in files)))


@lru_cache(maxsize=16)
def _merged(files: tuple[tuple[Path, int], ...]) -> tuple[tuple[str, str], ...]:
    words: dict[str, str] = {}
    for path, mtime_ns in files:
        words.update(_read(path, mtime_ns))
    return tuple(words.items())


class Labels:
    """A language's catalog read once: `words = Labels("fr")`, then `words("dunning.x", n=3)`.
    What a template or a report calls for each label (label() re-reads the settings each time)."""

    def __init__(self, lang: str | None = None, settings: LanguageSettings | None = None):
        self.lang = normalise(lang) or company_language()
        self.words = catalog(self.lang, settings)

    def __call__(self, key: str, /, **values: object) -> str:
        if key not in self.words:
            raise KeyError(f"label {key!r} is in no catalog ({LABELS_DIR}/{FALLBACK}.toml)")

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise KeyError(f"label {key!r} needs a value for {{{name}}}")
            return str(values[name])

        return _PLACEHOLDER.sub(fill, self.words[key])


def label(key: str, lang: str | None = None, /, **values: object) -> str:
    """The text of `key` in `lang` (default: the company's), `{name}` placeholders filled.

    Only plain `{name}` placeholders are filled (no attribute or index access), so a label a
    company edits cannot reach into the values; a value is inserted as text, never re-read.
    """
    return Labels(lang)(key, **values)
